"""Uptime against 99.9% with maintenance excluded; list filters, search, sorting and export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from pacs_console.core.db.testruns import save_test_run
from pacs_console.core.incidents import service, sites
from pacs_console.core.incidents.queries import (
    IncidentFilter,
    count_incidents,
    export_incidents,
    incident_ids,
    incidents_by_id,
)
from pacs_console.core.incidents.uptime import compute_uptime, node_uptime

T0 = datetime(2025, 6, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_uptime_step_function_with_maintenance_and_gaps():
    samples = [(T0 + i * MIN, i not in (10, 11)) for i in range(60)]
    result = compute_uptime(samples, T0, T0 + 60 * MIN)
    assert result.down == 2 * MIN and result.up == 58 * MIN
    assert abs(result.fraction - 58 / 60) < 1e-9 and result.meets_target is False
    excused = compute_uptime(samples, T0, T0 + 60 * MIN, [(T0 + 10 * MIN, T0 + 12 * MIN)])
    assert excused.down == timedelta(0) and excused.maintenance == 2 * MIN
    assert excused.fraction == 1.0 and excused.meets_target is True
    sparse = compute_uptime([(T0, True)], T0, T0 + 60 * MIN, max_gap=15 * MIN)
    assert sparse.up == 15 * MIN and sparse.unknown == 45 * MIN
    assert compute_uptime([], T0, T0 + MIN).fraction is None


def test_node_uptime_reads_echo_runs_and_site_maintenance(db, node, tamale):
    for i in range(120):
        save_test_run(db, kind="echo", outcome="failed" if i == 5 else "ok", node_id=node.id,
                      started_at=T0 + i * MIN)
    result = node_uptime(db, node.id, T0, T0 + 120 * MIN)
    assert result.samples == 120 and result.down == MIN
    sites.add_maintenance_window(db, starts_at=T0 + 5 * MIN, ends_at=T0 + 6 * MIN,
                                 node_id=node.id, reason="firmware")
    assert node_uptime(db, node.id, T0, T0 + 120 * MIN).down == timedelta(0)


def _seed(db, tamale):
    rows = [("Archive refuses C-STORE from CT", "critical", "storage", tamale.name),
            ("Worklist empty on US room 2", "medium", "integration", None),
            ("Viewer slow to open MR series", "low", "viewer", tamale.name)]
    made = [service.create_incident(db, title=t, severity=s, category=c, site=site,
                                    reported_at=T0 + timedelta(hours=n))
            for n, (t, s, c, site) in enumerate(rows)]
    service.add_note(db, made[1].id, "HL7 ORM messages stopped after RIS upgrade")
    service.set_status(db, made[2].id, "resolved", at=T0 + timedelta(hours=3))
    return made


def test_filters_search_and_sort(db, tamale):
    archive, worklist, viewer = _seed(db, tamale)
    assert incident_ids(db) == [viewer.id, worklist.id, archive.id]
    assert incident_ids(db, sort="severity", descending=False) == [archive.id, worklist.id,
                                                                   viewer.id]
    assert incident_ids(db, IncidentFilter(text="hl7 ris")) == [worklist.id]  # from the timeline
    assert incident_ids(db, IncidentFilter(text="c-store")) == [archive.id]
    assert incident_ids(db, IncidentFilter(text="MR")) == [viewer.id]  # short: LIKE fallback
    assert incident_ids(db, IncidentFilter(open_only=True)) == [worklist.id, archive.id]
    assert incident_ids(db, IncidentFilter(statuses=("resolved",))) == [viewer.id]
    assert incident_ids(db, IncidentFilter(severities=("critical", "low"))) == [viewer.id,
                                                                               archive.id]
    assert incident_ids(db, IncidentFilter(site_id=tamale.id)) == [viewer.id, archive.id]
    window = IncidentFilter(reported_from=T0 + timedelta(minutes=30),
                            reported_to=T0 + timedelta(hours=2))
    assert incident_ids(db, window) == [worklist.id]
    assert count_incidents(db, IncidentFilter(text="quote\"d 'text'")) == 0
    assert [r.title for r in incidents_by_id(db, [archive.id, viewer.id])] == [
        archive.title, viewer.title]


def test_edits_and_deletes_reach_the_search_index(db, tamale):
    archive, *_ = _seed(db, tamale)
    service.update_incident(db, archive.id, title="Router flapping")
    assert incident_ids(db, IncidentFilter(text="flapping")) == [archive.id]
    service.delete_incident(db, archive.id)
    assert incident_ids(db, IncidentFilter(text="flapping")) == []


def test_export_csv_and_json_include_sla(db, tamale):
    _seed(db, tamale)
    now = T0 + timedelta(hours=5)
    rows = list(csv.DictReader(io.StringIO(export_incidents(db, "csv", now=now))))
    assert [r["severity"] for r in rows] == ["critical", "medium", "low"]
    assert rows[0]["sla_state"] == "breached" and rows[0]["site"] == "Tamale Teaching Hospital"
    data = json.loads(export_incidents(db, "json", IncidentFilter(severities=("low",)), now=now))
    assert len(data["incidents"]) == 1
    assert data["incidents"][0]["sla"]["state"] == "met"


def test_too_little_monitoring_gives_no_figure_and_says_why():
    # The field case: two echo samples in a week, seconds apart.
    week = compute_uptime([(T0, True), (T0 + timedelta(seconds=40), False)], T0,
                          T0 + timedelta(days=7))
    assert week.observed_fraction is not None and week.enough_data is False
    assert week.fraction is None and week.meets_target is None and week.verdict == "not enough data"
    assert week.summary() == ("not enough data (2 echo samples over 15 min monitored, 0.2 % of "
                              "the 7 d 0 h outside maintenance)")
    assert week.to_dict()["fraction"] is None and week.to_dict()["enough_data"] is False
    # Well covered but only two samples: still no figure; a third makes one.
    two = compute_uptime([(T0, True), (T0 + 10 * MIN, True)], T0, T0 + 20 * MIN)
    assert two.monitored == 1.0 and two.fraction is None
    three = compute_uptime([(T0, True), (T0 + 5 * MIN, True), (T0 + 10 * MIN, True)], T0,
                           T0 + 20 * MIN)
    assert three.fraction == 1.0 and three.verdict == "met"
    assert three.summary() == ("100.000 % (met against 99.9 %) from 3 echo samples over "
                               "20 min monitored, 100.0 % of the 20 min outside maintenance")
    # All of it maintenance: nothing to judge.
    excused = compute_uptime([(T0, True)] * 3, T0, T0 + MIN, [(T0, T0 + MIN)])
    assert excused.fraction is None and excused.monitored is None
