"""`pacs-console find` against real Orthanc and dcmqrscp: levels, keys, JSON, CSV, hints, exit codes."""

from __future__ import annotations

import csv
import json

from pacs_console.commands import exit_codes
from pacs_console.core.dicom.wire.ae import make_ae
from tests.conftest import run_cli
from tests.dicom_samples import ct_series, to_bytes


def test_find_orthanc_study_series_and_image_levels(orthanc, data_dir, tmp_path):
    slices = ct_series(3, patient_id="GH-0001", patient_name="Mensah^Ɛfua")
    for ds in slices:
        ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: Ghanaian names need ɛ and ɔ
        orthanc.upload(to_bytes(ds))
    study = str(slices[0].StudyInstanceUID)
    base = ["find", "-aec", "ORTHANC", orthanc.host, str(orthanc.dicom_port), "--json"]
    data = json.loads(run_cli(*base, "--name", "MENSAH*", data_dir=data_dir).stdout)
    assert data["count"] == 1 and data["matches"][0]["StudyInstanceUID"] == study
    assert data["matches"][0]["PatientName"] == "Mensah^Ɛfua"
    data = json.loads(run_cli(*base, "-L", "SERIES", "-k", f"StudyInstanceUID={study}",
                              data_dir=data_dir).stdout)
    assert data["count"] == 1 and data["matches"][0]["NumberOfSeriesRelatedInstances"] == "3"
    csv_path = tmp_path / "images.csv"
    proc = run_cli(*base[:-1], "-L", "IMAGE", "-k", f"StudyInstanceUID={study}", "-k",
                   f"SeriesInstanceUID={slices[0].SeriesInstanceUID}", "--csv", str(csv_path),
                   data_dir=data_dir)
    assert proc.returncode == 0 and "C-FIND: 3 matches" in proc.stdout
    with csv_path.open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 3
    data = json.loads(run_cli(*base, "-P", "-L", "PATIENT", "--patient-id", "GH-0001",
                              data_dir=data_dir).stdout)
    assert data["count"] == 1 and data["model"] == "patient"


def test_unregistered_calling_ae_is_named_as_the_likely_cause(orthanc, data_dir):
    """Orthanc 1.10 logs 'AET not listed in DicomModalities' and never answers the C-FIND."""
    for ds in ct_series(1):
        orthanc.upload(to_bytes(ds))
    proc = run_cli("find", "-aet", "STRANGER", "-aec", "ORTHANC", "-td", "2", orthanc.host,
                   str(orthanc.dicom_port), "--json", data_dir=data_dir)
    data = json.loads(proc.stdout)
    assert data["count"] == 0
    diagnosis = data["result"]["diagnosis"]
    assert proc.returncode == exit_codes.REJECTED
    assert diagnosis["code"] == "no-matches-unregistered-ae"
    text = json.dumps(diagnosis)
    assert "STRANGER" in text and "DicomModalities" in text


def test_find_dcmqrscp_after_store(dcmqrscp, data_dir):
    slices = ct_series(2, patient_id="QR-77")
    ae = make_ae("PACSCONSOLE", requested=[slices[0].SOPClassUID])
    assoc = ae.associate(dcmqrscp.host, dcmqrscp.dicom_port, ae_title="DCMQRSCP")
    for ds in slices:
        assert assoc.send_c_store(ds).Status == 0
    assoc.release()
    proc = run_cli("find", "-aec", "DCMQRSCP", dcmqrscp.host, str(dcmqrscp.dicom_port), "--patient-id",
                   "QR-77", "--json", data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["count"] == 1


def test_find_limit_cancels_and_bad_key_is_a_usage_error(orthanc, data_dir):
    for index in range(4):
        for ds in ct_series(1, patient_id=f"LIM-{index}"):
            orthanc.upload(to_bytes(ds))
    proc = run_cli("find", "-aec", "ORTHANC", orthanc.host, str(orthanc.dicom_port), "--limit", "2",
                   "--json", data_dir=data_dir)
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["count"] == 2 and data["result"]["matches_truncated"]
    proc = run_cli("find", "-k", "PatientName", "127.0.0.1", "104", data_dir=data_dir)
    assert proc.returncode == exit_codes.USAGE and "KEY=VALUE" in proc.stderr
