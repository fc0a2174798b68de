"""The evidence light path (stdlib sqlite3) writes the row the ORM writes, or leaves it to the ORM."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from pacs_console.core.db.engine import Database
from pacs_console.core.db.light import save_test_run_light
from pacs_console.core.db.testruns import get_test_run, list_test_runs, save_test_run

EVIDENCE = {"kind": "echo", "outcome": "failed", "node_label": "ORTHANC@127.0.0.1:4244",
            "parameters": {"target": {"host": "127.0.0.1", "port": 4244}},
            "metrics": {"connect_ms": 0.4, "echo_ms": None, "nested": [1, "ɛɔ"]},
            "diagnosis": {"code": "connection-refused", "what": "Kɔfi's PACS refused"},
            "association": None, "summary": "C-ECHO failed", "duration_ms": 1.5}


def test_a_light_row_reads_back_through_the_orm_like_an_orm_row(tmp_path):
    path = tmp_path / "db.sqlite3"
    db = Database(path)
    try:
        orm = save_test_run(db, **EVIDENCE)
        when = datetime(2099, 12, 5, 2, 30, 1, 123456, tzinfo=UTC)
        light_id = save_test_run_light(path, started_at=when, **EVIDENCE)
        assert light_id == orm.id + 1
        light = get_test_run(db, light_id)
        for name in ("kind", "outcome", "node_label", "parameters", "metrics", "diagnosis",
                     "association", "summary", "duration_ms", "node_id"):
            assert getattr(light, name) == getattr(orm, name), name
        assert light.started_at.replace(tzinfo=None) == when.replace(tzinfo=None)
        assert len(light.uuid) == 36 and light.uuid != orm.uuid
        assert [r.id for r in list_test_runs(db)] == [light_id, orm.id]  # newest (2099) first
        stored = sqlite3.connect(path).execute(
            "SELECT diagnosis, association, typeof(association) FROM test_run WHERE id = ?",
            (light_id,)).fetchone()
        orm_stored = sqlite3.connect(path).execute(
            "SELECT typeof(association), association FROM test_run WHERE id = ?",
            (orm.id,)).fetchone()
        assert stored[2] == orm_stored[0] and stored[1] == orm_stored[1]  # None as JSON null
    finally:
        db.close()


def test_no_database_or_an_older_schema_is_left_to_the_orm(tmp_path):
    path = tmp_path / "db.sqlite3"
    assert save_test_run_light(path, **EVIDENCE) is None and not path.exists()
    db = Database(path)
    db.close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0004'")
    assert save_test_run_light(path, **EVIDENCE) is None
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM test_run").fetchone()[0] == 0


def test_what_json_cannot_hold_is_left_to_the_orm(tmp_path):
    path = tmp_path / "db.sqlite3"
    Database(path).close()
    assert save_test_run_light(path, **{**EVIDENCE, "metrics": {"x": object()}}) is None
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM test_run").fetchone()[0] == 0


def test_the_light_path_redacts_patient_data_like_the_orm(tmp_path):
    """A find without --node saves its evidence through the light path: the query keys hold
    the patient's name and ID, which must not reach the database."""
    from pacs_console.core.db.engine import Database
    from pacs_console.core.db.light import save_test_run_light
    from pacs_console.core.db.testruns import get_test_run

    db = Database(tmp_path / "console.sqlite3")
    run_id = save_test_run_light(
        db.path, kind="find", outcome="ok", node_label="ORTHANC@127.0.0.1:4",
        parameters={"level": "STUDY", "keys": {"name": "MENSAH^KOFI", "patient_id": "KB123"}},
        summary="C-FIND: 1 match")
    assert run_id is not None
    raw = db.path.read_bytes() + (db.path.with_name(db.path.name + "-wal").read_bytes()
                                  if db.path.with_name(db.path.name + "-wal").exists() else b"")
    assert b"MENSAH" not in raw and b"KB123" not in raw
    saved = get_test_run(db, run_id)
    assert saved.parameters["level"] == "STUDY" and "MENSAH" not in str(saved.parameters)
    db.close()


