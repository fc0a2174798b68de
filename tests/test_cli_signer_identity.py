"""Issue: signed reports name the right person. The sample signs as a sample; a real visit is
signed by the engineer profile, and nothing else: certificate, visible stamp and `report verify`
agree; a look-alike certificate is unknown; a locked keyring never loses the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, run_cli

PASS = {"PACS_CONSOLE_SIGNING_PASSPHRASE": "field pass ɛ 2026"}
NAME, ORG = "Ama Owusu", "Akwaaba Imaging Services"
SITE = "Tamale Teaching Hospital"


def _ok(*args, data_dir, env=None):
    proc = run_cli(*args, data_dir=data_dir, env=env)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc


def _flat_text(pdf: Path) -> str:
    """Page text with the signature's visible stamp drawn in (pdftocairo flattens annotations)."""
    flat = pdf.with_suffix(".flat.pdf")
    subprocess.run(["pdftocairo", "-pdf", str(pdf), str(flat)], check=True, timeout=60)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(flat), "-"], capture_output=True,
                          text=True, check=True, timeout=60).stdout


def _visit_with_incidents(data_dir: Path) -> int:
    _ok("site", "add", SITE, data_dir=data_dir)
    visit = json.loads(_ok("visit", "start", "--site", SITE, "--json", data_dir=data_dir).stdout)
    for title in ("CT cannot send to the archive", "Worklist empty on US 2", "Slow C-MOVE"):
        # Created at the site while its visit is open: linked to the visit automatically.
        _ok("incident", "new", "--title", title, "--severity", "high", "--site", SITE,
            data_dir=data_dir)
    _ok("visit", "end", data_dir=data_dir)
    return visit["id"]


def test_sample_first_then_real_visit_name_the_profile_person(data_dir, tmp_path):
    sample = tmp_path / "sample.pdf"
    _ok("report", "build", "--sample", "--out", str(sample), data_dir=data_dir)
    _ok("profile", "set", "--name", NAME, "--org", ORG, "--role", "Field engineer",
        data_dir=data_dir)
    shown = json.loads(_ok("profile", "show", "--json", data_dir=data_dir).stdout)
    assert shown["name"] == NAME and shown["organisation"] == ORG and shown["complete"]
    visit_id = _visit_with_incidents(data_dir)
    real = tmp_path / "real.pdf"
    _ok("report", "build", "--visit", str(visit_id), "--out", str(real), data_dir=data_dir,
        env=PASS)

    cert = json.loads(_ok("report", "cert", "--json", data_dir=data_dir, env=PASS).stdout)
    assert (cert["name"], cert["organisation"]) == (NAME, ORG)
    assert "SAMPLE" not in cert["subject"] and "Kwabena" not in cert["subject"]
    proc = run_cli("report", "verify", str(real), "--json", data_dir=data_dir)
    assert proc.returncode == 0, proc.stdout
    verdict = json.loads(proc.stdout)
    assert verdict["signer"] == {"name": NAME, "organisation": ORG,
                                 "fingerprint": cert["fingerprint_sha256"]}
    assert verdict["certificate"] == "this-laptop" and not verdict["sample"]
    assert verdict["whole_file"] and not verdict["changed_after_signing"]
    assert verdict["signed_at"]

    text = _flat_text(real)
    assert "Digitally signed and certified" in text  # the visible stamp is in the text
    stamp = text[text.index("Digitally signed and certified"):]
    assert NAME in stamp[:200] and ORG in stamp[:300]
    assert "Kwabena" not in text and "SAMPLE" not in text and "root" not in stamp[:300]
    assert "3 incident(s) handled" in text
    number = next(line for line in text.splitlines() if line.startswith("TTH-"))
    assert number.startswith(f"TTH-{verdict['signed_at'][:10].replace('-', '')}-01")
    sample_verdict = json.loads(run_cli("report", "verify", str(sample), "--json",
                                        data_dir=data_dir).stdout)
    assert sample_verdict["sample"] and sample_verdict["signer"]["name"].startswith("SAMPLE")
    assert "SAMPLE" in _flat_text(sample)


