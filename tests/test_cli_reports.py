"""`pacs-console report build|verify|list|cert` as scripts call them, with exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

from tests.conftest import finished_visit, run_cli

PASS = {"PACS_CONSOLE_SIGNING_PASSPHRASE": "cli pass ɔ 7"}


def test_sample_build_verify_and_tampering(data_dir, tmp_path):
    out = tmp_path / "sample.pdf"
    # The sample needs no profile, keyring, passphrase or terminal: it signs as a sample.
    proc = run_cli("report", "build", "--sample", "--out", str(out), "--json",
                   data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    built = json.loads(proc.stdout)
    assert built["ok"] and built["signed"] and built["pages"] >= 4
    proc = run_cli("report", "verify", str(out), "--json")
    assert proc.returncode == 8, proc.stdout + proc.stderr  # a sample is no real signature
    result = json.loads(proc.stdout)
    assert result["state"] == "sample" and result["sample"] and not result["modified"]
    assert not result["changed_after_signing"] and result["whole_file"]
    assert result["attachment_sha256"] == built["json_sha256"]
    assert result["signer"]["name"] == "SAMPLE - not a real signature"
    assert "Kwabena" not in json.dumps(result, ensure_ascii=False)
    text = run_cli("report", "verify", str(out)).stdout
    assert "SAMPLE" in text and "intact" in text
    assert not (data_dir / "data" / "signing").exists()  # nothing kept as the engineer's

    broken = tmp_path / "broken.pdf"
    data = bytearray(out.read_bytes())
    data[data.index(b"stream", len(data) // 4) + 20] ^= 0x20
    broken.write_bytes(bytes(data))
    assert run_cli("report", "verify", str(broken)).returncode in (3, 6)

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(out.read_bytes()))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Rotate"] = generic.NumberObject(90)
    writer.update_container(page)
    changed = tmp_path / "changed.pdf"
    with changed.open("wb") as handle:
        writer.write(handle)
    proc = run_cli("report", "verify", str(changed))
    assert proc.returncode == 4 and "MODIFIED" in proc.stdout

    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"not a pdf at all")
    assert run_cli("report", "verify", str(garbage)).returncode == 6
    assert not any(PASS["PACS_CONSOLE_SIGNING_PASSPHRASE"].encode() in p.read_bytes()
                   for p in data_dir.rglob("*") if p.is_file())


def test_visit_build_is_listed_and_unsigned_reports_fail_verification(data_dir, tmp_path):
    visit = finished_visit(data_dir, hours=3, incident="Archive full")
    out = tmp_path / "visit.pdf"
    proc = run_cli("report", "build", "--visit", str(visit), "--out", str(out),
                   data_dir=data_dir, env=PASS)
    assert proc.returncode == 1 and "profile set" in proc.stderr  # who signs is never guessed
    assert run_cli("profile", "set", "--name", "Esi Ɔwusu", "--org", "Volta Imaging Services",
                   data_dir=data_dir).returncode == 0
    proc = run_cli("report", "build", "--visit", str(visit), "--out", str(out),
                   data_dir=data_dir, env=PASS)
    assert proc.returncode == 0, proc.stderr
    assert "Creating your signing certificate for CN=Esi Ɔwusu" in proc.stderr
    assert run_cli("report", "verify", str(out), data_dir=data_dir).returncode == 0
    # Another computer knows no pin: intact but unknown until given the fingerprint.
    assert run_cli("report", "verify", str(out)).returncode == 7
    listed = json.loads(run_cli("report", "list", "--json", data_dir=data_dir).stdout)
    assert len(listed) == 1 and listed[0]["visit_id"] == visit and listed[0]["signed"]
    assert Path(listed[0]["path"]).read_bytes() == out.read_bytes()
    cert = json.loads(run_cli("report", "cert", "--json", data_dir=data_dir, env=PASS).stdout)
    assert cert["self_signed"] and "Esi Ɔwusu" in cert["subject"]
    proc = run_cli("report", "verify", str(out), "--trust-fingerprint", cert["fingerprint_sha256"])
    assert proc.returncode == 0, proc.stdout

    unsigned = tmp_path / "unsigned.pdf"
    proc = run_cli("report", "build", "--visit", str(visit), "--no-sign", "--out",
                   str(unsigned), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    assert run_cli("report", "verify", str(unsigned)).returncode == 5
    proc = run_cli("report", "build", "--visit", "999", "--out", str(tmp_path / "x.pdf"),
                   data_dir=data_dir, env=PASS)
    assert proc.returncode == 1 and "No visit 999" in proc.stderr
