"""`pacs-console helpdesk set|test|show` and `sync [--dry-run] [--json]` as scripts call them."""

from __future__ import annotations

import json

from pacs_console.core.context import Context
from pacs_console.core.incidents import service
from pacs_console.paths import app_paths
from tests.conftest import run_cli


def test_set_test_and_sync_headless(data_dir, rt_peer):
    # The child's keyring is per process in tests: the token travels in the environment.
    env = {"PACS_CONSOLE_HELPDESK_TOKEN": rt_peer.token}
    done = run_cli("helpdesk", "set", "--kind", "rt", "--url", rt_peer.url, "--queue",
                   rt_peer.queue, "--user", rt_peer.user, "--json", data_dir=data_dir, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["token_persistent"] is True
    settings = (data_dir / "config" / "settings.json").read_text()
    assert rt_peer.token not in settings and rt_peer.url in settings

    shown = json.loads(run_cli("helpdesk", "show", "--json", data_dir=data_dir).stdout)
    assert shown["configured"] and shown["config"]["queue"] == rt_peer.queue

    tested = run_cli("helpdesk", "test", "--json", data_dir=data_dir, env=env)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert json.loads(tested.stdout)["ok"] is True

    ctx = Context.open(app_paths(data_dir))
    try:
        record = service.create_incident(ctx.db, title="Headless sync", severity="low")
        service.add_note(ctx.db, record.id, "from the CLI test")
    finally:
        ctx.close()
    dry = run_cli("sync", "--dry-run", "--json", data_dir=data_dir, env=env)
    planned = json.loads(dry.stdout)["would_send"]
    assert [p["kind"] for p in planned] == ["create"]  # the note waits behind its create

    synced = run_cli("sync", "--json", data_dir=data_dir, env=env)
    body = json.loads(synced.stdout)
    assert synced.returncode == 0 and body["drain"]["delivered"] == 2, synced.stdout
    assert body["counts"]["done"] == 2 and body["counts"]["pending"] == 0


def test_wrong_token_and_unconfigured_give_a_diagnosis(data_dir, rt_peer):
    missing = run_cli("sync", data_dir=data_dir)
    assert missing.returncode == 1 and "No helpdesk is set up" in missing.stderr
    env = {"PACS_CONSOLE_HELPDESK_TOKEN": "1-1-wrong"}
    run_cli("helpdesk", "set", "--url", rt_peer.url, "--queue", rt_peer.queue, "--user",
            rt_peer.user, data_dir=data_dir, env=env)
    tested = run_cli("helpdesk", "test", data_dir=data_dir, env=env)
    assert tested.returncode == 1
    assert "refused the API token" in tested.stderr and "Re-enter" in tested.stderr


def test_sync_exits_non_zero_while_items_are_in_flight_and_says_why(data_dir, rt_peer):
    import socket
    import subprocess
    import sys

    import psutil

    from pacs_console.core.sync import outbox

    env = {"PACS_CONSOLE_HELPDESK_TOKEN": rt_peer.token}
    assert run_cli("helpdesk", "set", "--url", rt_peer.url, "--queue", rt_peer.queue, "--user",
                   rt_peer.user, data_dir=data_dir, env=env).returncode == 0
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    ctx = Context.open(app_paths(data_dir))
    try:
        record = service.create_incident(ctx.db, title="Held by another sync", severity="low")
        service.add_note(ctx.db, record.id, "waits behind its create")
        owner = (f"{socket.gethostname()}:{other.pid}:"
                 f"{psutil.Process(other.pid).create_time():.2f}:abcd1234")
        assert len(outbox.claim(ctx.db, owner, lease_s=600)) == 1
    finally:
        ctx.close()
    try:
        synced = run_cli("sync", data_dir=data_dir, env=env)
        assert synced.returncode == 1, synced.stdout + synced.stderr
        assert "2 items not delivered (1 in flight under another sync process; 1 pending" \
            in synced.stderr
        body = json.loads(run_cli("sync", "--json", data_dir=data_dir, env=env).stdout)
        assert body["ok"] is False and body["undelivered"]["count"] == 2
        assert body["undelivered"]["in_flight"] == 1
        dry = run_cli("sync", "--dry-run", data_dir=data_dir, env=env)
        assert dry.returncode == 1
        assert "1 pending, 1 in flight, 0 failed in total" in dry.stdout.splitlines()[0]
        assert "(in flight under another sync)" in dry.stdout
        assert "2 items not delivered" in dry.stderr
    finally:
        other.kill()
        other.wait(10)
    # The other sync died holding the create: the next sync takes it over at once.
    synced = run_cli("sync", "--json", data_dir=data_dir, env=env)
    body = json.loads(synced.stdout)
    assert synced.returncode == 0, synced.stdout
    assert body["ok"] is True and body["drain"]["delivered"] == 2
    assert body["undelivered"]["count"] == 0
