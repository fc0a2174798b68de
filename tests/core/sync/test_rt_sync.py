"""Sync against a real Request Tracker 5: create, note, status, files byte-exact, pull-back."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import replace
from datetime import UTC, datetime

from pacs_console.core.incidents import evidence, service
from pacs_console.core.sync import helpdesk, outbox, tickets
from tests.core.sync.conftest import run


def _sync(ctx, **kwargs):
    return run(helpdesk.sync_once(ctx, **kwargs))


def _ticket(rt_peer, ticket_id):
    with rt_peer.client() as client:
        return client.get(f"/ticket/{ticket_id}").json()


def _history(rt_peer, ticket_id):
    with rt_peer.client() as client:
        return client.get(f"/ticket/{ticket_id}/history", params={
            "fields": "Type,Creator,NewValue", "per_page": 100}).json()["items"]


def _reconfigure(ctx, **changes) -> None:
    """The helpdesk settings with ``changes`` (the token stays in the keyring)."""
    helpdesk.save_config(ctx, replace(helpdesk.load_config(ctx), **changes))


def test_incident_note_status_and_files_reach_rt_once(rt_ctx, rt_peer, tmp_path):
    ctx = rt_ctx
    reported = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    record = service.create_incident(ctx.db, title="CT cannot send to PACS", severity="high",
                                     description="Stores time out since 07:40",
                                     reported_at=reported, actor="ama")
    service.add_note(ctx.db, record.id, "Cable re-seated, still failing", actor="ama")
    service.set_status(ctx.db, record.id, "acknowledged", actor="ama")
    blob = bytes(range(256)) * 4000 + os.urandom(3333)
    source = tmp_path / "capture.pcap"
    source.write_bytes(blob)
    evidence.attach_file(ctx.db, ctx.paths.data / "attachments", record.id, source, actor="ama")
    assert outbox.counts(ctx.db)["pending"] == 4

    result = _sync(ctx)
    assert result.drain.delivered == 4 and result.drain.failed == 0, result.drain.to_dict()
    assert outbox.counts(ctx.db)["done"] == 4
    ticket_id = tickets.ticket_for(ctx.db, record.uuid)
    key = outbox.list_items(ctx.db, ("done",), incident_id=record.id)[-1].key
    assert rt_peer.tickets_with_key(key) == [int(ticket_id)]

    ticket = _ticket(rt_peer, ticket_id)
    assert ticket["Status"] == "open" and "CT cannot send to PACS" in ticket["Subject"]
    fields = {cf["name"]: cf["values"] for cf in ticket["CustomFields"]}
    assert fields["DeviceTime"] == [reported.isoformat()]
    kinds = [t["Type"] for t in _history(rt_peer, ticket_id)]
    assert kinds.count("Create") == 1 and kinds.count("Comment") == 3

    with rt_peer.client() as client:
        items = client.get(f"/ticket/{ticket_id}/attachments", params={
            "fields": "Filename,Content", "per_page": 100}).json()["items"]
        create_body = next(i for i in items if "Stores time out" in (i.get("Content") or ""))
        assert "Reported at (device): 2026-03-02T08:15:00+00:00" in create_body["Content"]
        (attachment,) = [i for i in items if i["Filename"] == "capture.pcap"]
        content = client.get(f"/attachment/{attachment['id']}").json()["Content"]
    assert hashlib.sha256(base64.b64decode(content)).digest() == hashlib.sha256(blob).digest()

    # A second sync sends nothing more.
    again = _sync(ctx)
    assert again.drain.delivered == 0
    assert [t["Type"] for t in _history(rt_peer, ticket_id)].count("Comment") == 3


def test_test_run_goes_as_json_and_pull_back_brings_status_and_reply(rt_ctx, rt_peer):
    ctx = rt_ctx
    from pacs_console.core.db.tables import TestRun

    with ctx.db.session() as session:
        run_row = TestRun(kind="echo", node_label="PACS@10.0.0.5:104", outcome="failed",
                          summary="Connection refused", metrics={"connect_ms": 1.5})
        session.add(run_row)
        session.flush()
        run_id = run_row.id
    record = service.create_incident(ctx.db, title="Archive down", severity="critical",
                                     test_run_id=run_id, actor="kofi")
    assert _sync(ctx).drain.delivered == 2
    ticket_id = tickets.ticket_for(ctx.db, record.uuid)
    with rt_peer.client() as client:
        items = client.get(f"/ticket/{ticket_id}/attachments", params={
            "fields": "Filename,ContentType", "per_page": 100}).json()["items"]
        assert any(i["Filename"].startswith("test-run-") and i["ContentType"] ==
                   "application/json" for i in items)
        # The office answers the requestor and resolves the ticket.
        answer = client.post(f"/ticket/{ticket_id}/correspond", json={
            "Content": "Vendor replaced the RAID controller", "ContentType": "text/plain",
            "Status": "resolved"})
        assert answer.status_code == 201

    result = _sync(ctx)
    assert result.pull.events == 2 and result.pull.conflicts == 0, result.pull.to_dict()
    assert service.get_incident(ctx.db, record.id).status == "resolved"
    texts = [e.text for e in service.timeline(ctx.db, record.id)]
    assert any("Vendor replaced the RAID controller" in t for t in texts)
    # What came from the helpdesk is not sent back to it.
    assert outbox.counts(ctx.db)["pending"] == 0
    assert _sync(ctx).pull.events == 0


def test_status_changed_on_both_sides_is_flagged_not_overwritten(rt_ctx, rt_peer):
    ctx = rt_ctx
    record = service.create_incident(ctx.db, title="Worklist empty", severity="medium")
    _sync(ctx)
    ticket_id = tickets.ticket_for(ctx.db, record.uuid)
    with rt_peer.client() as client:
        client.put(f"/ticket/{ticket_id}", json={"Status": "resolved"})
    service.set_status(ctx.db, record.id, "on_hold", hold_reason="waiting for RIS vendor")
    run(tickets.pull(ctx.db, helpdesk.adapter(ctx)))
    assert service.get_incident(ctx.db, record.id).status == "on_hold"
    (conflict,) = tickets.events(ctx.db, incident_id=record.id, conflicts_only=True)
    assert "both sides" in conflict.conflict and conflict.to_status == "resolved"


def test_wrong_token_fails_with_a_credentials_diagnosis_and_keeps_items(rt_ctx, rt_peer):
    ctx = rt_ctx
    service.create_incident(ctx.db, title="One", severity="low")
    service.create_incident(ctx.db, title="Two", severity="low")
    helpdesk.save_config(ctx, helpdesk.load_config(ctx), "1-2-not-a-valid-token")
    result = _sync(ctx)
    # Items already in flight meet the same refusal; then the drain stops claiming.
    assert result.drain.delivered == 0 and result.drain.failed >= 1 and result.drain.stopped
    assert {f["code"] for f in result.drain.failures} == {"helpdesk-unauthorized"}
    assert "credentials" in " ".join(result.drain.failures[0]["actions"])
    counts = outbox.counts(ctx.db)
    assert counts["failed"] + counts["pending"] == 2 and counts["done"] == 0
    report = helpdesk.adapter(ctx).check()
    assert not report.ok and report.diagnosis.code == "helpdesk-unauthorized"
    # New credentials, Retry: everything goes.
    helpdesk.save_config(ctx, helpdesk.load_config(ctx), rt_peer.token)
    outbox.retry_all_failed(ctx.db)
    assert _sync(ctx).drain.delivered == 2


def test_unknown_queue_fails_that_item_and_the_check_names_the_queue(rt_ctx, rt_peer):
    ctx = rt_ctx
    _reconfigure(ctx, queue="No Such Queue")
    service.create_incident(ctx.db, title="Lost", severity="low")
    result = _sync(ctx)
    assert result.drain.failed == 1
    assert result.drain.failures[0]["code"] == "helpdesk-forbidden"
    assert "queue" in " ".join(result.drain.failures[0]["actions"]).lower()
    report = helpdesk.adapter(ctx).check()
    assert report.diagnosis.code == "helpdesk-queue-unknown"


def test_connection_check_passes_and_detects_a_missing_field(rt_ctx, rt_peer):
    ctx = rt_ctx
    report = helpdesk.adapter(ctx).check()
    assert report.ok, report.to_dict()
    assert [c.name for c in report.checks] == ["credentials", "queue", "custom fields", "writable"]
    _reconfigure(ctx, key_field="SyncKey")
    report = helpdesk.adapter(ctx).check()
    assert report.diagnosis.code == "helpdesk-field-missing" and "SyncKey" in report.diagnosis.what


def test_dropped_custom_field_value_is_a_failure(rt_ctx, rt_peer):
    ctx = rt_ctx
    _reconfigure(ctx, time_field="NoSuchField")
    service.create_incident(ctx.db, title="Dropped", severity="low")
    result = _sync(ctx)
    assert result.drain.failures[0]["code"] == "helpdesk-field-dropped"


def test_duplicate_tickets_for_one_key_are_merged_into_the_lowest_id(rt_ctx, rt_peer):
    """Two tickets with the same key (e.g. made by an older client): keep the lowest, merge the rest."""
    ctx = rt_ctx
    record = service.create_incident(ctx.db, title="Duplicate on the helpdesk", severity="low",
                                     actor="ama")
    create = next(i for i in outbox.list_items(ctx.db, ("pending",), limit=100)
                  if i.kind == "create" and i.incident_uuid == record.uuid)
    made = []
    with rt_peer.client() as client:
        for copy in ("first", "second"):
            answer = client.post("/ticket", json={
                "Queue": rt_peer.queue, "Subject": f"Duplicate ({copy})", "Content": copy,
                "CustomFields": {"IdempotencyKey": create.key}})
            answer.raise_for_status()
            made.append(int(answer.json()["id"]))
    assert rt_peer.tickets_with_key(create.key) == sorted(made)
    result = _sync(ctx)
    assert not result.drain.failures
    assert int(tickets.ticket_for(ctx.db, record.uuid)) == min(made)
    assert rt_peer.tickets_with_key(create.key) == [min(made)]
    with rt_peer.client() as client:
        merged = client.get(f"/ticket/{max(made)}").json()
    assert int(merged["EffectiveId"]["id"]) == min(made)
