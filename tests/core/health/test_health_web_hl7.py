"""DICOMweb (QIDO-RS), HL7 and known-study retrieve checks of the health plan against real
peers: Orthanc (its DICOMweb plugin, a study whose file decays on disk) and the console's own
HL7 listener as the site's HL7 test interface (a test ADT only with the engineer's consent in
the plan), a closed web port, and an interface reconfigured between baseline and compare."""

from __future__ import annotations

import json
import queue
import socket
from datetime import date

import pytest

from pacs_console.core.context import Context
from pacs_console.core.db.nodes import save_node
from pacs_console.core.dicom.synth.studies import generate_study
from pacs_console.core.hl7.listener import Hl7Listener, ListenerOptions
from pacs_console.core.incidents.sites import save_site
from pacs_console.paths import app_paths
from tests.conftest import run_cli
from tests.core.dicom_ops.helpers import part10

pytestmark = pytest.mark.peers
SITE = "Cape Coast Teaching Hospital"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def site(data_dir):
    ctx = Context.open(app_paths(data_dir))
    try:
        yield ctx, save_site(ctx.db, SITE)
    finally:
        ctx.close()


@pytest.fixture
def interface():
    """The console's HL7 listener as the site's test interface, on an OS-assigned port."""
    received: queue.Queue = queue.Queue()
    listener = Hl7Listener(0, host="127.0.0.1", notify=received,
                           options=ListenerOptions(mask_phi=False)).start()
    try:
        yield listener, received
    finally:
        listener.stop()


def _health(data_dir, *args):
    proc = run_cli("health", SITE, "--json", *args, data_dir=data_dir, timeout=180)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc, json.loads(proc.stdout)


def _by(report):
    return {(c["node"], c["check"]): c for c in report["checks"]}


def _plan(tmp_path, orthanc):
    """A plan file: Main PACS's DICOMweb root, and consent to send HL7 to the RIS only."""
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"nodes": {
        "Main PACS": {"dicomweb_url": orthanc.url + "/dicom-web"},
        "RIS test interface": {"allow_hl7": True}}}), encoding="utf-8")
    return plan


def _main_pacs(ctx, record, orthanc) -> None:
    """Orthanc as the site's "Main PACS" (DICOM and DICOMweb), holding one study of today."""
    for ds in generate_study("CT", images=1, series=1, size=32, seed=7):
        ds.StudyDate = f"{date.today():%Y%m%d}"
        orthanc.upload(part10(ds))
    save_node(ctx.db, "Main PACS", orthanc.aet, orthanc.host, orthanc.dicom_port,
              tags="pacs,dicomweb", site_id=record.id)


def test_dicomweb_and_hl7_checks_follow_roles_and_consent(site, data_dir, orthanc, interface,
                                                          tmp_path):
    ctx, record = site
    listener, received = interface
    _main_pacs(ctx, record, orthanc)
    save_node(ctx.db, "Web viewer", "VIEWER", "127.0.0.1", _closed_port(), tags="dicomweb",
              site_id=record.id)
    save_node(ctx.db, "RIS test interface", "RIS", "127.0.0.1", listener.port, tags="hl7",
              site_id=record.id)
    save_node(ctx.db, "Billing HL7", "BILLING", "127.0.0.1", listener.port, tags="hl7",
              site_id=record.id)
    plan = _plan(tmp_path, orthanc)
    proc, report = _health(data_dir, "--plan", str(plan))
    assert proc.returncode == 10, proc.stdout
    checks = _by(report)
    by_node: dict[str, list[str]] = {}
    for c in report["checks"]:
        by_node.setdefault(c["node"], []).append(c["check"])
    assert by_node == {"Main PACS": ["route", "echo", "association", "find", "dicomweb"],
                       "Web viewer": ["route", "dicomweb"],  # not spoken DICOM to
                       "RIS test interface": ["route", "hl7"],
                       "Billing HL7": ["route", "hl7"]}
    web = checks[("Main PACS", "dicomweb")]
    assert web["result"] == "pass" and web["metrics"]["matches"] == 1
    assert web["metrics"]["status"] == 200 and "QIDO-RS" in web["summary"]
    closed = checks[("Web viewer", "dicomweb")]
    assert closed["result"] == "fail" and closed["diagnosis"]["actions"]
    sent = checks[("RIS test interface", "hl7")]
    assert sent["result"] == "pass" and sent["metrics"]["ack_code"] == "AA"
    assert checks[("Billing HL7", "hl7")]["result"] == "skipped"  # no consent: nothing sent
    message = received.get(timeout=5)
    assert received.empty(), "only the consenting interface got a message"
    assert message.message_type.startswith("ADT^A04")
    msh = message.text.split("\r")[0].split("|")
    assert msh[10] == "T"  # processing ID: test
    text = run_cli("health", SITE, "--plan", str(plan), data_dir=data_dir, timeout=180).stdout
    assert "dicomweb" in text.splitlines()[1] and "hl7" in text.splitlines()[1]