def test_profile_change_makes_a_new_certificate_and_old_reports_still_verify(data_dir, tmp_path):
    _ok("profile", "set", "--name", NAME, "--org", ORG, data_dir=data_dir)
    visit_id = _visit_with_incidents(data_dir)
    first = tmp_path / "first.pdf"
    _ok("report", "build", "--visit", str(visit_id), "--out", str(first), data_dir=data_dir,
        env=PASS)
    changed = _ok("profile", "set", "--org", "Akwaaba Imaging Ltd", data_dir=data_dir)
    assert "new certificate" in changed.stdout
    second = tmp_path / "second.pdf"
    _ok("report", "build", "--visit", str(visit_id), "--out", str(second), data_dir=data_dir,
        env=PASS)
    one = json.loads(run_cli("report", "verify", str(first), "--json", data_dir=data_dir).stdout)
    two = json.loads(run_cli("report", "verify", str(second), "--json", data_dir=data_dir).stdout)
    assert one["certificate"] == "this-laptop-previous" and one["trusted"]
    assert two["certificate"] == "this-laptop" and two["signer"]["organisation"] == "Akwaaba Imaging Ltd"
    assert one["signer"]["fingerprint"] != two["signer"]["fingerprint"]


def test_look_alike_certificate_is_unknown(data_dir, tmp_path):
    """A report re-signed with a self-signed certificate bearing the same name is not trusted."""
    from pacs_console.core.context import Context
    from pacs_console.core.reports import certs
    from pacs_console.core.reports.sample import sample_report
    from pacs_console.core.reports.store import build_report
    from pacs_console.paths import app_paths

    _ok("profile", "set", "--name", NAME, "--org", ORG, data_dir=data_dir)
    _ok("report", "cert", data_dir=data_dir, env=PASS)  # the genuine certificate, made here
    forger = app_paths(tmp_path / "forger").ensure()
    ctx = Context.open(forger)
    os.environ.update(PASS)
    try:
        steps = build_report(sample_report, forger.data, ctx.secrets, out=tmp_path / "fake.pdf",
                             register=False, engineer=NAME, organisation=ORG)
        for _ in steps:
            pass
        fake_fp = certs.certificate_info(forger.data).fingerprint_sha256
    finally:
        os.environ.pop("PACS_CONSOLE_SIGNING_PASSPHRASE")
        ctx.close()
    proc = run_cli("report", "verify", str(tmp_path / "fake.pdf"), "--json", data_dir=data_dir)
    assert proc.returncode == 7, proc.stdout
    verdict = json.loads(proc.stdout)
    assert verdict["signer"]["name"] == NAME and verdict["signer"]["fingerprint"] == fake_fp
    assert verdict["certificate"] == "unknown" and not verdict["trusted"]
    text = run_cli("report", "verify", str(tmp_path / "fake.pdf"), data_dir=data_dir).stdout
    assert "unknown certificate" in text


LOCKED_KEYRING = """
set -e
echo -n unlockme | gnome-keyring-daemon --unlock --components=secrets >/dev/null
"$PY" -c 'import secretstorage as s; c=s.dbus_init(); s.get_default_collection(c).lock()'
exec "$PY" "$@"
"""


def test_locked_keyring_never_loses_the_signing_key(data_dir, tmp_path):
    """A Secret Service that is present but locked: the key is never encrypted with a secret
    nobody keeps. Without a way to ask, signing refuses before making anything; with the
    passphrase given, two reports in a row build, sign and verify."""
    script = tmp_path / "locked.sh"
    script.write_text(LOCKED_KEYRING, encoding="utf-8")
    env = {**os.environ, "PY": sys.executable,
           "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"}
    env.pop("PACS_CONSOLE_SIGNING_PASSPHRASE", None)

    def cli(*args, extra=None):
        return subprocess.run(
            ["dbus-run-session", "--", "sh", str(script), "-m", "pacs_console", "--data-dir",
             str(data_dir), *args], capture_output=True, text=True, timeout=180, cwd=ROOT,
            stdin=subprocess.DEVNULL, env={**env, **(extra or {})})

    _ok("profile", "set", "--name", NAME, "--org", ORG, data_dir=data_dir)
    visit_id = _visit_with_incidents(data_dir)
    refused = cli("report", "build", "--visit", str(visit_id), "--out", str(tmp_path / "0.pdf"))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "locked" in refused.stderr and "Traceback" not in refused.stderr
    assert not (data_dir / "data" / "signing" / "engineer.p12").exists()
    for n in (1, 2):
        out = tmp_path / f"{n}.pdf"
        proc = cli("report", "build", "--visit", str(visit_id), "--out", str(out), extra=PASS)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        verify = run_cli("report", "verify", str(out), "--json", data_dir=data_dir)
        assert verify.returncode == 0 and json.loads(verify.stdout)["signer"]["name"] == NAME
