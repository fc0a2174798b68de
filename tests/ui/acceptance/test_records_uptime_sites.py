"""Uptime figures a person can trust, and the Sites, Maintenance and Visits forms refusing what
they should, all with the mouse and keys (replaces tests/ui/test_incidents_tabs.py, which set the
widgets from code and called the dialogs' methods).

The echo history is written through core beforehand, as weeks of monitoring would have left it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTabWidget,
)

from pacs_console.core.db.nodes import save_node
from pacs_console.core.db.testruns import save_test_run
from pacs_console.core.incidents import service, sites
from tests.ui.acceptance.window import Console

MIN = timedelta(minutes=1)


def _local(value: datetime) -> str:
    """As the date-time edits show it (local time, minutes)."""
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def _labels(root) -> str:
    return "\n".join(w.text() for w in root.findChildren(QLabel) if w.isVisible())


def _table(root, first_header: str) -> QTableWidget:
    return next(t for t in root.findChildren(QTableWidget) if t.isVisible()
                and t.horizontalHeaderItem(0) and t.horizontalHeaderItem(0).text() == first_header)


def _by_node(console: Console, table: QTableWidget) -> dict[str, list[str]]:
    return {row[0]: row for row in console.rows(table)}


def test_uptime_says_when_there_is_too_little_data_and_excludes_maintenance(console):
    db = console.ctx.db
    korle_bu = sites.save_site(db, "Korle Bu", region="Greater Accra")
    archive = save_node(db, "Archive", "ARCHIVE", "127.0.0.1", 11120, site_id=korle_bu.id)
    router = save_node(db, "Router", "ROUTER", "127.0.0.1", 11121)
    t0 = datetime.now(UTC).replace(second=0, microsecond=0) - 60 * MIN
    for i in range(60):  # the archive failed for 2 of 60 minutes; the router was echoed once
        save_test_run(db, kind="echo", outcome="failed" if i in (30, 31) else "ok",
                      node_id=archive.id, started_at=t0 + i * MIN)
    save_test_run(db, kind="echo-series", outcome="ok", node_id=router.id, started_at=t0,
                  summary="10 C-ECHO, 10 OK")

    panel = console.choose_nav("Incidents")
    console.choose_tab(next(t for t in panel.findChildren(QTabWidget) if t.isVisible()),
                       "Uptime")
    edits = [e for e in panel.findChildren(QDateTimeEdit) if e.isVisible()]
    console.type_into(edits[0], _local(t0))  # From: the hour the history covers
    assert console.text(edits[0]) == _local(t0)
    uptime = _table(panel, "Node")
    console.click_button("Compute", panel)
    # The figures shown on opening were for the last 7 days: wait for this hour's.
    console.wait_for(lambda: _by_node(console, uptime).get("Archive", [""] * 3)[2].endswith(" %")
                     and console.button("Compute", panel).isEnabled(), 15,
                     "the hour computed", observe=lambda: console.rows(uptime))
    rows = _by_node(console, uptime)
    archive_row, router_row = rows["Archive"], rows["Router"]
    assert archive_row[1] == "Korle Bu" and archive_row[2].endswith(" %")
    assert archive_row[3] == "missed" and archive_row[5] == "2 min", archive_row
    # One sample holding 15 of the 60 minutes is no uptime figure, and the row says so.
    assert router_row[2] == "not enough data (1 sample over 15 min)", router_row
    assert router_row[3] == "—"
    column = next(i for i, r in enumerate(console.rows(uptime)) if r[0] == "Archive")
    assert "from 60 echo samples over" in uptime.item(column, 2).toolTip()  # on hover
    assert "1 below 99.9 %" in _labels(panel) and " without enough data" in _labels(panel)

    # The two failed minutes were planned maintenance: entered in the dialog, they no longer
    # count against the archive, and the site's nodes alone are shown.
    def maintenance(dialog) -> None:
        site = console.field_for_label(dialog.widget, "Site")
        console.wait_for(lambda: console.text(site), 10, "the sites read")  # from a worker
        starts, ends = [e for e in dialog.widget.findChildren(QDateTimeEdit) if e.isVisible()]
        console.type_into(ends, _local(t0 + 29 * MIN))
        console.type_into(starts, _local(t0 + 30 * MIN))
        console.type_into(console.field_for_label(dialog.widget, "Reason"), "UPS swap")
        dialog.click("Add window")
        console.wait_for(lambda: "must end after it starts" in _labels(dialog.widget), 5,
                         "an end before the start refused", observe=lambda: _labels(dialog.widget))
        console.type_into(ends, _local(t0 + 32 * MIN))
        dialog.click("Add window")
        windows = _table(dialog.widget, dialog.widget.findChild(QTableWidget)
                         .horizontalHeaderItem(0).text())
        console.wait_for(lambda: len(console.rows(windows)) == 1, 5, "the window listed")
        assert "UPS swap" in console.rows(windows)[0]
        dialog.click("Close")

    with console.dialogs(maintenance):
        console.click_button("Maintenance…", panel)
    chooser = next(c for c in panel.findChildren(QComboBox) if c.isVisible()
                   and c.count() and c.itemText(0) == "All nodes")
    console.choose_combo(chooser, "Nodes at Korle Bu")
    console.click_button("Compute", panel)
    console.wait_for(lambda: list(_by_node(console, uptime)) == ["Archive"]
                     and _by_node(console, uptime)["Archive"][3] == "met", 15,
                     "the archive meeting its target", observe=lambda: console.rows(uptime))
    assert _by_node(console, uptime)["Archive"][5:7] == ["0 min", "2 min"]


def test_the_site_editor_refuses_what_core_refuses_and_a_visit_links_once(console):
    panel = console.choose_nav("Incidents")

    def sites_form(dialog) -> None:
        assert console.text(console.field_for_label(dialog.widget, "Site")) == "New site…"
        hours = [e for e in dialog.widget.findChildren(QLineEdit)
                 if e.isVisible() and e.toolTip().startswith("HH:MM-HH:MM")]
        assert console.text(hours[0]) == "08:00-17:00" and console.text(hours[6]) == ""
        console.type_into(console.field_for_label(dialog.widget, "Name"), "Tamale Teaching")
        console.type_into(hours[5], "13:00-09:00")  # Saturday, the wrong way round
        console.wait_for(lambda: "do not form a range" in _labels(dialog.widget), 5, "refused")
        console.type_into(hours[5], "09:00-13:00")
        assert "do not form a range" not in _labels(dialog.widget)
        zone = console.field_for_label(dialog.widget, "Time zone")
        zone.setCompleter(None)  # its pop-up list would take the keys offscreen (see dialogs.py)
        console.type_into(zone, "Africa/Nowhere")
        dialog.click("Save")
        console.wait_for(lambda: "Unknown time zone" in _labels(dialog.widget), 5, "bad zone")
        console.type_into(zone, "Africa/Accra")
        console.type_into(console.field_for_label(dialog.widget, "Closed days"), "24/12/2025")
        dialog.click("Save")
        console.wait_for(lambda: "YYYY-MM-DD" in _labels(dialog.widget), 5, "bad day")
        console.type_into(console.field_for_label(dialog.widget, "Closed days"), "2025-12-24")
        dialog.click("Save")
        console.wait_for(lambda: "Saved Tamale Teaching" in _labels(dialog.widget), 5, "saved",
                         observe=lambda: _labels(dialog.widget))
        # A second site, renamed to the first one's name: refused.
        console.choose_combo(console.field_for_label(dialog.widget, "Site"), "New site…")
        console.type_into(console.field_for_label(dialog.widget, "Name"), "Korle Bu")
        dialog.click("Save")
        console.wait_for(lambda: "Saved Korle Bu" in _labels(dialog.widget), 5, "the second")
        assert console.text(console.field_for_label(dialog.widget, "Site")) == "Korle Bu"
        console.type_into(console.field_for_label(dialog.widget, "Name"), "Tamale Teaching")
        dialog.click("Save")
        console.wait_for(lambda: "already called" in _labels(dialog.widget), 5, "duplicate",
                         observe=lambda: _labels(dialog.widget))
        dialog.click("Close")

    with console.dialogs(sites_form):
        console.click_button("Sites…", panel)
    assert sorted(s.name for s in sites.list_sites(console.ctx.db)) == ["Korle Bu",
                                                                        "Tamale Teaching"]
    saved = sites.get_site(console.ctx.db, "Tamale Teaching")
    assert saved.calendar().hours_text()["sat"] == "09:00-13:00"

    # A visit, and the selected incident linked to it once (twice is refused, with the reason).
    incident = service.create_incident(console.ctx.db, title="CT cannot send", severity="high",
                                       site="Tamale Teaching")
    log = next(t for t in panel.findChildren(QTabWidget) if t.isVisible())
    console.wait_for(lambda: "#1 CT cannot send" in _labels(panel), 10, "the incident shown")
    console.choose_tab(log, "Visits")
    # The visit's site is offered once the Visits tab has read the sites (on a worker).
    console.wait_for(lambda: any(c.isVisible() and c.findText("Tamale Teaching") >= 0
                                 for c in panel.findChildren(QComboBox)), 10, "the site offered")
    purpose = next(e for e in panel.findChildren(QLineEdit)
                   if e.isVisible() and e.placeholderText().startswith("Purpose"))
    console.type_into(purpose, "Archive not receiving from CT")
    console.click_button("Arrive (start visit)", panel)
    visits = next(t for t in panel.findChildren(QTableWidget) if t.isVisible())
    console.wait_for(lambda: len(console.rows(visits)) == 1, 10, "the visit listed")
    console.click_row(visits, 0)
    console.click_button("Link incident to selected visit", panel)
    console.wait_for(lambda: f"#{incident.id}" in console.rows(visits)[0], 5, "linked",
                     observe=lambda: console.rows(visits))
    console.click_button("Link incident to selected visit", panel)
    console.wait_for(lambda: "already linked" in _labels(panel), 5, "linking twice refused")
    (visit,) = sites.list_visits(console.ctx.db)
    assert visit.incident_ids == (incident.id,)
