"""The audit chain's head travels in every ticket and comment sync sends to a real Request
Tracker 5, so the office sees which head the laptop had; `audit verify --helpdesk` reads them
back and `--head` checks one seen there: a chain rewritten afterwards no longer matches."""

from __future__ import annotations

import json

from pacs_console.core.incidents import audit, service
from pacs_console.core.sync import helpdesk, outbox, tickets
from tests.conftest import run_cli
from tests.core.incidents.test_audit import _forge
from tests.core.sync.conftest import run


def _texts(rt_peer, ticket_id) -> list[str]:
    with rt_peer.client() as client:
        items = client.get(f"/ticket/{ticket_id}/attachments", params={
            "fields": "Content,ContentType,Filename", "per_page": 100}).json()["items"]
    return [i["Content"] for i in items if i["ContentType"] == "text/plain"]


def test_heads_go_to_rt_with_each_item_and_verify_checks_them(rt_ctx, rt_peer):
    ctx = rt_ctx
    record = service.create_incident(ctx.db, title="Router lost the PACS VLAN", severity="high",
                                     actor="ama")
    service.add_note(ctx.db, record.id, "Re-tagged port 12", actor="ama")
    sent_with = audit.head(ctx.db)
    result = run(helpdesk.sync_once(ctx))
    assert result.drain.delivered == 2 and outbox.counts(ctx.db)["done"] == 2
    service.add_note(ctx.db, record.id, "VLAN back, stores pass", actor="ama")
    later = audit.head(ctx.db)
    assert run(helpdesk.sync_once(ctx)).drain.delivered == 1
    ticket_id = tickets.ticket_for(ctx.db, record.uuid)
    texts = _texts(rt_peer, ticket_id)
    heads = [audit.heads_in(t) for t in texts]
    assert len(texts) == 3 and all(len(h) == 1 for h in heads), texts
    # What the office reads on the ticket: the head as it was when each item was sent.
    assert "Audit head: entry " in texts[0] and sent_with["hash"].startswith("hmac:")
    assert heads[0][0] == heads[1][0] == sent_with and heads[2][0] == later

    data_dir = ctx.paths.data.parent
    proc = run_cli("audit", "verify", "--helpdesk", "--json", data_dir=data_dir)
    body = json.loads(proc.stdout)
    assert proc.returncode == 0 and body["state"] == "ok", proc.stdout + proc.stderr
    assert sum(f"helpdesk ticket {ticket_id}" in a for a in body["anchors"]) == 3
    seen = texts[2].splitlines()[-1]  # the line as copied from the ticket
    proc = run_cli("audit", "verify", "--head", seen, data_dir=data_dir)
    assert proc.returncode == 0 and "head given on the command line" in proc.stdout

    _forge(ctx.db, 1, "mallory")  # edited, every hash recomputed, head file rewritten
    proc = run_cli("audit", "verify", "--helpdesk", "--json", data_dir=data_dir)
    body = json.loads(proc.stdout)
    assert proc.returncode == 3 and body["state"] == "tampered"
    mismatches = [p for p in body["problems"] if p["kind"] == "handed-over-mismatch"]
    assert len(mismatches) == 3 and all(f"helpdesk ticket {ticket_id}" in p["message"]
                                        for p in mismatches)
    head = heads[0][0]
    proc = run_cli("audit", "verify", "--head", f"{head['id']}:{head['hash']}",
                   data_dir=data_dir)
    assert proc.returncode == 3 and "handed-over-mismatch" in proc.stdout


def test_a_malformed_head_is_one_line_and_exit_2(data_dir):
    proc = run_cli("audit", "verify", "--head", "not-a-head", data_dir=data_dir)
    assert proc.returncode == 2 and "not an audit head" in proc.stderr
    assert "Traceback" not in proc.stderr and "not an audit head" in proc.stderr.splitlines()[-1]


def test_verify_from_the_helpdesk_without_one_configured_says_so(data_dir):
    proc = run_cli("audit", "verify", "--helpdesk", data_dir=data_dir)
    assert proc.returncode == 1 and "No helpdesk is set up yet" in proc.stderr
    assert "Traceback" not in proc.stderr
