"""`pacs-console bundle`: a log bundle with no patient data, attached to an incident for sync."""

from __future__ import annotations

import json
import zipfile

from pacs_console.core.db.testruns import save_test_run
from pacs_console.core.dicom.synth.studies import PatientInfo, generate_study, write_study
from pacs_console.core.incidents import service
from pacs_console.core.sync import outbox
from tests.conftest import run_cli


def test_bundle_scrubs_patient_data_and_attaches_to_an_incident(ctx, tmp_path):
    run = save_test_run(ctx.db, kind="find", outcome="ok", node_label="ORTHANC@127.0.0.11:4243",
                        summary="C-FIND: 1 match",
                        metrics={"count": 1, "matches": [{"PatientName": "Mensah^Ɛfua",
                                                          "PatientID": "GH-4471"}]})
    (ctx.paths.logs / "pacs-console.log").write_text(
        "2026-11-28 INFO query PatientName=Mensah^Ɛfua PatientID=GH-4471 from CT1\n", "utf-8")
    images = tmp_path / "images"
    write_study(generate_study("CT", images=2, size=32, patient=PatientInfo(
        "Mensah^Ɛfua", "GH-4471", "19800101", "F")), images)
    incident = service.create_incident(ctx.db, title="Archive not storing", severity="high")
    out = tmp_path / "bundle.zip"
    root = ctx.paths.data.parent
    proc = run_cli("--data-dir", str(root), "bundle", "--out", str(out), "--runs", str(run.id),
                   "--images", str(images), "--attach", str(incident.id), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["attached_to"] == str(incident.id) and data["files"]
    with zipfile.ZipFile(out) as bundle:
        names = bundle.namelist()
        blob = b"".join(bundle.read(name) for name in names)
    assert any(name.endswith(".log") for name in names)
    assert any(name.lower().endswith(".dcm") for name in names)
    for secret in ("Mensah", "GH-4471", "19800101"):
        assert secret.encode() not in blob and secret.encode("utf-16-le") not in blob
    kinds = [item.kind for item in outbox.list_items(ctx.db, ("pending",), limit=100)]
    assert "attach" in kinds or any("attach" in k for k in kinds), kinds