def test_a_node_read_light_is_the_node_the_orm_finds(tmp_path):
    """By id, exact name or unambiguous AE title, as ``nodes.get_node``; anything else None."""
    from pacs_console.core.db.light import get_node_light
    from pacs_console.core.db.nodes import get_node, save_node

    path = tmp_path / "db.sqlite3"
    assert get_node_light(path, "Main PACS") is None  # no database yet
    db = Database(path)
    try:
        save_node(db, "Main PACS", "MAINPACS", "127.0.0.5", 4242, tls=True,
                  tls_server_name="pacs.example")
        save_node(db, "CT room", "SAMEAE", "127.0.0.6", 104)
        save_node(db, "MR room", "SAMEAE", "127.0.0.7", 104)
        orm = get_node(db, "Main PACS")
        for key in ("Main PACS", str(orm.id), "MAINPACS"):
            light = get_node_light(path, key)
            for name in ("id", "name", "ae_title", "host", "port", "tls", "tls_server_name"):
                assert getattr(light, name) == getattr(orm, name), (key, name)
            assert light.label == orm.label
        assert get_node_light(path, "SAMEAE") is None and get_node(db, "SAMEAE") is None
        assert get_node_light(path, "Nowhere") is None
        sqlite3.connect(path).execute("UPDATE alembic_version SET version_num = '0001'") \
            .connection.commit()
        assert get_node_light(path, "Main PACS") is None  # an older schema: the ORM migrates
    finally:
        db.close()


def test_evidence_left_in_the_log_by_quickly_exiting_processes_is_all_there(tmp_path):
    """Command lines end without closing the light connection (no checkpoint at exit): each
    one's commit is in the write-ahead log, which the next process and the ORM read."""
    import subprocess
    import sys

    path = tmp_path / "db.sqlite3"
    Database(path).close()
    program = ("import sys; from pathlib import Path; from pacs_console.cli import exit_quickly; "
               "from pacs_console.core.db.light import get_node_light, save_test_run_light; "
               "p = Path(sys.argv[1]); get_node_light(p, 'none'); "
               "print(save_test_run_light(p, kind='echo', outcome='passed', summary=sys.argv[2])); "
               "exit_quickly(0)")
    ids = [subprocess.run([sys.executable, "-c", program, str(path), f"run {n}"], check=True,
                          capture_output=True, text=True, timeout=60).stdout.strip()
           for n in range(3)]
    assert ids == ["1", "2", "3"]
    assert path.with_name("db.sqlite3-wal").stat().st_size > 0  # not checkpointed at exit
    db = Database(path)
    try:
        assert sorted(r.summary for r in list_test_runs(db)) == ["run 0", "run 1", "run 2"]
    finally:
        db.close()
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()


def test_a_connection_opened_ahead_on_another_thread_is_the_one_the_save_uses(tmp_path):
    import threading

    from pacs_console.core.db.light import open_ahead

    missing = tmp_path / "none.sqlite3"
    open_ahead(missing)
    assert not missing.exists()  # opening ahead never creates a database
    path = tmp_path / "db.sqlite3"
    Database(path).close()
    openers = [threading.Thread(target=open_ahead, args=(path,)) for _ in range(4)]
    for opener in openers:
        opener.start()
    first = save_test_run_light(path, **EVIDENCE)  # while the openers may still run
    for opener in openers:
        opener.join()
    second = save_test_run_light(path, **EVIDENCE)
    assert first is not None and second == first + 1
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM test_run").fetchone()[0] == 2


def test_threads_saving_at_once_share_the_one_connection_without_losing_a_row(tmp_path):
    """The light connection is one per process: statements of two threads never interleave
    on it (a second BEGIN inside the first's transaction would fail and fall back)."""
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "db.sqlite3"
    Database(path).close()
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda n: save_test_run_light(path, **{**EVIDENCE, "summary": f"{n}"}),
                            range(200)))
    assert None not in ids and sorted(ids) == list(range(1, 201))
    rows = sqlite3.connect(path).execute("SELECT summary FROM test_run").fetchall()
    assert sorted(int(summary) for (summary,) in rows) == list(range(200))
