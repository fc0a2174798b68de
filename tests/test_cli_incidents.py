"""`pacs-console site|visit|incident|incidents|audit` as scripts call them (child processes)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

from tests.conftest import run_cli


def ok(*args, data_dir):
    proc = run_cli(*args, data_dir=data_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_incident_lifecycle_from_the_command_line(data_dir):
    ok("site", "add", "Tamale Teaching Hospital", "--region", "Northern",
       "--hours", "sat=09:00-13:00", data_dir=data_dir)
    sites = json.loads(ok("site", "list", "--json", data_dir=data_dir).stdout)
    assert sites[0]["business_hours"]["sat"] == "09:00-13:00"
    visit = json.loads(ok("visit", "start", "--site", "Tamale Teaching Hospital", "--json",
                          data_dir=data_dir).stdout)
    created = json.loads(ok("incident", "new", "--title", "Archive refuses stores",
                            "--severity", "medium", "--site", "Tamale Teaching Hospital",
                            "--reported-at", "2025-06-13T15:00:00+00:00", "--visit",
                            str(visit["id"]), "--json", data_dir=data_dir).stdout)
    # Friday 15:00 + 4 business hours: 2 on Friday, 2 on Saturday (09:00-13:00 at this site).
    assert created["sla"]["response_due_at"] == "2025-06-14T11:00:00+00:00"
    assert created["sla"]["state"] == "breached" and len(created["uuid"]) == 36
    ok("incident", "set-status", created["uuid"][:8], "acknowledged", "--at",
       "2025-06-14T10:00:00Z", data_dir=data_dir)
    ok("incident", "note", str(created["id"]), "Restarted the archive listener",
       data_dir=data_dir)
    listed = json.loads(ok("incident", "list", "--search", "listener", "--json",
                           data_dir=data_dir).stdout)
    assert [i["uuid"] for i in listed] == [created["uuid"]]
    assert listed[0]["status"] == "acknowledged" and listed[0]["sla"]["state"] == "met"
    shown = json.loads(ok("incident", "show", str(created["id"]), "--json",
                          data_dir=data_dir).stdout)
    assert [e["kind"] for e in shown["timeline"]] == ["created", "status", "note"]
    rows = list(csv.DictReader(io.StringIO(ok("incidents", "export", "--format", "csv",
                                              data_dir=data_dir).stdout)))
    assert rows[0]["title"] == "Archive refuses stores" and rows[0]["response_minutes"]
    out = data_dir / "export.json"
    ok("incidents", "export", "--format", "json", "-o", str(out), data_dir=data_dir)
    assert json.loads(out.read_text())["incidents"][0]["id"] == created["id"]
    ended = json.loads(ok("visit", "end", "--json", data_dir=data_dir).stdout)
    assert ended["incident_ids"] == [created["id"]] and ended["departed_at"]

    verified = json.loads(ok("audit", "verify", "--json", data_dir=data_dir).stdout)
    assert verified["ok"] and verified["entries"] >= 8
    con = sqlite3.connect(data_dir / "data" / "pacs-console.sqlite3")
    con.execute("UPDATE incident SET title = 'nothing happened'")
    con.commit()
    con.close()
    tampered = run_cli("audit", "verify", data_dir=data_dir)
    assert tampered.returncode == 3
    assert "TAMPERING FOUND" in tampered.stdout and "changed-outside" in tampered.stdout


def test_errors_are_diagnosed_with_a_non_zero_exit(data_dir):
    proc = run_cli("incident", "new", "--title", "x", "--severity", "low", "--site", "Nowhere",
                   data_dir=data_dir)
    assert proc.returncode == 1 and "No site 'Nowhere'" in proc.stderr
    assert "What to try" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("incident", "set-status", "1", "on_hold", "--json", data_dir=data_dir)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["error"]["code"] == "incident-unknown"
    assert run_cli("incident", "new", "--title", "x", "--severity", "urgent",
                   data_dir=data_dir).returncode == 2
