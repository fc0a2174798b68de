"""Shared fixtures: offscreen Qt, an in-memory keyring, a temp --data-dir per test, real peers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
# Child processes (CLI tests) find the test keyring through the environment.
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.memkeyring.MemoryKeyring"
# The console trusts only keyrings known to encrypt at rest; the tests' memory keyring is
# allowed through this explicit, test-only switch (core/secrets.py).
os.environ["PACS_CONSOLE_TEST_KEYRING"] = "1"
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
os.environ.pop("PACS_CONSOLE_DATA_DIR", None)

pytest_plugins = ["tests.peers.plugin"]


@pytest.fixture(autouse=True, scope="session")
def memory_keyring():
    import keyring

    from tests.memkeyring import MemoryKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def shared_test_keyring(tmp_path_factory, monkeypatch):
    """Each test's keyring is shared with the CLI processes it starts, the way a laptop's
    processes share its OS keyring (the audit chain key must be the same in both)."""
    folder = tmp_path_factory.mktemp("keyring")
    monkeypatch.setenv("PACS_CONSOLE_TEST_KEYRING_FILE", str(folder / "keyring.json"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Every test gets its own --data-dir, so nothing touches the user's real folders."""
    folder = tmp_path / "console-data"
    folder.mkdir()
    return folder


@pytest.fixture
def paths(data_dir: Path):
    from pacs_console.paths import app_paths

    return app_paths(data_dir).ensure()


@pytest.fixture
def ctx(paths):
    from pacs_console.core.context import Context

    context = Context.open(paths)
    yield context
    context.close()


@pytest.fixture
def stopped_after():
    """``stopped_after(server)`` starts a server (anything with start() and stop()) for this
    test and returns it; every server it started is stopped when the test ends, however it ended."""
    servers = []

    def start(server):
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def run_cli(*args: str, data_dir: Path | None = None, timeout: float = 120, env=None):
    """Run ``python -m pacs_console`` as a child process, the way scripts and CI call it."""
    import subprocess

    cmd = [sys.executable, "-m", "pacs_console"]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env={**os.environ, **(env or {})})


def finished_visit(data_dir: Path, *, hours: float = 2, incident: str = "") -> int:
    """A visit to Ho Teaching Hospital by Esi Ɔwusu, ended ``hours`` after it began, with one
    low-severity incident titled ``incident`` when given, in ``data_dir``: the visit's id."""
    from datetime import UTC, datetime, timedelta

    from pacs_console.core.context import Context
    from pacs_console.core.incidents import service, sites
    from pacs_console.paths import app_paths

    ctx = Context.open(app_paths(data_dir))
    try:
        sites.save_site(ctx.db, "Ho Teaching Hospital")
        start = datetime(2025, 6, 10, 8, 0, tzinfo=UTC)
        visit = sites.start_visit(ctx.db, "Ho Teaching Hospital", engineer="Esi Ɔwusu",
                                  arrived_at=start)
        if incident:
            service.create_incident(ctx.db, title=incident, severity="low",
                                    site="Ho Teaching Hospital", reported_at=start,
                                    visit_id=visit.id)
        sites.end_visit(ctx.db, visit.id, departed_at=start + timedelta(hours=hours))
        return visit.id
    finally:
        ctx.close()
