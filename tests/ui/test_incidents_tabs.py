"""The Incidents panel's visits and uptime tabs, the site editor and the maintenance dialog."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import shiboken6
from PySide6.QtCore import QDateTime, QThreadPool
from PySide6.QtWidgets import QApplication

from pacs_console.core.db.nodes import save_node
from pacs_console.core.db.testruns import save_test_run
from pacs_console.core.incidents import audit, service, sites
from pacs_console.ui.panels.incidents import IncidentsPanel

MIN = timedelta(minutes=1)


@pytest.fixture
def panel(qtbot, ctx):
    ctx.save_settings(replace(ctx.settings, engineer_name="Ama Mensah"))
    sites.save_site(ctx.db, "Korle Bu", region="Greater Accra")
    service.create_incident(ctx.db, title="CT cannot send to the archive", severity="high",
                            site="Korle Bu")
    widget = IncidentsPanel(ctx)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: widget.model.rowCount() == 1 and widget.current is not None,
                    timeout=5000)
    return widget


def _qt(value: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(value.timestamp()))


def test_visits_tab_starts_links_and_ends_a_visit(qtbot, ctx, panel):
    view = panel.visits
    panel.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: view.site.count() == 1, timeout=5000)
    assert "Ama Mensah" in view.engineer.text() and "from Settings" in view.engineer.text()
    assert view.incident_ref.text() == str(panel.current.id)  # offered for linking
    view.purpose.setText("Archive not receiving from CT")
    view.start_button.click()
    assert view.table.rowCount() == 1 and "started at Korle Bu" in view.message.text()
    assert view.table.item(0, 2).text() == "Ama Mensah"
    assert view.table.item(0, 4).text() == "on site"
    view.link_button.click()
    assert f"#{panel.current.id}" == view.table.item(0, 6).text()
    view.link_button.click()  # twice: refused with core's diagnosis, nothing changes
    assert "already linked" in view.message.text()
    view.end_button.click()
    assert view.table.item(0, 4).text() != "on site" and "ended" in view.message.text()
    (visit,) = sites.list_visits(ctx.db)
    assert visit.engineer == "Ama Mensah" and visit.purpose == "Archive not receiving from CT"
    assert visit.incident_ids == (panel.current.id,) and visit.departed_at is not None
    assert audit.verify(ctx.db).ok


def test_uptime_tab_shows_each_node_against_the_target(qtbot, ctx, panel):
    korle_bu = sites.get_site(ctx.db, "Korle Bu")
    archive = save_node(ctx.db, "Archive", "ARCHIVE", "127.0.0.1", 11120, site_id=korle_bu.id)
    router = save_node(ctx.db, "Router", "ROUTER", "127.0.0.1", 11121)
    t0 = datetime.now(UTC).replace(microsecond=0) - 60 * MIN
    for i in range(60):  # the archive failed for 2 of 60 minutes; the router never did
        save_test_run(ctx.db, kind="echo", outcome="failed" if i in (30, 31) else "ok",
                      node_id=archive.id, started_at=t0 + i * MIN)
    save_test_run(ctx.db, kind="echo-series", outcome="ok", node_id=router.id,
                  started_at=t0, summary="10 C-ECHO, 10 OK")
    view = panel.uptime
    view.since.setDateTime(_qt(t0))
    view.until.setDateTime(_qt(t0 + 60 * MIN))
    panel.tabs.setCurrentIndex(2)  # the first show computes
    qtbot.waitUntil(lambda: view.table.rowCount() == 2 and view.compute_button.isEnabled(),
                    timeout=5000)
    rows = {view.table.item(r, 0).text(): [view.table.item(r, c).text() for c in range(8)]
            for r in range(2)}
    assert rows["Archive"][1:6] == ["Korle Bu", "96.667 %", "missed", "100.0 %", "2 min"]
    # One sample holding 15 of the 60 min is no uptime figure, and the view says so.
    assert rows["Router"][2:5] == ["not enough data (1 sample over 15 min)", "—", "25.0 %"]
    assert "1 below 99.9 %, 1 without enough data" in view.message.text()
    archive_row = next(r for r in range(2) if view.table.item(r, 0).text() == "Archive")
    assert "from 60 echo samples over 1 h 00 min monitored" in view.table.item(
        archive_row, 2).toolTip()

    sites.add_maintenance_window(ctx.db, starts_at=t0 + 30 * MIN, ends_at=t0 + 32 * MIN,
                                 site="Korle Bu", reason="UPS swap")
    view.site.setCurrentIndex(view.site.findText("Nodes at Korle Bu"))
    view.compute_button.click()
    qtbot.waitUntil(lambda: view.table.rowCount() == 1 and view.table.item(0, 3).text() == "met",
                    timeout=5000)
    assert view.table.item(0, 5).text() == "0 min" and view.table.item(0, 6).text() == "2 min"


def test_maintenance_dialog_adds_refuses_and_deletes(qtbot, ctx, panel):
    node = save_node(ctx.db, "Archive", "ARCHIVE", "127.0.0.1", 11120)
    dialog = panel.edit_maintenance(exec_dialog=False)
    qtbot.addWidget(dialog)
    start = datetime(2025, 6, 2, 8, tzinfo=UTC)
    dialog.start.setDateTime(_qt(start))
    dialog.end.setDateTime(_qt(start - MIN))
    dialog.reason.setText("firmware")
    assert dialog.add_window() is None
    assert "must end after it starts" in dialog.message.text()
    dialog.end.setDateTime(_qt(start + 90 * MIN))
    dialog.node.setCurrentIndex(dialog.node.findData(node.id))
    window_id = dialog.add_window()
    assert window_id and dialog.table.rowCount() == 1
    assert dialog.table.item(0, 3).text() == "Archive" and dialog.reason.text() == ""
    (window,) = sites.list_maintenance(ctx.db)
    assert (window.starts_at, window.ends_at, window.site_name) == (
        start, start + 90 * MIN, "Korle Bu")
    dialog.table.selectRow(0)
    dialog.delete_button.click()
    assert dialog.table.rowCount() == 0 and sites.list_maintenance(ctx.db) == []
    assert audit.verify(ctx.db).ok


def test_site_editor_validates_with_core_messages_and_saves(qtbot, ctx, panel):
    dialog = panel.edit_sites(exec_dialog=False)
    qtbot.addWidget(dialog)
    assert dialog.chooser.currentText() == "New site…"
    assert dialog.hours["mon"].text() == "08:00-17:00" and dialog.hours["sun"].text() == ""
    dialog.name.setText("Tamale Teaching Hospital")
    dialog.hours["sat"].setText("13:00-09:00")
    assert "do not form a range" in dialog.hour_errors["sat"].text()
    dialog.hours["sat"].setText("09:00-13:00")
    assert dialog.hour_errors["sat"].text() == ""
    dialog.timezone.setText("Africa/Nowhere")
    assert dialog.save() is None and "Unknown time zone" in dialog.message.text()
    dialog.timezone.setText("Africa/Accra")
    dialog.closed_days.setPlainText("2025-12-24\n24/12/2025")
    assert dialog.save() is None and "YYYY-MM-DD" in dialog.message.text()
    dialog.closed_days.setPlainText("2025-12-24")
    with qtbot.waitSignal(dialog.saved):
        saved = dialog.save()
    assert saved.calendar().hours_text()["sat"] == "09:00-13:00"
    assert dialog.chooser.currentText() == "Tamale Teaching Hospital"
    assert panel.site_filter.findText("Tamale Teaching Hospital") >= 0  # the panel follows

    dialog.select("Korle Bu")
    assert dialog.name.text() == "Korle Bu" and dialog.closed_days.toPlainText() == ""
    dialog.name.setText("Korle Bu Teaching Hospital")
    dialog.holiday_country.setText("")
    saved = dialog.save()
    assert saved.name == "Korle Bu Teaching Hospital" and saved.holiday_country == ""
    assert panel.site_filter.findText("Korle Bu Teaching Hospital") >= 0
    assert panel.model.data(panel.model.index(0, 5)) == "Korle Bu Teaching Hospital"
    dialog.name.setText("Tamale Teaching Hospital")
    assert dialog.save() is None and "already called" in dialog.message.text()
    assert [s.name for s in sites.list_sites(ctx.db)] == ["Korle Bu Teaching Hospital",
                                                          "Tamale Teaching Hospital"]
    assert audit.verify(ctx.db).ok


def test_results_arriving_after_the_panel_is_gone_are_dropped(qtbot, ctx):
    service.create_incident(ctx.db, title="Router flapping", severity="low")
    panel = IncidentsPanel(ctx)  # not given to qtbot: this test destroys it itself
    panel.show()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5000)
    panel.refresh()
    panel.verify_audit()
    shiboken6.delete(panel)
    assert QThreadPool.globalInstance().waitForDone(5000)
    for _ in range(5):  # deliver the queued result/finished signals: nothing may raise
        QApplication.processEvents()
