"""The SQLite engine (WAL, foreign keys, busy timeout) and Alembic upgrades to head."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest migration's revision. Checked against Alembic by a test; lets a start-up on an
# up-to-date database skip importing Alembic at all.
SCHEMA_HEAD = "0006"


def _on_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer, and a crash mid-write keeps committed data.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(path: Path) -> Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _on_connect)
    return engine


def _alembic_config(connection=None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


# Alembic's `op` and `context` are module globals: two threads migrating at once corrupt them.
_ALEMBIC_LOCK = threading.Lock()


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    with _ALEMBIC_LOCK, engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        has_table = connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'").first()
        if not has_table:
            return None
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


class Database:
    """One SQLite file: opened, upgraded to the latest schema, handing out sessions."""

    def __init__(self, path: Path, *, migrate: bool = True) -> None:
        self.path = path
        self.engine = make_engine(path)
        if migrate and current_revision(self.engine) != SCHEMA_HEAD:
            self._upgrade_exclusively()

    def _upgrade_exclusively(self) -> None:
        """Two windows, threads or processes opening one file must not both run a migration.

        SQLite's own locking on a side file serialises them portably (no fcntl on Windows).
        """
        lock = sqlite3.connect(f"{self.path}.migrate-lock", timeout=120, isolation_level=None)
        try:
            lock.execute("BEGIN EXCLUSIVE")
            if current_revision(self.engine) != SCHEMA_HEAD:
                log.info("Upgrading %s to schema %s", self.path, SCHEMA_HEAD)
                upgrade(self.engine)
            lock.execute("COMMIT")
        finally:
            lock.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def is_current(self) -> bool:
        return current_revision(self.engine) == SCHEMA_HEAD

    def integrity_ok(self) -> bool:
        with self.engine.connect() as connection:
            return connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"

    def close(self) -> None:
        self.engine.dispose()
