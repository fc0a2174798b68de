"""Integration tab of the Tests panel: HL7 send to its own listener, DICOMweb, workflow with SCP."""

from __future__ import annotations

import pytest

from pacs_console.core.db.testruns import list_test_runs
from pacs_console.ui.panels.tests import TestsPanel
from tests.core.dicom_ops.helpers import free_port
from tests.pki import https_dicomweb, make_pki


@pytest.fixture
def tab(qtbot, ctx):
    panel = TestsPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    widget = panel.operation_tabs["Integration"]
    yield widget
    widget.shutdown()


def test_hl7_send_to_the_tabs_own_listener(qtbot, tab, ctx):
    hl7 = tab.hl7
    hl7.listen_port.setValue(0)
    hl7.toggle_listener()
    assert hl7.listener is not None and hl7.listen_port.value() > 0
    hl7.host.setText("127.0.0.1")
    hl7.port.setValue(hl7.listener.port)
    hl7.timeout.setValue(5)
    hl7.template.setCurrentIndex(hl7.template.findData("adt-a04"))
    hl7.fill_template()
    assert hl7.message.toPlainText().startswith("MSH|")
    hl7.send()
    qtbot.waitUntil(lambda: "MSA-1 AA" in hl7.result.toPlainText(), timeout=10000)
    qtbot.waitUntil(lambda: "ADT^A04" in hl7.received.toPlainText(), timeout=5000)
    assert "***" in hl7.received.toPlainText()
    qtbot.waitUntil(lambda: hl7.worker is None, timeout=5000)
    assert [r.kind for r in list_test_runs(ctx.db)] == ["hl7-send"]


def test_dicomweb_failure_is_diagnosed(qtbot, tab):
    web = tab.dicomweb
    web.url.setText(f"http://127.0.0.1:{free_port()}/dicom-web")
    web.run()
    qtbot.waitUntil(lambda: "refused" in web.result.toPlainText(), timeout=10000)
    qtbot.waitUntil(lambda: web.worker is None, timeout=5000)


def test_dicomweb_over_https_trusts_the_ca_file_given(qtbot, tab, tmp_path):
    pki = make_pki(tmp_path)
    web = tab.dicomweb
    with https_dicomweb(pki["good"]) as url:
        web.url.setText(url)
        web.run()
        qtbot.waitUntil(lambda: "not trusted" in web.result.toPlainText(), timeout=10000)
        qtbot.waitUntil(lambda: web.worker is None, timeout=5000)
        web.ca_file.setText(str(tmp_path / "missing.pem"))
        web.run()
        qtbot.waitUntil(lambda: "cannot be used" in web.result.toPlainText(), timeout=10000)
        qtbot.waitUntil(lambda: web.worker is None, timeout=5000)
        web.ca_file.setText(pki["ca"])
        web.run()
        qtbot.waitUntil(lambda: web.result.toPlainText().startswith("OK"), timeout=10000)
        assert "PatientID=KB123456" in web.result.toPlainText()
        qtbot.waitUntil(lambda: web.worker is None, timeout=5000)


def test_workflow_against_the_tabs_own_site_scp(qtbot, tab, ctx):
    flow = tab.workflow
    flow.scp_port.setValue(0)
    flow.scp_ae.setText("SITESCP")
    flow.toggle_scp()
    assert flow.scp is not None
    for edit in flow.roles.values():
        edit.setText(f"SITESCP@127.0.0.1:{flow.scp.port}")
    flow.run()
    qtbot.waitUntil(lambda: "PASSED" in flow.steps.toPlainText(), timeout=30000)
    assert flow.steps.toPlainText().count("PASS ") == 5
    qtbot.waitUntil(lambda: "mpps-set" in flow.events.toPlainText(), timeout=5000)
    qtbot.waitUntil(lambda: flow.worker is None, timeout=5000)
    assert len(list_test_runs(ctx.db)) == 5
