"""`pacs-console assess` as scripts call it: the JSON contract, exit codes 0/10/2, --explain,
history with comparison, the signed report and incidents, against real peers on loopback."""

from __future__ import annotations

import io
import json
import subprocess

import pytest

from pacs_console.core.assess.catalog import CHECKS
from tests.conftest import run_cli
from tests.core.assess.peers import CheckingDcmqrscp, ConfiguredOrthanc
from tests.peers.net import addr, free_port

PASS = {"PACS_CONSOLE_SIGNING_PASSPHRASE": "assess pass ɛ 19"}
FIELDS = {"host", "port", "check", "severity", "evidence", "remedy"}


def test_explain_lists_every_check_and_sends_nothing():
    proc = run_cli("assess", "--explain", "127.0.0.1")
    assert proc.returncode == 0, proc.stderr
    for name in CHECKS:
        assert name in proc.stdout
    assert "orthanc:orthanc" in proc.stdout and "ONE" in proc.stdout
    # The administration pages and the C-MOVE listener say exactly what they send and do.
    for path in ("/app/explorer.html", "/ui/app/", "/dcm4chee-arc/ui2/", "/admin",
                 "/manager/html"):
        assert path in proc.stdout
    assert "--allow-move-test" in proc.stdout and "A-ASSOCIATE-RJ" in proc.stdout
    data = json.loads(run_cli("assess", "--explain", "--checks", "web", "--json",
                              "127.0.0.1").stdout)
    assert list(data["explain"]) == ["web"]


@pytest.mark.parametrize("args", [
    ("127.0.0.1", "--checks", "nope"),
    ("10.0.0.0/8",),
    ("8.8.8.8",),
    ("127.0.0.1", "--timeout", "0"),
    ("127.0.0.1", "--concurrency", "0"),
    ("127.0.0.1", "--hl7-ports", "70000"),
    ("127.0.0.1", "--ports", "abc"),
])
def test_bad_input_is_one_line_and_exit_2(args, data_dir):
    proc = run_cli("assess", *args, data_dir=data_dir)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def open_orthanc():
    host = addr(141)
    peer = ConfiguredOrthanc("ORTHANC", host, free_port(host), free_port(host),
                             {"DicomCheckCalledAet": False})
    peer.start()
    yield peer
    peer.stop()


def test_targets_json_contract_history_report_and_incidents(open_orthanc, data_dir, tmp_path):
    peer = open_orthanc
    args = ("assess", peer.host, "--ports", str(peer.dicom_port), "--web-ports",
            str(peer.http_port), "--hl7-ports", "none", "--json", "--interval", "0.01")
    first = run_cli(*args, "--incidents", data_dir=data_dir, env=PASS)
    assert first.returncode == 10, first.stderr
    data = json.loads(first.stdout)
    # No engineer name in Settings yet: the timeline still names who opened it (the login name).
    shown = json.loads(run_cli("incident", "show", str(data["incidents"][0]), "--json",
                               data_dir=data_dir).stdout)
    assert shown["timeline"][0]["kind"] == "created"
    assert shown["timeline"][0]["author"].strip()
    assert data["findings"] and all(FIELDS <= set(f) for f in data["findings"])
    assert all(f["severity"] in ("info", "low", "medium", "high", "critical")
               for f in data["findings"])
    checks = {(f["port"], f["check"]) for f in data["findings"]}
    assert (peer.http_port, "orthanc-auth-off") in checks
    assert (peer.dicom_port, "dicom-any-called-ae") in checks
    assert (peer.dicom_port, "dicom-default-ae") in checks  # ORTHANC, learnt from /system
    assert data["comparison"]["previous"] is None
    assert data["score"] == min(n["score"] for n in data["nodes"]) < 50

    pdf = tmp_path / "assessment.pdf"
    unsigned = run_cli(*args, "--report", str(pdf), data_dir=data_dir, env=PASS)
    assert unsigned.returncode == 1 and "profile" in unsigned.stderr  # who signs: never guessed
    assert not pdf.exists()
    assert run_cli("profile", "set", "--name", "Kofi Ɛssien", "--org", "Volta Imaging Services",
                   data_dir=data_dir).returncode == 0
    second = run_cli(*args, "--report", str(pdf), "--incidents", data_dir=data_dir, env=PASS)
    assert second.returncode == 10, second.stderr
    again = json.loads(second.stdout)
    assert again["comparison"]["previous"] > data["started_at"]  # the unsigned run was saved
    assert {f["check"] for f in again["comparison"]["still_open"]} >= {"orthanc-auth-off"}
    assert again["comparison"]["fixed"] == [] and again["comparison"]["new"] == []
    assert pdf.read_bytes().startswith(b"%PDF")
    verified = run_cli("report", "verify", str(pdf), data_dir=data_dir)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    from pyhanko.pdf_utils.reader import PdfFileReader

    from pacs_console.core.reports.verify import attachment

    reader = PdfFileReader(io.BytesIO(pdf.read_bytes()))
    (signature,) = reader.embedded_signatures
    assert signature.sig_object["/Reason"] == \
        "Security assessment report certified by the field engineer"
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    embedded = [str(names[n]) for n in range(0, len(names), 2)]
    assert embedded == ["security-assessment.json"]  # not visit-report.json
    attached = json.loads(attachment(reader))
    assert attached["assessment"]["started_at"] == again["started_at"]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    for part in ("Security assessment report", "Compared with the previous assessment",
                 "still open", "Not tested, and why", "--allow-store-test", "CRITICAL",
                 "AuthenticationEnabled", "What to fix", "Method: what each family"):
        assert part in text, part
    above_low = [f for f in again["findings"] if f["severity"] in ("medium", "high", "critical")]
    assert len(again["incidents"]) == len(above_low)
    assert sorted(again["incidents"]) == sorted(data["incidents"])  # the same incidents again
    listed = run_cli("incidents", "export", "--format", "json", data_dir=data_dir)
    exported = json.loads(listed.stdout)
    rows = exported["incidents"] if isinstance(exported, dict) else exported
    titles = [i["title"] for i in rows]
    assert any("Orthanc REST API without authentication" in t for t in titles)
    # A third run with --incidents opens no duplicates.
    third = json.loads(run_cli(*args, "--incidents", data_dir=data_dir, env=PASS).stdout)
    assert sorted(third["incidents"]) == sorted(again["incidents"])


def test_site_of_secure_nodes_exits_0(ctx, data_dir):
    from pacs_console.core.db.nodes import save_node
    from pacs_console.core.db.sweeps import site_id_for

    host = addr(142)
    peer = CheckingDcmqrscp("HOSP-QR-42", host, free_port(host),
                            hosts={"PACSCONSOLE": (addr(201), 104)})
    peer.start()
    try:
        site_id = site_id_for(ctx.db, "Tamale Teaching")
        save_node(ctx.db, "Archive", "HOSP-QR-42", host, peer.dicom_port, site_id=site_id)
        proc = run_cli("assess", "Tamale Teaching", "--checks", "dicom", "--hl7-ports", "none",
                       "--json", data_dir=data_dir)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        data = json.loads(proc.stdout)
        assert data["site"] == "Tamale Teaching" and data["findings"] == []
        assert [n["host"] for n in data["nodes"]] == [host]
        assert data["score"] == 100
    finally:
        peer.stop()