def test_upgrade_validation_compares_hl7_ack_and_qido_counts(site, data_dir, orthanc, interface,
                                                             tmp_path):
    ctx, record = site
    listener, _received = interface
    _main_pacs(ctx, record, orthanc)
    save_node(ctx.db, "RIS test interface", "RIS", "127.0.0.1", listener.port, tags="hl7",
              site_id=record.id)
    plan = _plan(tmp_path, orthanc)
    proc = run_cli("health", SITE, "--plan", str(plan), "--baseline", "before-upgrade",
                   "--json", data_dir=data_dir, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    nodes = json.loads(proc.stdout)["nodes"]
    assert nodes["Main PACS"]["qido_studies"] == 1
    assert nodes["RIS test interface"] == {"reachable": True, "hl7_ack": "AA"}
    # The "upgrade": the interface comes back rejecting messages; the archive lost its study.
    port = listener.port
    listener.stop()
    again = Hl7Listener(port, host="127.0.0.1", options=ListenerOptions(answer="AE")).start()
    orthanc.clear()
    try:
        proc, after = _health(data_dir, "--plan", str(plan), "--compare", "before-upgrade")
    finally:
        again.stop()
    assert proc.returncode == 10, proc.stdout
    rows = _by(after)
    ack = rows[("RIS test interface", "hl7_ack")]
    assert ack["result"] == "fail" and ack["summary"] == "HL7 ACK code AA before, AE now"
    qido = rows[("Main PACS", "qido_studies")]
    assert qido["result"] == "fail" and qido["metrics"] == {"before": 1, "after": 0}
    from pacs_console.core.db.testruns import list_test_runs

    (saved,) = list_test_runs(ctx.db, kind="health-validation")  # kept as evidence
    regressions = sum(c["result"] != "pass" for c in after["checks"])
    assert regressions >= 3  # the ACK code, the QIDO count and the C-FIND study count
    assert saved.summary == (f"Post-upgrade validation of {SITE} against baseline "
                             f"'before-upgrade': {regressions} regression(s)")
    assert saved.parameters["baseline"] == "before-upgrade" and saved.outcome == "warning"
    assert after["run_id"] == saved.uuid


def test_known_study_is_retrieved_and_its_checksums_compared_after_an_upgrade(site, data_dir,
                                                                             orthanc, tmp_path):
    ctx, record = site
    study = generate_study("MR", images=4, series=1, size=32, seed=9)
    for ds in study:
        orthanc.upload(part10(ds))
    uid = str(study[0].StudyInstanceUID)
    save_node(ctx.db, "Main PACS", orthanc.aet, orthanc.host, orthanc.dicom_port, tags="pacs",
              site_id=record.id)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"nodes": {"Main PACS": {"retrieve_study_uid": uid}}}),
                    encoding="utf-8")
    proc, report = _health(data_dir, "--plan", str(plan))
    assert proc.returncode == 0, proc.stdout
    got = _by(report)[("Main PACS", "retrieve")]
    assert got["result"] == "pass" and got["metrics"]["received"] == 4
    assert got["summary"].startswith("C-GET 4 instance(s) in ")
    assert run_cli("health", SITE, "--plan", str(plan), "--baseline", "v1",
                   data_dir=data_dir, timeout=180).returncode == 0
    orthanc.corrupt_one_instance(str(study[2].SOPInstanceUID))  # the archive's disk decays
    proc, after = _health(data_dir, "--plan", str(plan), "--compare", "v1")
    assert proc.returncode == 10, proc.stdout
    sums = _by(after)[("Main PACS", "study_checksums")]
    assert sums["result"] == "fail"
    assert sums["summary"] == "Known study: 1 instance(s) with different pixel data"
    assert sums["metrics"]["changed"] == [str(study[2].SOPInstanceUID)]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"nodes": {"Main PACS": {"retrieve_study_uid": "../etc"}}}),
                   encoding="utf-8")
    proc = run_cli("health", SITE, "--plan", str(bad), data_dir=data_dir)
    assert proc.returncode == 2 and "must be a Study Instance UID" in proc.stderr
