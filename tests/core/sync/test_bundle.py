"""Log bundle: manifest and checksums, patient data scrubbed from text, DICOM de-identified,
size limit, and the bundle reaching the outbox as an incident attachment."""

from __future__ import annotations

import json
import zipfile

import pydicom

from pacs_console.core.db.tables import TestRun
from pacs_console.core.db.testruns import save_test_run
from pacs_console.core.dicom.ops import query
from pacs_console.core.dicom.synth.studies import generate_study, write_study
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.dicomweb import client
from pacs_console.core.dicomweb.client import Endpoint
from pacs_console.core.incidents import service
from pacs_console.core.sync import bundle, outbox
from tests.core.sync.conftest import run
from tests.dicom_samples import ct_series, to_bytes

NAME, PID, BIRTH = "Mensah^Efua", "GH-778812", "19840312"
SECRETS = (NAME, "Mensah", "MENSAH", "Efua", "EFUA", PID, BIRTH)


def _real_evidence(orthanc) -> list[dict]:
    """Evidence as the commands produce it: a C-FIND with the convenience keys the `find`
    command passes ({"keys": {"name", "patient_id", "birth_date"}}) and a QIDO-RS search by tag."""
    for ds in ct_series(1, patient_id=PID, patient_name=NAME):
        ds.PatientBirthDate = BIRTH
        orthanc.upload(to_bytes(ds))
    target = Target(orthanc.host, orthanc.dicom_port, "ORTHANC")
    found = run(query.find(target, "STUDY", {"name": "MENSAH*", "patient_id": PID,
                                             "birth_date": BIRTH}))
    assert found.count == 1
    web = client.qido(Endpoint(orthanc.url + "/dicom-web"), "study",
                      {"00100020": PID})
    assert len(web.matches) == 1, (web.status, web.diagnosis)
    return [found.evidence(), web.evidence()]


def _legacy_row(ctx, evidence: dict) -> int:
    """A row as versions before redaction-at-save kept it: the bundle must scrub it too."""
    with ctx.db.session() as session:
        row = TestRun(**evidence)
        session.add(row)
        session.flush()
        return row.id


def test_bundle_scrubs_patient_data_and_verifies(ctx, orthanc, tmp_path):
    logs = ctx.paths.logs
    (logs / "pacs-console.log").write_text(
        f"2026-03-02 INFO find: PatientName={NAME} PatientID={PID}\n"
        f"2026-03-02 INFO httpx: HTTP Request: GET {orthanc.url}/dicom-web/studies?"
        f"00100010=MENSAH%5EEFUA \"HTTP/1.1 200 OK\"\n"
        f"2026-03-02 INFO query patient_name=Efua Mensah, Name: Efua Mensah\n"
        f"(0010,0030) DA [{BIRTH}]\nall good\n")
    evidence = _real_evidence(orthanc)
    saved = [save_test_run(ctx.db, **e).id for e in evidence]
    legacy = [_legacy_row(ctx, e) for e in evidence]
    report = tmp_path / "visit-report.json"
    report.write_text(json.dumps({"site": "Tamale", "patient": {"keys": {"patient_id": PID}},
                                  "note": f"Name: {NAME}"}))
    pdf = tmp_path / "visit-report.pdf"
    pdf.write_bytes(b"%PDF-1.4 " + NAME.encode() + b" %%EOF")
    study = write_study(generate_study("CT", images=2, seed=4), tmp_path / "study")
    ds = pydicom.dcmread(study[0])
    real_name = str(ds.PatientName)
    out = tmp_path / "bundle.zip"
    result = run(bundle.build_bundle(ctx.db, out, logs_dir=logs, test_run_ids=saved + legacy,
                                     reports=[report, pdf], images=study))
    assert not bundle.verify_bundle(out)
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert {"manifest.json", "SHA256SUMS", "logs/pacs-console.log",
                "reports/visit-report.json"} <= names
        assert "reports/visit-report.pdf" not in names  # PDFs only when asked
        runs = [n for n in names if n.startswith("test-runs/")]
        assert len(runs) == 4
        images = [n for n in names if n.startswith("images/")]
        assert len(images) == 2
        texts = b"".join(archive.read(n) for n in names if not n.startswith("images/"))
        for secret in (*SECRETS, real_name, "MENSAH%5EEFUA"):
            assert secret.encode() not in texts, secret
        assert b"all good" in texts and b'"keys"' in texts
        cleaned = pydicom.dcmread(archive.open(images[0]))
        assert str(cleaned.PatientName) != real_name
    assert {f["source"] for f in result.files} >= {"log", "test-run", "report",
                                                   "deidentified-image"}
    assert result.skipped[0]["name"] == "visit-report.pdf" and "--include-pdfs" in \
        result.skipped[0]["reason"]


def test_pdfs_go_in_only_when_asked_and_are_listed_as_patient_data(ctx, tmp_path):
    pdf = tmp_path / "visit-report.pdf"
    pdf.write_bytes(b"%PDF-1.4 " + NAME.encode() + b" %%EOF")
    out = tmp_path / "bundle.zip"
    result = run(bundle.build_bundle(ctx.db, out, reports=[pdf], include_pdfs=True))
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert archive.read("reports/visit-report.pdf") == pdf.read_bytes()
    assert manifest["contains_phi"] == ["reports/visit-report.pdf"] == result.contains_phi


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
