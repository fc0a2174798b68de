"""`pacs-console kb ...` as scripts call it, and 'Known fixes' after a real failure's diagnosis."""

from __future__ import annotations

import json
import socket

from pacs_console.commands import exit_codes
from tests.conftest import run_cli


def ok(*args, data_dir):
    proc = run_cli(*args, data_dir=data_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_new_search_show_suggest(data_dir):
    made = json.loads(ok("kb", "new", "--title", "Archive listener down after power cut",
                         "--body", "Restart the DICOM service; set it to start on boot",
                         "--code", "connection-refused", "--vendor", "Orthanc", "--json",
                         data_dir=data_dir).stdout)
    ok("kb", "new", "--title", "Monthly router checklist", "--body", "check port forwarding",
       data_dir=data_dir)
    hits = json.loads(ok("kb", "search", "power cut", "--json", data_dir=data_dir).stdout)
    assert [h["id"] for h in hits] == [made["id"]]
    text = ok("kb", "search", "router", data_dir=data_dir).stdout
    assert "Monthly router checklist" in text
    shown = ok("kb", "show", str(made["id"]), data_dir=data_dir).stdout
    assert "Restart the DICOM service" in shown and "connection-refused" in shown
    assert json.loads(ok("kb", "show", made["uuid"][:8], "--json",
                         data_dir=data_dir).stdout)["vendor"] == "Orthanc"
    found = json.loads(ok("kb", "suggest", "--code", "CONNECTION-REFUSED", "--json",
                          data_dir=data_dir).stdout)
    assert [f["id"] for f in found] == [made["id"]] and found[0]["where_and_when"]
    assert "No known fixes" in ok("kb", "suggest", "--code", "0xA801", data_dir=data_dir).stdout


def test_bad_input_is_one_line_and_exit_2(data_dir):
    for args in (("kb", "new", "--title", " ", "--body", "x"),
                 ("kb", "new", "--title", "t", "--code", "not a code"),
                 ("kb", "search", "*** ((("),
                 ("kb", "show", "77"),
                 ("kb", "show", "zz"),
                 ("kb", "suggest", "--code", "bad code"),
                 ("kb", "from-incident", "5")):
        proc = run_cli(*args, data_dir=data_dir)
        assert proc.returncode == exit_codes.USAGE or (
            args[1] == "from-incident" and proc.returncode == exit_codes.FAILED), args
        assert len(proc.stderr.strip().splitlines()) >= 1 and "Traceback" not in proc.stderr
        if args[1] != "from-incident":
            assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_known_fixes_follow_a_real_failure_and_an_incident_becomes_an_article(data_dir):
    port = _closed_port()
    proc = run_cli("echo", "127.0.0.1", str(port), data_dir=data_dir)
    assert proc.returncode == exit_codes.REFUSED and "Known fixes" not in proc.stdout
    ok("site", "add", "Ho Teaching Hospital", data_dir=data_dir)
    ok("incident", "new", "--from-test-run", "1", "--severity", "high", "--site",
       "Ho Teaching Hospital", data_dir=data_dir)
    ok("incident", "note", "1", "Found the archive service stopped after the power cut",
       data_dir=data_dir)
    ok("incident", "set-status", "1", "resolved", "--note",
       "Restarted the archive service and set it to start on boot", data_dir=data_dir)
    saved = json.loads(ok("kb", "from-incident", "1", "--json", data_dir=data_dir).stdout)
    assert saved["codes"] == ["connection-refused"] and saved["site"] == "Ho Teaching Hospital"
    assert "start on boot" in saved["fix"] and "power cut" in saved["body"]
    again = json.loads(ok("kb", "from-incident", "1", "--title", "Archive stopped after power cut",
                          "--json", data_dir=data_dir).stdout)
    assert again["id"] == saved["id"] and again["title"] == "Archive stopped after power cut"
    proc = run_cli("echo", "127.0.0.1", str(port), data_dir=data_dir)
    assert proc.returncode == exit_codes.REFUSED
    assert (f"Known fixes: #{saved['id']} Archive stopped after power cut "
            "(Ho Teaching Hospital, ") in proc.stdout
    proc = run_cli("echo", "127.0.0.1", str(port), "--json", data_dir=data_dir)
    assert json.loads(proc.stdout)["result"]["diagnosis"]["code"] == "connection-refused"
