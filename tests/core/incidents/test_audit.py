"""The audit trail: every change recorded, and edits, deletions or insertions outside the app found."""

from __future__ import annotations

import json
import sqlite3

import keyring
import pytest

from pacs_console.core.incidents import audit, service, sites
from pacs_console.core.incidents.queries import export_incidents


@pytest.fixture
def history(db, tamale):
    record = service.create_incident(db, title="PACS down", severity="critical", site=tamale.name)
    service.set_status(db, record.id, "acknowledged", actor="ama")
    service.add_note(db, record.id, "Rebooted the archive", actor="ama")
    export_incidents(db, "csv", actor="ama")
    return record


def _sql(db, statement, *params):
    con = sqlite3.connect(db.path)
    try:
        con.execute(statement, params)
        con.commit()
    finally:
        con.close()


def test_every_change_is_logged_and_the_chain_verifies(db, history):
    report = audit.verify(db)
    assert report.ok, report.problems
    with db.engine.connect() as c:
        actions = c.exec_driver_sql("SELECT action, entity FROM audit_log ORDER BY id").all()
    assert ("create", "site") in actions and ("create", "incident") in actions
    assert ("change", "incident") in actions and ("export", "export") in actions
    assert audit.anchor_path(db).exists()


def test_edited_audit_row_is_detected(db, history):
    _sql(db, "UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
    report = audit.verify(db)
    assert [p.kind for p in report.problems] == ["edited"]


def test_deleted_audit_row_is_detected(db, history):
    _sql(db, "DELETE FROM audit_log WHERE id = 4")
    kinds = {p.kind for p in audit.verify(db).problems}
    assert "chain-broken" in kinds


def test_deleting_the_newest_audit_rows_is_detected(db, history):
    _sql(db, "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)")
    assert "truncated" in {p.kind for p in audit.verify(db).problems}


def test_inserted_audit_row_is_detected(db, history):
    _sql(db, "INSERT INTO audit_log (id, at, actor, action, entity, entity_id, before_digest, "
             "after_digest, detail, prev_hash, hash) SELECT 1000, at, 'x', 'change', 'incident', "
             "'1', '', '', '{}', hash, hash FROM audit_log WHERE id = 2")
    assert not audit.verify(db).ok


def test_data_edited_deleted_or_added_outside_the_app_is_detected(db, history):
    _sql(db, "UPDATE incident SET severity = 'low' WHERE id = ?", history.id)
    assert [p.kind for p in audit.verify(db).problems] == ["changed-outside"]
    _sql(db, "UPDATE incident SET severity = 'critical' WHERE id = ?", history.id)
    assert audit.verify(db).ok
    _sql(db, "DELETE FROM timeline_entry WHERE kind = 'note'")
    assert [p.kind for p in audit.verify(db).problems] == ["deleted-outside"]


def test_incident_inserted_outside_the_app_is_detected(db, history):
    _sql(db, "INSERT INTO incident (uuid, title, severity, status, reported_at, response_due_at, "
             "created_at, updated_at) VALUES ('u', 't', 'low', 'new', '2025-01-01', "
             "'2025-01-01', '2025-01-01', '2025-01-01')")
    assert [p.kind for p in audit.verify(db).problems] == ["added-outside"]


def test_deleting_through_the_app_stays_verifiable(db, history):
    service.delete_incident(db, history.id, actor="ama")
    assert audit.verify(db).ok


def test_sites_made_elsewhere_are_not_tampering_but_their_edits_are(db, tamale):
    from pacs_console.core.db.tables import Site

    with db.session() as session:
        session.add(Site(name="Imported by discovery"))
    assert audit.verify(db).ok
    _sql(db, "UPDATE site SET timezone = 'UTC' WHERE name = ?", tamale.name)
    assert [p.kind for p in audit.verify(db).problems] == ["changed-outside"]
    sites.save_site(db, tamale.name, timezone="Africa/Accra")
    # A later change through the app does not launder the outside edit it found.
    assert [p.kind for p in audit.verify(db).problems] == ["changed-outside"]


def _forge(db, audit_id: int, actor: str) -> None:
    """What someone with the database file but not the keyring can do: edit an entry,
    recompute every hash after it with SHA-256 and rewrite the head file to match."""
    con = sqlite3.connect(db.path)
    try:
        con.execute("UPDATE audit_log SET actor = ? WHERE id = ?", (actor, audit_id))
        rows = con.execute(f"SELECT {audit._HASHED} FROM audit_log ORDER BY id").fetchall()
        prev = audit.GENESIS
        for raw in rows:
            digest = audit._hash(prev, tuple(raw))
            con.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?",
                        (prev, digest, raw[0]))
            prev = digest
        con.commit()
    finally:
        con.close()
    audit.anchor_path(db).write_text(json.dumps({"id": rows[-1][0], "hash": prev}))


def test_a_forged_chain_with_recomputed_hashes_and_anchor_is_detected(db, history):
    report = audit.verify(db)
    assert report.ok and report.keyed, report.problems
    assert any("chain key in the OS keyring" in a for a in report.anchors)
    assert any(a.startswith("head file") for a in report.anchors)
    _forge(db, 3, "mallory")
    kinds = {p.kind for p in audit.verify(db).problems}
    assert "rewritten" in kinds and "edited" in kinds


def test_without_the_key_keyed_entries_cannot_be_checked_and_verify_says_so(db, history):
    with db.engine.connect() as connection:
        name = audit._key_name(connection)
    audit._keys.clear()  # a new process on a laptop whose keyring lost the entry
    keyring.delete_password("pacs-console", name)
    report = audit.verify(db)
    assert [p.kind for p in report.problems] == ["key-missing"] and not report.keyed
    assert "no chain key in the OS keyring" in report.anchors[0]


def test_without_a_secure_keyring_the_chain_is_not_keyed_and_verify_says_so(ctx, monkeypatch):
    monkeypatch.delenv("PACS_CONSOLE_TEST_KEYRING")
    service.create_incident(ctx.db, title="Unkeyed", severity="low")
    report = audit.verify(ctx.db)
    assert report.ok and not report.keyed
    assert "keyring unavailable" in report.anchors[0] and "not keyed" in report.anchors[0]


def test_audit_verify_names_the_anchors_it_checked(data_dir):
    from tests.conftest import run_cli

    assert run_cli("incident", "new", "--title", "Archive down", "--severity", "high",
                   data_dir=data_dir).returncode == 0
    proc = run_cli("audit", "verify", data_dir=data_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "anchor checked: chain key in the OS keyring" in proc.stdout
    assert "anchor checked: head file" in proc.stdout
    body = json.loads(run_cli("audit", "verify", "--json", data_dir=data_dir).stdout)
    assert body["keyed"] is True and len(body["anchors"]) == 2
