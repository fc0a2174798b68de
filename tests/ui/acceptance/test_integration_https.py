"""DICOMweb over https from the Integration tab: an unknown CA is named as such, a missing CA
file says it cannot be used, the right CA file gets the answer. (Replaces the last part of
tests/ui/test_integration_tab.py not already in test_tests_buttons.)"""

from __future__ import annotations

from tests.pki import https_dicomweb, make_pki


def test_dicomweb_over_https_trusts_the_ca_file_given(console, tmp_path):
    pki = make_pki(tmp_path)
    tests = console.choose_nav("Tests")
    console.choose_tab(tests.tabs, "Integration")
    sections = tests.tabs.currentWidget().sections
    console.choose_tab(sections, "DICOMweb")
    web = sections.currentWidget()
    answer = console.find(name="dicomweb-result", parent=web)
    ca_file = console.field_for_label(web, "TLS")

    def run(expected: str) -> str:
        console.click_button("Run", web)
        console.wait_for(lambda: expected in console.text(answer)
                         and console.button("Run", web).isEnabled(), 30, expected,
                         observe=lambda: console.text(answer))
        return console.text(answer)

    with https_dicomweb(pki["good"]) as url:
        console.type_into(console.find(name="dicomweb-url", parent=web), url)
        run("not trusted")
        console.type_into(ca_file, str(tmp_path / "missing.pem"))
        run("cannot be used")
        console.type_into(ca_file, pki["ca"])
        shown = run("PatientID=KB123456")
        assert shown.startswith("OK"), shown
