"""The Incidents panel driven with pytest-qt: list, filters, SLA badges, detail actions, export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from pacs_console.core.db.nodes import save_node
from pacs_console.core.db.testruns import save_test_run
from pacs_console.core.incidents import audit, service, sites
from pacs_console.ui.models.incidents import SLA_COLUMN
from pacs_console.ui.panels.incidents import IncidentsPanel


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """240 incidents made once through the service, copied for each test."""
    from pacs_console.core.db.engine import Database

    folder = tmp_path_factory.mktemp("incidents-template")
    db = Database(folder / "pacs-console.sqlite3")
    sites.save_site(db, "Korle Bu", region="Greater Accra")
    now = datetime.now(UTC)
    made = [service.create_incident(db, title=f"Incident {n}", severity=sev, site="Korle Bu",
                                    reported_at=now - timedelta(minutes=n))
            for n, sev in enumerate(["critical", "high", "medium", "low"] * 60)]
    service.add_note(db, made[7].id, "Modality worklist broker restarted")
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return folder, made


@pytest.fixture
def seeded(ctx, template):
    import shutil

    folder, made = template
    for item in folder.iterdir():
        if item.suffix != ".sqlite3-wal" and not item.name.endswith(("-shm", "-wal")):
            shutil.copy(item, ctx.paths.data / item.name)
    return made


@pytest.fixture
def panel(qtbot, ctx, seeded):
    widget = IncidentsPanel(ctx)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: widget.model.rowCount() == 240, timeout=5000)
    return widget


def test_list_loads_lazily_with_sla_badges(panel, seeded):
    made = seeded
    model = panel.model
    assert model.data(model.index(0, 4)) == "Incident 0"
    assert len(model._pages) <= 2  # only the visible pages were fetched
    badge = model.data(model.index(0, SLA_COLUMN))
    assert badge.startswith(("running", "due-soon", "breached"))
    assert model.data(model.index(0, SLA_COLUMN), Qt.ItemDataRole.ForegroundRole) is not None
    panel.table.scrollToBottom()
    assert model.data(model.index(239, 4)) == "Incident 239"
    assert panel.current.id == made[0].id and "Incident 0" in panel.heading.text()


def test_filters_and_search(qtbot, panel, seeded):
    panel.severity_filter.setCurrentIndex(panel.severity_filter.findData("critical"))
    qtbot.waitUntil(lambda: panel.model.rowCount() == 60, timeout=5000)
    panel.severity_filter.setCurrentIndex(0)
    panel.search.setText("worklist broker")
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5000)
    assert panel.model.data(panel.model.index(0, 4)) == "Incident 7"
    panel.search.clear()
    panel.status_filter.setCurrentIndex(panel.status_filter.findData("closed"))
    qtbot.waitUntil(lambda: panel.model.rowCount() == 0, timeout=5000)
    assert panel.count_label.text().startswith("0 incident(s)")


def test_sorting_by_severity(qtbot, panel):
    panel.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: panel.model.data(panel.model.index(59, 1)) == "Critical"
                    and panel.model.data(panel.model.index(60, 1)) == "High", timeout=5000)


def test_quick_status_buttons_note_and_hold(qtbot, panel, monkeypatch):
    assert panel.next_button.text() == "→ Acknowledged"
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.current.status == "acknowledged" and panel.current.acknowledged_at
    assert "→ Analysing" == panel.next_button.text()
    qtbot.keyClick(panel, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert panel.current.status == "analysing"
    panel.note_edit.setText("Checked the switch port")
    qtbot.keyClick(panel.note_edit, Qt.Key.Key_Return)
    assert "Checked the switch port" in panel.timeline_view.toPlainText()
    assert panel.note_edit.text() == ""
    assert not panel.change_status("on_hold")  # no reason: refused with a diagnosis
    assert "needs a reason" in panel.message.text()
    assert panel.change_status("on_hold", "waiting for vendor")
    assert "on hold: waiting for vendor" in panel.heading.text()
    assert audit.verify(panel.ctx.db).ok


def test_attach_latest_test_run_and_a_file(qtbot, ctx, panel, tmp_path):
    save_test_run(ctx.db, kind="echo", outcome="failed", node_label="X@h:104",
                  summary="refused")
    qtbot.keyClick(panel, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert "Test run echo X@h:104: failed" in panel.timeline_view.toPlainText()
    shot = tmp_path / "screen.png"
    shot.write_bytes(b"\x89PNG fake")
    panel.attach_file(str(shot))
    assert "Attached screen.png" in panel.timeline_view.toPlainText()


def test_new_incident_dialog_shows_definitions_and_creates(qtbot, ctx, panel):
    dialog = panel.new_incident(exec_dialog=False)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.severity.setCurrentIndex(dialog.severity.findData("medium"))
    assert "4 hour(s)" in dialog.definition.text()
    assert "one modality connection failing" in dialog.definition.text()
    dialog.title.setText("US room 2 cannot query the worklist")
    dialog.site.setCurrentIndex(dialog.site.findText("Korle Bu"))
    dialog.accept()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 241, timeout=5000)
    assert panel.current.title == "US room 2 cannot query the worklist"
    assert panel.current.site_name == "Korle Bu"


def test_new_incident_from_a_failed_test_run_is_prefilled(qtbot, ctx, panel):
    node = save_node(ctx.db, "CT scanner", "CT01", "10.0.0.7", 104)
    save_test_run(ctx.db, kind="echo", outcome="failed", node_id=node.id,
                  node_label="CT01@10.0.0.7:104", summary="Association rejected",
                  diagnosis={"code": "associate-rejected-called-ae",
                             "what": "Called AE title not recognised"})
    dialog = panel.new_from_failed_run(exec_dialog=False)
    qtbot.addWidget(dialog)
    assert "Called AE title not recognised" in dialog.title.text()
    assert dialog.category.currentData() == "modality"
    checked = [dialog.nodes.item(r).text() for r in range(dialog.nodes.count())
               if dialog.nodes.item(r).checkState() == Qt.CheckState.Checked]
    assert checked == ["CT scanner (CT01)"]
    dialog.accept()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 241, timeout=5000)
    assert panel.current.source_test_run_id is not None
    assert "Test run echo CT01" in panel.timeline_view.toPlainText()


def test_export_csv(panel, tmp_path):
    target = tmp_path / "out.csv"
    panel.export_csv(str(target))
    lines = target.read_text().splitlines()
    assert lines[0].startswith("id,uuid,title") and len(lines) == 241


def test_verify_audit_from_the_panel(qtbot, ctx, panel):
    import sqlite3

    panel.verify_button.click()
    # The result shows before the worker finishes and re-enables the button: wait for both.
    qtbot.waitUntil(lambda: "intact" in panel.message.text() and panel.verify_button.isEnabled(),
                    timeout=10000)
    con = sqlite3.connect(ctx.db.path)
    con.execute("UPDATE incident SET title = 'edited' WHERE id = 3")
    con.commit()
    con.close()
    panel.verify_button.click()
    qtbot.waitUntil(lambda: "TAMPERING FOUND" in panel.message.text(), timeout=10000)
    assert "incident 3" in panel.message.text()


def test_the_new_button_opens_the_dialog_when_clicked(qtbot, panel):
    """Clicked with the mouse (clicked(bool) once passed False as the draft: nothing opened)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    seen: list = []

    def fill_when_shown() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(50, fill_when_shown)
            return
        seen.append(dialog.windowTitle())
        QTest.keyClicks(dialog.title, "PACS refuses CR images")
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok),
                         Qt.MouseButton.LeftButton)

    QTimer.singleShot(50, fill_when_shown)
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 241, timeout=5000)
    assert seen and panel.current.title == "PACS refuses CR images"
