"""The audit trail: every change recorded, and edits, deletions or insertions outside the app found."""

from __future__ import annotations

import sqlite3

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
