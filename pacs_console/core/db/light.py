"""The light path for evidence: one test run appended with the standard library's sqlite3.

A command line that has just printed an echo or a store result should not load SQLAlchemy,
SQLModel and pydantic (1-2 s on a loaded laptop) to append one row. This writes the same row
the ORM writes (``tables.TestRun``: JSON as ``json.dumps`` text, ``null`` for None, UTC time as
``YYYY-MM-DD HH:MM:SS.ffffff``), but only into a database already at the current schema; for
anything else it returns None and the caller goes through ``testruns.save_test_run``, which
creates and migrates the file. A test reads rows written here back through the ORM.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

# The newest migration's revision (engine.py re-exports it; a test checks it against Alembic).
SCHEMA_HEAD = "0007"

_INSERT = ("INSERT INTO test_run (uuid, node_id, node_label, kind, parameters, started_at, "
           "duration_ms, outcome, summary, metrics, diagnosis, association) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def uuid4_text() -> str:
    """``str(uuid.uuid4())`` without importing uuid (which imports platform: ~3 ms a start)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_open: dict[tuple[str, int, int], sqlite3.Connection] = {}
# Held while the connection is opened or used: a command opens it ahead on a helper thread
# (``open_ahead``), and one connection must never carry two threads' statements at once.
_open_lock = threading.RLock()


def open_ahead(path: Path) -> None:
    """Open this database's light connection now (while a command waits on the network), so
    the save at its end finds it open; nothing when there is no database file yet."""
    _connection(path)


def _connection(path: Path) -> sqlite3.Connection | None:
    with _open_lock:
        return _opened(path)


def _opened(path: Path) -> sqlite3.Connection | None:
    """The process's one light connection to this database (None when it cannot be opened).

    It stays open for the life of the process: closing the last connection to a WAL database
    checkpoints it, and a checkpoint forces the log and the database to disk (four fdatasyncs,
    ~10 ms of a command line's wall time) for nothing the commit had not already done with
    ``synchronous=NORMAL`` (the engine's setting too: a commit is atomic and survives a crash of
    the process; a power cut may lose the last commits, never corrupt the file). A command line
    ends without closing it (``cli.exit_quickly``) and leaves the log to the next opener, whose
    reads see it and whose commits checkpoint it once it grows (SQLite's auto-checkpoint)."""
    try:  # a file replaced at the same path (a restored backup) gets a connection of its own
        info = os.stat(path)
    except OSError:
        return None
    key = (str(path), info.st_dev, info.st_ino)
    connection = _open.get(key)
    if connection is not None:
        return connection
    try:  # callers check is_file first: never creates a database
        connection = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=5000")
        # As the engine's connections (engine.py): in WAL mode a commit waits for no fsync.
        connection.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.Error:
        return None
    for other in _open.values():  # one at a time: a test run opens many databases
        other.close()
    _open.clear()
    _open[key] = connection
    return connection


def save_test_run_light(path: Path, *, kind: str, outcome: str, node_id: int | None = None,
                        node_label: str = "", parameters: dict | None = None,
                        started_at: datetime | None = None, duration_ms: float = 0.0,
                        summary: str = "", metrics: dict | None = None,
                        diagnosis: dict | None = None, association: dict | None = None) -> int | None:
    """The new test run's id, or None when this path cannot write it (no database yet, an
    older schema, a locked or damaged file): then use the ORM, which also says why."""
    if not Path(path).is_file():
        return None
    from pacs_console.core.phi import redact_json  # standard library only: stays light

    # The same rule as testruns.save_test_run: patient data never goes into evidence.
    parameters, metrics, diagnosis, association, summary = redact_json(
        [parameters or {}, metrics or {}, diagnosis, association, summary])
    started = (started_at or datetime.now(UTC)).astimezone(UTC)
    try:
        row = (uuid4_text(), node_id, node_label, kind, json.dumps(parameters or {}),
               started.strftime("%Y-%m-%d %H:%M:%S.%f"), float(duration_ms), outcome, summary,
               json.dumps(metrics or {}), json.dumps(diagnosis), json.dumps(association))
    except (TypeError, ValueError):  # not JSON-able: the ORM path raises and says what
        return None
    with _open_lock:
        return _append(_opened(path), row)


def _append(connection: sqlite3.Connection | None, row: tuple) -> int | None:
    if connection is None:
        return None
    try:
        connection.execute("BEGIN IMMEDIATE")
        version = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        if version is None or version[0] != SCHEMA_HEAD:
            connection.execute("ROLLBACK")
            return None
        run_id = connection.execute(_INSERT, row).lastrowid
        connection.execute("COMMIT")
        return run_id
    except sqlite3.Error:  # locked, damaged, no table: the ORM path says what
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        return None


_NODE_COLUMNS = ("id", "name", "ae_title", "host", "port", "tls", "tls_ca_file", "tls_cert_file",
                 "tls_key_file", "tls_server_name")


def get_node_light(path: Path, name_or_id: str):
    """The address-book node as ``nodes.get_node`` finds it (by id, exact name, or an
    unambiguous AE title), read with sqlite3 into a plain namespace carrying what
    ``Target.from_node`` and evidence need; None when it is not found or this path cannot
    read it (no database yet, an older schema, a locked file): then ask the ORM."""
    from types import SimpleNamespace

    if not Path(path).is_file():
        return None
    select = f"SELECT {', '.join(_NODE_COLUMNS)} FROM node WHERE "
    with _open_lock:
        rows = _node_rows(_opened(path), select, str(name_or_id))
    if not rows:
        return None
    node = SimpleNamespace(**dict(zip(_NODE_COLUMNS, rows[0], strict=True)))
    node.tls = bool(node.tls)
    node.label = f"{node.ae_title}@{node.host}:{node.port}"
    return node


def _node_rows(connection: sqlite3.Connection | None, select: str, name_or_id: str) -> list:
    if connection is None:
        return []
    try:
        version = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        if version is None or version[0] != SCHEMA_HEAD:
            return []
        rows = []
        if str(name_or_id).isdigit():
            rows = connection.execute(select + "id = ?", (int(name_or_id),)).fetchall()
        rows = rows or connection.execute(select + "name = ?", (str(name_or_id),)).fetchall()
        if not rows:
            rows = connection.execute(select + "ae_title = ?", (str(name_or_id),)).fetchall()
            rows = rows if len(rows) == 1 else []
    except sqlite3.Error:
        return []
    return rows
