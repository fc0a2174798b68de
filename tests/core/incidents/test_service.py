"""Incidents, sites and visits through the core service: process, SLA fields, evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pacs_console.core.db.testruns import save_test_run
from pacs_console.core.errors import ConsoleError
from pacs_console.core.incidents import evidence, service, sites
from pacs_console.core.incidents.model import PROCESS, next_step

FRIDAY_3PM = datetime(2025, 6, 13, 15, 0, tzinfo=UTC)


def test_site_calendar_is_stored_and_validated(db):
    site = sites.save_site(db, "Ho Teaching", business_hours={"sat": "09:00-13:00"},
                           closed_days=["2025-06-16"], contacts="Kofi, +233 20 000 0000",
                           address="Ho, Volta")
    assert site.timezone == "Africa/Accra" and site.holiday_country == "GH"
    assert site.calendar().hours_text()["sat"] == "09:00-13:00"
    assert site.calendar().hours_text()["mon"] == "08:00-17:00"
    assert sites.get_site(db, "Ho Teaching").closed_days == ("2025-06-16",)
    with pytest.raises(ConsoleError) as info:
        sites.save_site(db, "Bad", timezone="Nowhere/Void")
    assert info.value.diagnosis.code == "sla-timezone"
    assert [s.name for s in sites.list_sites(db)] == ["Ho Teaching"]


def test_incident_uuid_times_and_business_hours_due(db, tamale, node):
    record = service.create_incident(db, title="Archive refuses stores", severity="Medium",
                                     category="storage", site=tamale.name, nodes=["TTHPACS"],
                                     reported_at=FRIDAY_3PM, actor="ama", clock_offset_s=-2.5)
    assert len(record.uuid) == 36 and record.status == "new"
    assert record.reported_at == FRIDAY_3PM and record.clock_offset_s == -2.5
    assert record.response_due_at == datetime(2025, 6, 16, 10, 0, tzinfo=UTC)
    assert record.nodes == ((node.id, "TTH main PACS (TTHPACS@10.20.0.5:104)"),)
    assert record.sla(FRIDAY_3PM + timedelta(hours=1)).state == "running"
    assert record.sla(datetime(2025, 6, 16, 9, 30, tzinfo=UTC)).state == "due-soon"
    assert record.sla(datetime(2025, 6, 16, 10, 1, tzinfo=UTC)).state == "breached"
    assert service.get_incident(db, record.uuid[:8]).id == record.id


def test_status_process_sets_response_resolution_and_hold(db, tamale):
    record = service.create_incident(db, title="CT cannot send", severity="high",
                                     site=tamale.name, reported_at=FRIDAY_3PM)
    ack = FRIDAY_3PM + timedelta(minutes=20)
    record = service.set_status(db, record.id, "acknowledged", at=ack, actor="ama")
    assert record.acknowledged_at == ack and record.sla().state == "met"
    with pytest.raises(ConsoleError) as info:
        service.set_status(db, record.id, "on_hold")
    assert info.value.diagnosis.code == "incident-hold"
    record = service.set_status(db, record.id, "on_hold", hold_reason="vendor engineer due")
    assert record.hold_reason == "vendor engineer due"
    step = "analysing"
    while step:
        record = service.set_status(db, record.id, step, at=FRIDAY_3PM + timedelta(hours=3))
        step = next_step(record.status)
    assert record.status == PROCESS[-1] == "closed"
    assert record.acknowledged_at == ack
    assert record.resolution_time == timedelta(hours=3)
    with pytest.raises(ConsoleError):
        service.set_status(db, record.id, "executing")
    reopened = service.set_status(db, record.id, "acknowledged")
    assert reopened.resolved_at is None and reopened.closed_at is None
    kinds = [e.kind for e in service.timeline(db, record.id)]
    assert kinds[0] == "created" and kinds.count("status") == 9


def test_severity_change_recomputes_the_due_time(db, tamale):
    record = service.create_incident(db, title="Slow viewer", severity="low", site=tamale.name,
                                     reported_at=FRIDAY_3PM)
    assert record.response_due_at == datetime(2025, 6, 16, 14, 0, tzinfo=UTC)
    record = service.update_incident(db, record.id, severity="critical", title="Viewer down")
    assert record.response_due_at == FRIDAY_3PM + timedelta(minutes=15)
    assert service.timeline(db, record.id)[-1].text.startswith("Changed")


def test_attachments_are_content_addressed(db, tmp_path, ctx):
    record = service.create_incident(db, title="Log", severity="low")
    store = ctx.paths.data / "attachments"
    for name in ("a.log", "b.log"):
        (tmp_path / name).write_text("same bytes")
        evidence.attach_file(db, store, record.id, tmp_path / name, actor="ama")
    items = evidence.attachments(db, record.id)
    assert [a.filename for a in items] == ["a.log", "b.log"]
    assert items[0].sha256 == items[1].sha256
    path = evidence.attachment_path(store, items[0].sha256)
    assert path.read_text() == "same bytes"
    assert [p.name for p in store.rglob("*") if p.is_file()] == [items[0].sha256]
    with pytest.raises(ConsoleError):
        evidence.attach_file(db, store, record.id, tmp_path / "missing.png")


def test_incident_from_a_failed_test_run_prefills_and_attaches(db, node, failed_run):
    draft = evidence.draft_from_test_run(db, failed_run.id)
    assert draft.nodes == (node.id,) and draft.category == "network"
    assert "Connection refused" in draft.title and "Start the archive" in draft.description
    record = service.create_incident(db, title=draft.title, severity=draft.severity,
                                     category=draft.category, nodes=draft.nodes,
                                     description=draft.description, test_run_id=draft.test_run_id)
    assert record.source_test_run_id == failed_run.id
    entries = service.timeline(db, record.id)
    assert [e.test_run_id for e in entries if e.kind == "test_run"] == [failed_run.id]


def test_attach_latest_test_run_prefers_the_incidents_node(db, node, failed_run):
    record = service.create_incident(db, title="x", severity="low", nodes=[node.id])
    save_test_run(db, kind="echo", outcome="ok", node_label="other")  # newer, other node
    assert service.attach_test_run(db, record.id).test_run_id == failed_run.id
    empty = service.create_incident(db, title="y", severity="low")
    assert service.attach_test_run(db, empty.id).test_run_id != failed_run.id


def test_visits_link_incidents(db, tamale):
    visit = sites.start_visit(db, tamale.name, engineer="Ama", purpose="quarterly check",
                              arrived_at=FRIDAY_3PM)
    record = service.create_incident(db, title="UPS alarm", severity="low", site=tamale.name,
                                     visit_id=visit.id)
    assert sites.list_visits(db, open_only=True)[0].incident_ids == (record.id,)
    with pytest.raises(ConsoleError):
        sites.end_visit(db, visit.id, departed_at=FRIDAY_3PM - timedelta(hours=1))
    ended = sites.end_visit(db, departed_at=FRIDAY_3PM + timedelta(hours=2), notes="done")
    assert ended.departed_at == FRIDAY_3PM + timedelta(hours=2)
    assert sites.list_visits(db, open_only=True) == []


def test_bad_input_gets_a_diagnosis(db):
    for call in (lambda: service.create_incident(db, title="", severity="low"),
                 lambda: service.create_incident(db, title="t", severity="urgent"),
                 lambda: service.create_incident(db, title="t", severity="low", category="?"),
                 lambda: service.create_incident(db, title="t", severity="low", site="Nowhere"),
                 lambda: service.create_incident(db, title="t", severity="low", nodes=["GHOST"]),
                 lambda: service.get_incident(db, 999)):
        with pytest.raises(ConsoleError) as info:
            call()
        assert info.value.diagnosis.actions
