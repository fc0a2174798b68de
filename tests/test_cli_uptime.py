"""`pacs-console maintenance|uptime` as scripts call them, on echo runs the CLI itself saved."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from pacs_console.core.dicom.servers.demo import DemoPacs
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
    assert 0 < node["monitored_fraction"] < 1 and 0 < node["observed_fraction"] < 1
    # Two echo samples are not an uptime figure: no percentage, no verdict, and it says why.
    assert node["fraction"] is None and node["meets_target"] is None
    assert node["enough_data"] is False and node["verdict"] == "not enough data"
    assert node["basis"].startswith("2 echo samples over ") and "monitored" in node["basis"]
    text = ok("uptime", "--node", "DEMOPACS", *period, data_dir=data_dir).stdout
    assert "Demo archive" in text and "not enough data (2 echo samples over " in text
    assert "%" not in text.splitlines()[1].split("(")[0]  # no figure before the reason
    assert "met" not in text.splitlines()[1] and "MISSED" not in text

    # Declared maintenance covering the outage takes it out of the figure.
    added = json.loads(ok("maintenance", "add", "--site", "Korle Bu", "--node", "Demo archive",
                          "--start", since.isoformat(), "--end", until.isoformat(),
                          "--reason", "archive firmware upgrade", "--json",
                          data_dir=data_dir).stdout)
    assert added["scope"] == "Demo archive" and added["site_name"] == "Korle Bu"
    node = json.loads(ok("uptime", *period, "--json", data_dir=data_dir).stdout)["nodes"][0]
    assert node["down_s"] == 0 and node["maintenance_s"] > 0 and node["meets_target"] is None
    assert node["verdict"] == "not enough data"

    listed = json.loads(ok("maintenance", "list", "--json", data_dir=data_dir).stdout)
    assert [w["id"] for w in listed] == [added["id"]]
    assert "archive firmware upgrade" in ok("maintenance", "list", data_dir=data_dir).stdout
    ok("maintenance", "delete", str(added["id"]), data_dir=data_dir)
    assert json.loads(ok("maintenance", "list", "--json", data_dir=data_dir).stdout) == []
    assert json.loads(ok("audit", "verify", "--json", data_dir=data_dir).stdout)["ok"]


def test_uptime_figures_state_what_they_were_computed_from(data_dir):
    """Enough echo history gives a figure and a verdict, each naming its basis."""
    from pacs_console.core.context import Context
    from pacs_console.core.db.nodes import get_node
    from pacs_console.core.db.testruns import save_test_run
    from pacs_console.paths import app_paths

    ok("site", "add", "Korle Bu", data_dir=data_dir)
    _add_node(data_dir, 104, "Korle Bu")
    start = datetime(2025, 6, 1, tzinfo=UTC)
    ctx = Context.open(app_paths(data_dir))
    try:
        node_id = get_node(ctx.db, "Demo archive").id
        for minute in range(60):  # one echo a minute for an hour; down for 2 of them
            save_test_run(ctx.db, kind="echo", outcome="failed" if minute in (30, 31) else "ok",
                          node_id=node_id, started_at=start + timedelta(minutes=minute))
    finally:
        ctx.close()
    period = ("--since", start.isoformat(), "--until", (start + timedelta(hours=1)).isoformat())
    node = json.loads(ok("uptime", *period, "--json", data_dir=data_dir).stdout)["nodes"][0]
    assert node["enough_data"] is True and node["verdict"] == "missed"
    assert abs(node["fraction"] - 58 / 60) < 1e-9
    assert node["basis"] == ("60 echo samples over 1 h 00 min monitored, 100.0 % of the "
                             "1 h 00 min outside maintenance")
    text = ok("uptime", *period, data_dir=data_dir).stdout
    assert ("96.667 % (missed against 99.9 %) from 60 echo samples over 1 h 00 min monitored"
            in text)

    # The same hour within three: 74 min watched (the last result holds 15 min) is too little.
    longer = ("--since", start.isoformat(), "--until", (start + timedelta(hours=3)).isoformat())
    node = json.loads(ok("uptime", *longer, "--json", data_dir=data_dir).stdout)["nodes"][0]
    assert node["fraction"] is None and node["verdict"] == "not enough data"
    assert node["basis"] == ("60 echo samples over 1 h 14 min monitored, 41.1 % of the "
                             "3 h 00 min outside maintenance")


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
