"""Security assessment journey (issue 19): sweep a site, assess it from the Discovery panel's
Security assessment tab, read the colours and the evidence, open an incident from a finding,
save the signed report, and see the comparison with the previous assessment."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QLineEdit, QPlainTextEdit, QTabWidget

from tests.core.assess.peers import ConfiguredOrthanc
from tests.peers.net import addr, free_port
from tests.ui.acceptance.dialogs import press
from tests.ui.acceptance.gui_thread import besides_known, gui_thread_opens, gui_thread_sql
from tests.ui.acceptance.window import Console

SITE = "Cape Coast Teaching"


def _settings(dialog) -> None:
    assert dialog.title == "Settings"
    dialog.type_into("engineer_name", "Yaw Osei")
    dialog.type_into("organisation", "Central Imaging Services")
    dialog.click("OK")


def _sweep_site(console: Console, panel, peer) -> None:
    console.type_into(console.field_for_label(panel, "Targets"), peer.host)
    console.type_into(panel.ports, str(peer.dicom_port))
    console.type_into(panel.web_ports, str(peer.http_port))
    console.type_into(panel.site, SITE)
    for box in panel.findChildren(QCheckBox):
        if ("DNS-SD" in box.text() or "Guess" in box.text()) and box.isChecked():
            console.click(box)
    console.click_button("Start sweep", panel)
    console.wait_text(panel.status, "Done in", 60)


def test_assess_a_site_make_an_incident_and_sign_the_report(console):
    host = addr(161)
    peer = ConfiguredOrthanc("ORTHANC", host, free_port(host), free_port(host),
                             {"DicomCheckCalledAet": False})
    peer.start()
    try:
        panel = console.choose_nav("Discovery")
        _sweep_site(console, panel, peer)
        tabs = console.find(QTabWidget, parent=panel)
        console.choose_tab(tabs, "Security assessment")
        view = tabs.currentWidget()
        console.type_into(console.field_for_label(view, "Site or targets"), SITE)
        console.click_button("Start assessment", view)
        console.wait_text(view.status, "site score", 90)
        assert "findings" in console.text(view.status)

        nodes = view.nodes
        rows = console.rows(nodes)
        assert rows[0][0] == host and int(rows[0][1]) < 50
        headers = [nodes.horizontalHeaderItem(c).text() for c in range(nodes.columnCount())]
        web = nodes.item(0, headers.index("Web / REST"))
        assert web.text().startswith("critical")  # Orthanc's REST API answers anyone
        assert web.background().color().name() == "#8b0000"
        assert nodes.item(0, headers.index("DICOM access")).text().startswith("high")

        console.click_row(nodes, 0)
        findings = view.findings
        console.wait_for(lambda: console.rows(findings), 5, "the node's findings")
        first = console.rows(findings)[0]
        assert first[0] == "critical"
        console.click_row(findings, 0)
        details = console.find(QPlainTextEdit, parent=view)
        console.wait_text(details, "What to fix", 5)
        console.click_button("Make incident", view)
        console.wait_text(view.status, "opened", 10)
        assert f"on {host}:" in console.text(view.status)
        console.click_button("Make incident", view)  # a second click opens no duplicate
        console.wait_text(view.status, "already open", 10)

        # Signed in the engineer's name: without a profile the view says what is missing.
        with console.dialogs(press("OK")) as seen:
            console.click_button("Save signed report", view)
        assert seen[0].title == "Engineer profile needed"
        console.wait_text(view.status, "profile", 60)
        with console.dialogs(_settings):
            console.menu("File", "Settings…")
        console.wait_for(lambda: "Settings saved." in console.status_text(), 10,
                         "the settings saved", observe=console.status_text)
        with console.dialogs(press("Yes")) as seen:  # the first signing makes the certificate
            console.click_button("Save signed report", view)
        assert seen[0].title == "Create your signing certificate"
        console.wait_text(view.status, "Signed report saved", 120)
        assert "security-assessment-cape-coast-teaching" in console.text(view.status)

        # The second assessment of the site compares with the first.
        console.click_button("Start assessment", view)
        console.wait_text(view.status, "still open", 90)
    finally:
        peer.stop()


KNOWN = "Ekwan pa 2026 lagoon"  # typed by the engineer (QTest types Latin-1 keys only)


def _type_passphrase(text: str):
    """Handler: the passphrase dialog shows a masked field; type ``text`` and press OK."""
    def handler(dialog) -> None:
        assert dialog.title == "Signing certificate"
        field = dialog.find(QLineEdit)
        assert field.echoMode() == QLineEdit.EchoMode.Password  # nobody reads it over a shoulder
        dialog.type_into(field, text)
        dialog.click("OK")
    return handler


def test_the_report_asks_for_the_passphrase_it_cannot_find(console, monkeypatch):
    """A certificate whose passphrase is in no keyring (made elsewhere, or the keyring forgot
    it): saving the signed report asks for it in a masked dialog; a wrong one and a cancel
    sign nothing; the right one signs, and the session does not ask again."""
    from pacs_console.core.profile import Profile
    from pacs_console.core.reports import certs
    from pacs_console.core.settings import updated

    ctx = console.ctx
    ctx.save_settings(updated(ctx.settings, profile=Profile(name="Akosua Mensah",
                                                         organisation="Central Imaging Services")))
    monkeypatch.setenv(certs.PASSPHRASE_ENV, KNOWN)
    certs.generate_certificate(ctx.paths.data, ctx.secrets, "Akosua Mensah",
                               "Central Imaging Services")
    monkeypatch.delenv(certs.PASSPHRASE_ENV)
    ctx.secrets.delete(certs.PASSPHRASE_KEY)  # made with the environment's: kept nowhere

    panel = console.choose_nav("Discovery")
    tabs = console.find(QTabWidget, parent=panel)
    console.choose_tab(tabs, "Security assessment")
    view = tabs.currentWidget()
    console.type_into(console.field_for_label(view, "Site or targets"), addr(162))
    console.click_button("Start assessment", view)
    console.wait_text(view.status, "nothing was assessed", 90)  # nobody answers there

    # The certificate is read, and the report signed and saved, off the window's thread.
    with gui_thread_opens() as opened, gui_thread_sql() as sql:
        with console.dialogs(_type_passphrase("not the passphrase")):
            console.click_button("Save signed report", view)
        console.wait_text(view.status, "does not open", 60)
        with console.dialogs(press("Cancel")) as seen:
            console.click_button("Save signed report", view)
        assert seen[0].title == "Signing certificate"
        console.wait_text(view.status, "Not signed: the certificate's passphrase is needed", 10)

        with console.dialogs(_type_passphrase(KNOWN)):
            console.click_button("Save signed report", view)
        status = console.wait_text(view.status, "Signed report saved", 120)
        path = status.split("Signed report saved: ", 1)[1].strip()
        signature = subprocess.run(["pdfsig", path], capture_output=True, text=True).stdout
    assert besides_known(opened) == [] and sql == [], (opened, sql)
    assert "Akosua Mensah" in signature

    # This session remembers it: the report is signed again without any dialog.
    first = Path(path).stat().st_mtime_ns
    with console.dialogs():  # no handler: any dialog would fail the test
        console.click_button("Save signed report", view)
        console.wait_for(lambda: Path(path).stat().st_mtime_ns != first
                         and "Signed report saved" in console.text(view.status), 120,
                         "the report signed again", observe=lambda: console.text(view.status))
