"""`pacs-console health SITE --remove-test-data`: the test studies the C-STORE check left are
deleted through Orthanc's REST API where the plan gives it, instance by instance, only those the
check stored and still tagged as the console's test data (any other instance is kept and named);
elsewhere their UIDs are listed for the PACS administrator."""

from __future__ import annotations

import json

import pytest

from pacs_console.core.db.testruns import save_test_run
from pacs_console.core.dicom.synth.studies import generate_study
from tests.conftest import run_cli
from tests.core.dicom_ops.helpers import part10
from tests.core.health.test_health_cli import SITE, _by, _health, _node, site  # noqa: F401

pytestmark = pytest.mark.peers


def _test_studies(orthanc) -> list[dict]:
    return [s for s in orthanc.rest("GET", "/studies?expand")
            if s["PatientMainDicomTags"].get("PatientID") == "PACSCONSOLE-TEST"]


def test_test_data_removed_through_orthanc_rest_and_listed_elsewhere(site, data_dir, orthanc,  # noqa: F811
                                                                      dcmqrscp, tmp_path):
    ctx, record = site
    orthanc.clear()
    real = generate_study("CT", images=2, series=1, size=32, seed=7)
    for ds in real:  # a patient's study on the same PACS: never touched
        orthanc.upload(part10(ds))
    _node(ctx, record, "Main PACS", orthanc, "pacs")
    _node(ctx, record, "Archive", dcmqrscp, "archive")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"nodes": {
        "Main PACS": {"checks": ["store"], "allow_store": True, "rest_url": orthanc.url},
        "Archive": {"checks": ["store"], "allow_store": True}}}), encoding="utf-8")
    for _ in range(2):  # two visits' runs: two test studies on each node
        proc, report = _health(data_dir, "--plan", str(plan))
        assert proc.returncode == 0, proc.stdout + proc.stderr
    stored = _by(report)[("Archive", "store")]["metrics"]
    assert stored["instances"] and stored["series_uid"]
    assert len(_test_studies(orthanc)) == 2
    # A record naming the patient's study as test data (a wrong or tampered record): the
    # study lacks the console's tags, so it is refused and left alone.
    save_test_run(ctx.db, kind="health", node_label=f"site:{SITE}", outcome="ok",
                  summary="tampered", metrics={"checks": [{
                      "node": "Main PACS", "check": "store", "result": "pass", "summary": "",
                      "metrics": {"sent": 1, "study_uid": str(real[0].StudyInstanceUID)}}]})
    # Someone else's image filed into the last test study (same patient ID and study UID, so
    # the same Orthanc study): every instance is looked at, and that one is kept.
    mixed = _by(report)[("Main PACS", "store")]["metrics"]["study_uid"]
    foreign = generate_study("CT", images=1, series=1, size=32, seed=8)[0]
    foreign.StudyInstanceUID, foreign.PatientID = mixed, "PACSCONSOLE-TEST"
    foreign.StudyDescription = "CT CHEST"
    orthanc.upload(part10(foreign))
    proc = run_cli("health", SITE, "--plan", str(plan), "--remove-test-data", "--json",
                   data_dir=data_dir, timeout=180)
    assert proc.returncode == 10, proc.stdout + proc.stderr  # the archive's are left
    out = json.loads(proc.stdout)
    results = sorted((s["node"], s["result"]) for s in out["studies"])
    assert results == [("Archive", "listed"), ("Archive", "listed"), ("Main PACS", "refused"),
                       ("Main PACS", "removed"), ("Main PACS", "removed, others kept")], results
    partly = next(s for s in out["studies"] if s["result"] == "removed, others kept")
    assert partly["study_uid"] == mixed and "kept" in partly["text"]
    assert partly["kept"] == [f"{foreign.SOPInstanceUID}: not an instance the health check "
                              "stored"], partly
    left = {i["MainDicomTags"]["SOPInstanceUID"] for i in orthanc.rest("GET", "/instances?expand")}
    assert left == {str(ds.SOPInstanceUID) for ds in real} | {str(foreign.SOPInstanceUID)}
    listed = [s for s in out["studies"] if s["node"] == "Archive"]
    assert all(s["instances"] and s["series_uid"] for s in listed)
    # Text for the engineer: the archive's UIDs to hand over; removed ones are not listed again.
    proc = run_cli("health", SITE, "--plan", str(plan), "--remove-test-data",
                   data_dir=data_dir, timeout=180)
    assert proc.returncode == 10
    assert proc.stdout.count("LISTED") == 2 and "REMOVED" not in proc.stdout, proc.stdout
    assert listed[0]["instances"][0] in proc.stdout and "PACS administrator" in proc.stdout
