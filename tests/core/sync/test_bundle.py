"""Log bundle: manifest and checksums, patient data scrubbed from text, DICOM de-identified,
size limit, and the bundle reaching the outbox as an incident attachment."""

from __future__ import annotations

import json
import zipfile

import pydicom

from pacs_console.core.db.testruns import save_test_run
from pacs_console.core.dicom.synth import generate_study, write_study
from pacs_console.core.incidents import service
from pacs_console.core.sync import bundle, outbox
from tests.core.sync.conftest import run

NAME, PID, BIRTH = "Mensah^Efua", "GH-778812", "19840312"


def test_bundle_scrubs_patient_data_and_verifies(ctx, tmp_path):
    logs = ctx.paths.logs
    (logs / "pacs-console.log").write_text(
        f"2026-03-02 INFO find: PatientName={NAME} PatientID={PID}\n"
        f"(0010,0030) DA [{BIRTH}]\nall good\n")
    run_record = save_test_run(ctx.db, kind="find", outcome="ok", node_label="PACS@h:104",
                               parameters={"PatientName": NAME, "PatientID": PID,
                                           "query": {"PatientBirthDate": BIRTH}})
    report = tmp_path / "visit-report.json"
    report.write_text(json.dumps({"site": "Tamale", "PatientID": PID, "note": "ok"}))
    study = write_study(generate_study("CT", images=2, seed=4), tmp_path / "study")
    ds = pydicom.dcmread(study[0])
    real_name = str(ds.PatientName)
    out = tmp_path / "bundle.zip"
    result = run(bundle.build_bundle(ctx.db, out, logs_dir=logs, test_run_ids=[run_record.id],
                                     reports=[report], images=study))
    assert not bundle.verify_bundle(out)
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert {"manifest.json", "SHA256SUMS", "logs/pacs-console.log",
                f"test-runs/find-{run_record.uuid}.json", "reports/visit-report.json"} <= names
        images = [n for n in names if n.startswith("images/")]
        assert len(images) == 2
        texts = b"".join(archive.read(n) for n in names if not n.startswith("images/"))
        for secret in (NAME, PID, BIRTH, real_name):
            assert secret.encode() not in texts
        assert b"all good" in texts
        cleaned = pydicom.dcmread(archive.open(images[0]))
        assert str(cleaned.PatientName) != real_name
    assert {f["source"] for f in result.files} >= {"log", "test-run", "report",
                                                   "deidentified-image"}


def test_size_limit_skips_and_lists_what_did_not_fit(ctx, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_text("x" * 1000)
    (logs / "b.log").write_text("y" * 5000)
    result = run(bundle.build_bundle(ctx.db, tmp_path / "b.zip", logs_dir=logs, limit=3000))
    assert [f["name"] for f in result.files] == ["logs/a.log"]
    assert result.skipped[0]["name"] == "logs/b.log" and result.skipped[0]["reason"] == "size limit"


def test_attached_bundle_is_queued_for_the_helpdesk(ctx, tmp_path):
    record = service.create_incident(ctx.db, title="Send logs", severity="low")
    out = tmp_path / "logs.zip"
    run(bundle.build_bundle(ctx.db, out, logs_dir=ctx.paths.logs))
    bundle.attach_bundle(ctx.db, ctx.paths.data / "attachments", record.id, out)
    last = outbox.list_items(ctx.db, ("pending",))[0]
    assert last.kind == "attach" and last.payload["file"]["filename"] == "logs.zip"
    assert last.payload["file"]["media_type"] == "application/zip"
