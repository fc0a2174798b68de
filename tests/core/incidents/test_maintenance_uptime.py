"""Maintenance windows (audited CRUD, scope), node uptime from real echo runs, site editing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from pacs_console.core.db.nodes import save_node
from pacs_console.core.db.testruns import save_test_run
from pacs_console.core.dicom.ops.echo import echo, echo_series
from pacs_console.core.dicom.servers.demo import DemoPacs
from pacs_console.core.dicom.wire.params import Timeouts
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError
from pacs_console.core.incidents import audit, service, sites
from pacs_console.core.incidents.uptime import uptime_report
from pacs_console.core.models import drain

T0 = datetime(2025, 6, 2, 8, tzinfo=UTC)
MIN = timedelta(minutes=1)


def _diagnosed(code: str, call):
    with pytest.raises(ConsoleError) as caught:
        call()
    assert caught.value.diagnosis.code == code
    return caught.value.diagnosis


@pytest.fixture
def echoed(db, tamale):
    """A node at Tamale with real C-ECHO evidence: up at T0 and T0+5 min, down from T0+10."""
    pacs = DemoPacs(port=0).start()
    try:
        node = save_node(db, "Demo archive", "DEMOPACS", "127.0.0.1", pacs.port,
                         site_id=tamale.id)
        up = echo("127.0.0.1", pacs.port, "DEMOPACS", timeouts=Timeouts(2, 2, 2, 2))
        assert up.ok
        save_test_run(db, node_id=node.id, started_at=T0, **up.evidence())
        stats = drain(echo_series(Target("127.0.0.1", pacs.port, "DEMOPACS", "PACSCONSOLE",
                                          Timeouts(2, 2, 2, 2)), count=3, interval=0))
        save_test_run(db, node_id=node.id, started_at=T0 + 5 * MIN, **stats.evidence())
        port = pacs.port
    finally:
        pacs.stop()
    down = echo("127.0.0.1", port, "DEMOPACS", timeouts=Timeouts(2, 2, 2, 2))
    assert not down.ok
    save_test_run(db, node_id=node.id, started_at=T0 + 10 * MIN, **down.evidence())
    return node


def test_uptime_from_real_echo_runs_with_node_and_site_maintenance(db, tamale, echoed):
    other = save_node(db, "Unmonitored", "OTHER", "127.0.0.1", 104)
    end = T0 + 20 * MIN
    (report,) = uptime_report(db, T0, end, node=echoed.name)
    u = report.uptime
    assert (u.samples, u.up, u.down, u.unknown) == (3, 10 * MIN, 10 * MIN, timedelta(0))
    assert u.fraction == 0.5 and u.meets_target is False and u.monitored == 1.0
    assert report.site_name == tamale.name and report.to_dict()["monitored_fraction"] == 1.0

    # The node's own window excuses 5 minutes; a site-wide window excuses the rest.
    sites.add_maintenance_window(db, starts_at=T0 + 10 * MIN, ends_at=T0 + 15 * MIN,
                                 node_id=echoed.id, site=tamale.name, reason="firmware")
    u = uptime_report(db, T0, end, node=echoed.id)[0].uptime
    assert (u.down, u.maintenance) == (5 * MIN, 5 * MIN)
    sites.add_maintenance_window(db, starts_at=T0 + 15 * MIN, ends_at=T0 + 30 * MIN,
                                 site=tamale.name, reason="UPS swap")
    u = uptime_report(db, T0, end, node=echoed.id)[0].uptime
    assert u.down == timedelta(0) and u.maintenance == 10 * MIN and u.meets_target is True

    everyone = {r.name: r.uptime for r in uptime_report(db, T0, end)}
    assert set(everyone) == {echoed.name, other.name}
    # A site-wide window does not reach a node outside the site; nor does another node's.
    assert everyone[other.name].fraction is None and everyone[other.name].maintenance == timedelta(0)
    assert [r.name for r in uptime_report(db, T0, end, site=tamale.name)] == [echoed.name]
    _diagnosed("uptime-period", lambda: uptime_report(db, end, T0))
    _diagnosed("node-unknown", lambda: uptime_report(db, T0, end, node="NOPE"))


def test_maintenance_windows_are_listed_deleted_and_audited(db, tamale, node):
    first = sites.add_maintenance_window(db, starts_at=T0, ends_at=T0 + 60 * MIN,
                                         site=tamale.name, reason="UPS swap", actor="ama")
    second = sites.add_maintenance_window(db, starts_at=T0 + 1440 * MIN,
                                          ends_at=T0 + 1500 * MIN, node_id=node.id,
                                          site=tamale.id, reason="firmware", actor="ama")
    listed = sites.list_maintenance(db)
    assert [w.id for w in listed] == [second, first]  # newest first
    assert listed[0].scope == node.name and listed[1].scope == f"all nodes at {tamale.name}"
    assert listed[1].to_dict()["starts_at"] == T0.isoformat()
    assert [w.id for w in sites.list_maintenance(db, node_id=node.id)] == [second]
    _diagnosed("maintenance-times", lambda: sites.add_maintenance_window(
        db, starts_at=T0, ends_at=T0, site=tamale.name))
    _diagnosed("maintenance-scope", lambda: sites.add_maintenance_window(
        db, starts_at=T0, ends_at=T0 + MIN))
    _diagnosed("node-unknown", lambda: sites.add_maintenance_window(
        db, starts_at=T0, ends_at=T0 + MIN, node_id=999))
    sites.delete_maintenance_window(db, first, actor="ama")
    _diagnosed("maintenance-unknown", lambda: sites.delete_maintenance_window(db, first))
    assert [w.id for w in sites.list_maintenance(db)] == [second]
    assert audit.verify(db).ok

    con = sqlite3.connect(db.path)
    con.execute("UPDATE maintenance_window SET ends_at = '2025-06-04 00:00:00.000000'")
    con.commit()
    con.close()
    problems = audit.verify(db).problems
    assert [(p.kind, p.entity) for p in problems] == [("changed-outside", "maintenance")]


def test_site_editing_renames_replaces_closed_days_and_diagnoses(db, tamale):
    sites.save_site(db, tamale.name, closed_days=["2025-12-24"])
    edited = sites.save_site(db, "Tamale TH", site_id=tamale.id, closed_days=["2025-12-31"],
                             replace_closed_days=True, business_hours={"sat": "09:00-13:00"})
    assert edited.id == tamale.id and edited.closed_days == ("2025-12-31",)
    assert edited.calendar().hours_text()["sat"] == "09:00-13:00"
    assert [s.name for s in sites.list_sites(db)] == ["Tamale TH"]
    sites.save_site(db, "Ho Teaching")
    taken = _diagnosed("site-name-taken", lambda: sites.save_site(db, "Ho Teaching",
                                                                   site_id=tamale.id))
    assert "Ho Teaching" in taken.what
    bad_day = _diagnosed("sla-closed-day", lambda: sites.save_site(
        db, "Tamale TH", closed_days=["24/12/2025"]))
    assert "YYYY-MM-DD" in bad_day.what
    _diagnosed("sla-hours", lambda: sites.save_site(db, "Tamale TH",
                                                    business_hours={"mon": "17:00-08:00"}))
    _diagnosed("sla-country", lambda: sites.save_site(db, "Tamale TH", holiday_country="XX"))
    assert sites.get_site(db, tamale.id).closed_days == ("2025-12-31",)  # nothing half-saved
    assert audit.verify(db).ok


def test_linking_an_incident_to_a_visit_once(db, tamale):
    visit = sites.start_visit(db, tamale.name, engineer="ama", purpose="PM")
    incident = service.create_incident(db, title="CT cannot send", severity="high")
    service.link_visit(db, visit.id, incident.uuid[:8], actor="ama")
    _diagnosed("visit-linked", lambda: service.link_visit(db, visit.id, incident.id))
    _diagnosed("visit-unknown", lambda: service.link_visit(db, 999, incident.id))
    assert sites.list_visits(db)[0].incident_ids == (incident.id,)
    assert audit.verify(db).ok
