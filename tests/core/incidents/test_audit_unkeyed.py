"""Entries written while the keyring was locked or absent, after the chain was keyed: a state
of their own ('unkeyed'), not 'rewritten', with its own exit code; a real Secret Service that
is locked, and no keyring at all, write them. A rewrite without the key is still caught."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

from tests.conftest import ROOT, run_cli

NULL = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
LOCKED_KEYRING = """
set -e
echo -n unlockme | gnome-keyring-daemon --unlock --components=secrets >/dev/null
"$PY" -c 'import secretstorage as s; c=s.dbus_init(); s.get_default_collection(c).lock()'
exec "$PY" "$@"
"""


def _ok(*args, data_dir, env=None):
    proc = run_cli(*args, data_dir=data_dir, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _verify(data_dir, *extra):
    proc = run_cli("audit", "verify", "--json", *extra, data_dir=data_dir)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def _hashes(data_dir) -> list[tuple[int, str]]:
    con = sqlite3.connect(next(data_dir.rglob("*.sqlite3")))
    try:
        return con.execute("SELECT id, hash FROM audit_log ORDER BY id").fetchall()
    finally:
        con.close()


def _locked_cli(data_dir, tmp_path, *args):
    script = tmp_path / "locked.sh"
    script.write_text(LOCKED_KEYRING, encoding="utf-8")
    env = {**os.environ, "PY": sys.executable,
           "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"}
    return subprocess.run(
        ["dbus-run-session", "--", "sh", str(script), "-m", "pacs_console", "--data-dir",
         str(data_dir), *args], capture_output=True, text=True, timeout=180, cwd=ROOT,
        stdin=subprocess.DEVNULL, env=env)


def test_entries_written_without_a_keyring_are_unkeyed_not_rewritten(data_dir):
    _ok("incident", "new", "--title", "Archive down", "--severity", "high", data_dir=data_dir)
    code, body = _verify(data_dir)
    assert code == 0 and body["state"] == "ok" and body["keyed"], body
    keyed_count = len(_hashes(data_dir))
    # The keyring is absent for this run (no backend at all): the entry cannot be keyed.
    _ok("incident", "note", "1", "Rebooted the archive", data_dir=data_dir, env=NULL)
    written = [h for i, h in _hashes(data_dir)][keyed_count:]
    assert written and all(h.startswith("unkeyed:") for h in written), written
    code, body = _verify(data_dir)
    assert code == 4, body
    assert body["state"] == "unkeyed" and body["ok"] is False and body["problems"] == []
    assert body["unkeyed"]["count"] == len(written) == len(body["unkeyed"]["uncovered_ids"])
    assert "written while the keyring was locked or absent" in body["unkeyed"]["what"]
    text = run_cli("audit", "verify", data_dir=data_dir)
    assert text.returncode == 4 and text.stdout.startswith("UNKEYED ENTRIES:"), text.stdout
    assert "[unkeyed]" in text.stdout and "rewritten" not in text.stdout
    help_text = run_cli("audit", "verify", "--help", data_dir=data_dir).stdout
    assert "4  no tampering found, but the newest entries are unkeyed" in help_text
    # A change made with the keyring back covers them: its HMAC chains over their hashes.
    _ok("incident", "note", "1", "Archive back", data_dir=data_dir)
    code, body = _verify(data_dir)
    assert code == 0 and body["state"] == "ok", body
    assert body["unkeyed"]["covered_by_keyed"] == len(written)


def test_a_locked_secret_service_writes_unkeyed_entries(data_dir, tmp_path):
    _ok("incident", "new", "--title", "Worklist empty", "--severity", "medium",
        data_dir=data_dir)
    before = len(_hashes(data_dir))
    proc = _locked_cli(data_dir, tmp_path, "incident", "note", "1", "Checked the MWL")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    written = [h for i, h in _hashes(data_dir)][before:]
    assert written and all(h.startswith("unkeyed:") for h in written)
    code, body = _verify(data_dir)
    assert code == 4 and body["state"] == "unkeyed" and body["problems"] == [], body


def test_a_rewrite_of_unkeyed_entries_is_still_tampering(data_dir):
    _ok("incident", "new", "--title", "Modality rejected", "--severity", "low",
        data_dir=data_dir)
    _ok("incident", "note", "1", "Called the vendor", data_dir=data_dir, env=NULL)
    _ok("incident", "note", "1", "Vendor fixed the AE", data_dir=data_dir)
    con = sqlite3.connect(next(data_dir.rglob("*.sqlite3")))
    try:  # an unkeyed entry edited in place: the keyed entry after it no longer matches
        unkeyed_id = con.execute("SELECT min(id) FROM audit_log WHERE hash LIKE "
                                 "'unkeyed:%'").fetchone()[0]
        con.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = ?", (unkeyed_id,))
        con.commit()
    finally:
        con.close()
    code, body = _verify(data_dir)
    assert code == 3 and body["state"] == "tampered", body
    assert any(p["kind"] == "edited" and p["audit_id"] == unkeyed_id for p in body["problems"])
