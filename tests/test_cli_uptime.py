"""`pacs-console maintenance|uptime` as scripts call them, on echo runs the CLI itself saved."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from pacs_console.core.dicom.demo import DemoPacs
from tests.conftest import run_cli


def ok(*args, data_dir):
    proc = run_cli(*args, data_dir=data_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _add_node(data_dir, port: int, site: str) -> None:
    """The address book has no CLI yet: add the node the way the Tests panel does."""
    from pacs_console.core.context import Context
    from pacs_console.core.db.nodes import save_node
    from pacs_console.core.incidents.sites import get_site
    from pacs_console.paths import app_paths

    ctx = Context.open(app_paths(data_dir))
    try:
        save_node(ctx.db, "Demo archive", "DEMOPACS", "127.0.0.1", port,
                  site_id=get_site(ctx.db, site).id)
    finally:
        ctx.close()


def test_uptime_from_echo_runs_with_maintenance_excluded(data_dir):
    ok("site", "add", "Korle Bu", data_dir=data_dir)
    since = datetime.now(UTC) - timedelta(seconds=1)
    pacs = DemoPacs(port=0).start()
    try:
        _add_node(data_dir, pacs.port, "Korle Bu")
        ok("echo", "--node", "Demo archive", data_dir=data_dir)
    finally:
        pacs.stop()
    failed = run_cli("echo", "--node", "Demo archive", "-to", "2", data_dir=data_dir)
    assert failed.returncode != 0
    until = datetime.now(UTC) + timedelta(seconds=1)
    period = ("--since", since.isoformat(), "--until", until.isoformat())

    report = json.loads(ok("uptime", "--site", "Korle Bu", *period, "--json",
                           data_dir=data_dir).stdout)
    (node,) = report["nodes"]
    assert node["name"] == "Demo archive" and node["site"] == "Korle Bu"
    assert node["samples"] == 2 and node["up_s"] > 0 and node["down_s"] > 0
    assert node["meets_target"] is False and 0 < node["monitored_fraction"] < 1
    text = ok("uptime", "--node", "DEMOPACS", *period, data_dir=data_dir).stdout
    assert "Demo archive" in text and "MISSED" in text

    # Declared maintenance covering the outage takes it out of the figure.
    added = json.loads(ok("maintenance", "add", "--site", "Korle Bu", "--node", "Demo archive",
                          "--start", since.isoformat(), "--end", until.isoformat(),
                          "--reason", "archive firmware upgrade", "--json",
                          data_dir=data_dir).stdout)
    assert added["scope"] == "Demo archive" and added["site_name"] == "Korle Bu"
    node = json.loads(ok("uptime", *period, "--json", data_dir=data_dir).stdout)["nodes"][0]
    assert node["down_s"] == 0 and node["maintenance_s"] > 0 and node["meets_target"] is None

    listed = json.loads(ok("maintenance", "list", "--json", data_dir=data_dir).stdout)
    assert [w["id"] for w in listed] == [added["id"]]
    assert "archive firmware upgrade" in ok("maintenance", "list", data_dir=data_dir).stdout
    ok("maintenance", "delete", str(added["id"]), data_dir=data_dir)
    assert json.loads(ok("maintenance", "list", "--json", data_dir=data_dir).stdout) == []
    assert json.loads(ok("audit", "verify", "--json", data_dir=data_dir).stdout)["ok"]


def test_maintenance_and_uptime_errors_are_diagnosed(data_dir):
    ok("site", "add", "Korle Bu", data_dir=data_dir)
    proc = run_cli("maintenance", "add", "--site", "Korle Bu", "--start", "2025-06-01T12:00Z",
                   "--end", "2025-06-01T10:00Z", "--reason", "x", data_dir=data_dir)
    assert proc.returncode == 1 and "must end after it starts" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli("maintenance", "add", "--site", "Nowhere", "--start", "2025-06-01T10:00Z",
                   "--end", "2025-06-01T12:00Z", "--reason", "x", "--json", data_dir=data_dir)
    assert proc.returncode == 1 and json.loads(proc.stdout)["error"]["code"] == "site-unknown"
    proc = run_cli("maintenance", "delete", "42", data_dir=data_dir)
    assert proc.returncode == 1 and "No maintenance window 42" in proc.stderr
    proc = run_cli("uptime", "--node", "NOPE", data_dir=data_dir)
    assert proc.returncode == 1 and "No node 'NOPE'" in proc.stderr
    assert run_cli("maintenance", "add", "--site", "Korle Bu", "--start", "yesterday",
                   "--end", "2025-06-01T12:00Z", "--reason", "x",
                   data_dir=data_dir).returncode == 2
