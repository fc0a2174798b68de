"""Schema 0003 on every past database version, and a writer killed with SIGKILL mid-save."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from pacs_console.core.db import engine as db_engine
from pacs_console.core.db.engine import Database, current_revision, upgrade
from pacs_console.core.incidents import audit, service, sites
from tests.conftest import ROOT

FIXTURES = sorted((ROOT / "tests" / "fixtures" / "db").glob("schema-*.sqlite3"))


def test_a_fixture_exists_for_every_past_schema_version():
    versions = {f.stem.removeprefix("schema-") for f in FIXTURES}
    past = {f"{n:04d}" for n in range(1, int(db_engine.SCHEMA_HEAD))}
    assert past <= versions


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_past_database_upgrades_keeping_its_data_and_takes_incidents(tmp_path, fixture):
    copy = tmp_path / fixture.name
    shutil.copy(fixture, copy)
    db = Database(copy)
    try:
        assert db.is_current() and db.integrity_ok()
        site = sites.get_site(db, "Tamale Teaching Hospital")
        assert site.timezone == "Africa/Accra" and site.holiday_country == "GH"
        assert site.calendar().hours_text()["mon"] == "08:00-17:00"
        if fixture.stem >= "schema-0002":
            with db.engine.connect() as c:
                assert c.exec_driver_sql("SELECT count(*) FROM test_run").scalar() == 1
        record = service.create_incident(db, title="After upgrade", severity="medium",
                                         site=site.name, nodes=["TTHPACS"],
                                         reported_at=datetime(2025, 6, 10, 15, tzinfo=UTC))
        assert record.response_due_at == datetime(2025, 6, 11, 10, tzinfo=UTC)
        if fixture.stem >= "schema-0003":
            old = service.get_incident(db, 1)
            assert old.title == "Archive refuses stores" and old.status == "acknowledged"
            assert sorted(e.kind for e in service.timeline(db, 1)) == [
                "created", "note", "status", "test_run"]
        assert audit.verify(db).ok
    finally:
        db.close()


def test_downgrade_to_0002_and_back(tmp_path):
    from alembic import command

    db = Database(tmp_path / "x.sqlite3")
    try:
        service.create_incident(db, title="t", severity="low")
        with db.engine.begin() as connection:
            command.downgrade(db_engine._alembic_config(connection), "0002")
        assert current_revision(db.engine) == "0002"
        tables = {r[0] for r in sqlite3.connect(db.path).execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}
        assert "incident" not in tables and "test_run" in tables
        upgrade(db.engine)
        assert db.is_current() and db.integrity_ok()
    finally:
        db.close()


WRITER = """
import sys
from pacs_console.core.db.engine import Database
from pacs_console.core.incidents import service
db = Database(__import__('pathlib').Path(sys.argv[1]))
n = 0
while True:
    n += 1
    record = service.create_incident(db, title=f'Crash test {n}', severity='high',
                                     description='x' * 2000)
    service.add_note(db, record.id, f'note for {record.uuid}')
    print(record.uuid, flush=True)
"""


def test_sigkill_while_saving_keeps_every_committed_incident(tmp_path):
    path = tmp_path / "crash.sqlite3"
    Database(path).close()  # migrate first, so the child only writes incidents
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                             text=True, cwd=ROOT)
    committed = []
    try:
        while len(committed) < 40:
            line = child.stdout.readline()
            assert line, "the writer stopped early"
            committed.append(line.strip())
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    db = Database(path)
    try:
        assert db.integrity_ok()
        with db.engine.connect() as c:
            stored = {r[0] for r in c.exec_driver_sql("SELECT uuid FROM incident")}
        assert set(committed) <= stored
        for uuid in committed:
            assert service.timeline(db, uuid)[-1].text == f"note for {uuid}"
        assert audit.verify(db).ok
    finally:
        db.close()
