"""The database: Alembic upgrade from an empty file, WAL and foreign keys, address-book queries."""

from __future__ import annotations

import sqlite3

import pytest

from pacs_console.core.db import engine as db_engine
from pacs_console.core.db.engine import Database, current_revision, head_revision, upgrade
from pacs_console.core.db.nodes import (
    DEMO_NODE_NAME,
    get_node,
    list_nodes,
    register_demo_node,
    save_node,
)


@pytest.fixture
def db(tmp_path):
    """A new database file, upgraded to the head schema on opening; closed after the test."""
    database = Database(tmp_path / "x.sqlite3")
    yield database
    database.close()


def test_schema_head_constant_matches_alembic():
    assert db_engine.SCHEMA_HEAD == head_revision()


def test_upgrade_from_an_empty_file(tmp_path):
    path = tmp_path / "empty.sqlite3"
    path.touch()
    db = Database(path)
    try:
        assert current_revision(db.engine) == head_revision()
        assert db.is_current() and db.integrity_ok()
        tables = {row[0] for row in sqlite3.connect(path).execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"site", "node", "alembic_version"} <= tables
    finally:
        db.close()


def test_downgrade_to_base_and_upgrade_again(db):
    from alembic import command

    with db.engine.begin() as connection:
        command.downgrade(db_engine._alembic_config(connection), "base")
    assert current_revision(db.engine) is None
    upgrade(db.engine)
    assert db.is_current()


def test_wal_and_foreign_keys_are_on(db):
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_foreign_key_to_a_missing_site_is_refused(db):
    from sqlalchemy.exc import IntegrityError

    from pacs_console.core.db.tables import Node

    with pytest.raises(IntegrityError), db.session() as session:
        session.add(Node(name="n", ae_title="A", host="h", port=1, site_id=999))


def test_nodes_save_update_and_list(db):
    save_node(db, "Main PACS", "MAINPACS", "10.0.0.5", 104, tags="pacs")
    save_node(db, "CT1", "CT_KBTH", "10.0.0.9", 104, tags="modality")
    save_node(db, "CT1", "CT_KBTH", "10.0.0.10", 11120, tags="modality")
    assert [n.name for n in list_nodes(db)] == ["CT1", "Main PACS"]
    assert get_node(db, "CT1").port == 11120
    assert get_node(db, "nope") is None


def test_demo_node_is_refreshed_not_duplicated(db):
    register_demo_node(db, "DEMOPACS", "127.0.0.1", 40001)
    register_demo_node(db, "DEMOPACS", "127.0.0.1", 40002)
    demo = [n for n in list_nodes(db) if n.is_demo]
    assert len(demo) == 1 and demo[0].name == DEMO_NODE_NAME and demo[0].port == 40002


def test_every_past_schema_version_upgrades_with_its_data(tmp_path):
    """One real database file per past schema version (tests/fixtures/db) opens and upgrades."""
    import shutil

    from tests.conftest import ROOT

    fixtures = sorted((ROOT / "tests" / "fixtures" / "db").glob("schema-*.sqlite3"))
    assert fixtures, "no past-version databases in tests/fixtures/db"
    for fixture in fixtures:
        copy = tmp_path / fixture.name
        shutil.copy(fixture, copy)
        db = Database(copy)
        try:
            assert db.is_current() and db.integrity_ok()
            nodes = list_nodes(db)
            assert [n.ae_title for n in nodes] == ["TTHPACS"]
        finally:
            db.close()
