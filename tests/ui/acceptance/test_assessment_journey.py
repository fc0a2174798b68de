"""Security assessment journey (issue 19): sweep a site, assess it from the Discovery panel's
Security assessment tab, read the colours and the evidence, open an incident from a finding,
save the signed report, and see the comparison with the previous assessment."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QPlainTextEdit, QTabWidget

from tests.core.assess.peers import ConfiguredOrthanc
from tests.peers.net import addr, free_port
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
        console.click_button("Save signed report", view)
        console.wait_text(view.status, "profile", 60)
        with console.dialogs(_settings):
            console.menu("File", "Settings…")
        console.click_button("Save signed report", view)
        console.wait_text(view.status, "Signed report saved", 120)
        assert "security-assessment-cape-coast-teaching" in console.text(view.status)

        # The second assessment of the site compares with the first.
        console.click_button("Start assessment", view)
        console.wait_text(view.status, "still open", 90)
    finally:
        peer.stop()
