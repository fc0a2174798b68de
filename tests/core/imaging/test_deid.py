"""De-identification checked tag by tag against PS3.15 Table E.1-1, and UID consistency."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataset import Dataset

from pacs_console.core.dicom.synth.studies import generate_study
from pacs_console.core.imaging.deid import (
    EXACT,
    Deidentifier,
    action_for,
    burn_in_warnings,
    export_deid,
)

SAMPLE = {"DA": "20240102", "TM": "101500", "DT": "20240102101500", "PN": "Mensah^Efua",
          "AS": "045Y", "IS": "7", "DS": "1.5", "UI": "1.2.3.4.5", "US": 7, "SS": -7, "UL": 7,
          "SL": -7, "FL": 1.5, "FD": 1.5, "SV": 7, "UV": 7, "AT": 0x00100010,
          "OB": b"\x01\x02", "OW": b"\x01\x02", "UN": b"\x01\x02", "OF": b"\x00" * 4,
          "OD": b"\x00" * 8, "OL": b"\x00" * 4, "OV": b"\x00" * 8, "UR": "http://example.org/s"}

# Rows of the standard's table re-typed by hand, independent of the data module.
REFERENCE = {
    "PatientName": "Z", "PatientBirthDate": "Z", "PatientSex": "Z", "AccessionNumber": "Z",
    "ReferringPhysicianName": "Z", "StudyDate": "Z", "StudyTime": "Z", "StudyID": "Z",
    "StudyInstanceUID": "U", "SeriesInstanceUID": "U", "SOPInstanceUID": "U",
    "FrameOfReferenceUID": "U", "PatientAddress": "X", "OtherPatientIDs": "X",
    "OtherPatientNames": "X", "PatientAge": "X", "ImageComments": "X",
    "StudyDescription": "X", "SeriesDescription": "X", "PatientComments": "X",
    "AdditionalPatientHistory": "X", "InstitutionAddress": "X", "OperatorsName": "X/Z/D",
    "InstitutionName": "X/Z/D", "StationName": "X/Z/D", "DeviceSerialNumber": "X/Z/D",
    "ContentDate": "Z/D", "SeriesDate": "X/D", "ReferencedImageSequence": "X/Z/U*",
    "RequestAttributesSequence": "X", "PerformingPhysicianName": "X",
}


def _value(vr: str):
    if vr in SAMPLE:
        return SAMPLE[vr]
    return "SECRET VALUE" if vr not in ("SQ",) else [Dataset()]


def _full_dataset() -> tuple[Dataset, list[int]]:
    ds, tags = Dataset(), []
    for tag in sorted(EXACT):
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            continue  # a table row newer than pydicom's dictionary
        vr = vr.split(" or ")[0]
        if tag >> 16 == 0x0002:
            continue
        if vr == "SQ":
            item = Dataset()
            item.ReferencedSOPInstanceUID = "1.2.3.4.5"
            item.PatientName = "Nested^Name"
            ds.add_new(tag, vr, [item])
        else:
            ds.add_new(tag, vr, _value(vr))
        tags.append(tag)
    return ds, tags


def test_reference_rows_match_the_table():
    for keyword, action in REFERENCE.items():
        from pydicom.datadict import tag_for_keyword

        assert action_for(tag_for_keyword(keyword)) == action, keyword


def test_every_table_row_is_applied():
    ds, tags = _full_dataset()
    assert len(tags) > 500
    deid = Deidentifier(b"salt")
    deid.clean(ds)
    for tag in tags:
        action, name = action_for(tag), keyword_for_tag(tag)
        present = tag in ds
        elem = ds[tag] if present else None
        if action == "X":
            assert not present, name
        elif action in ("Z", "X/Z"):
            assert present and (elem.VR == "SQ" and len(elem.value) == 0 or not elem.value), name
        elif action == "U":
            assert present and str(elem.value).startswith("2.25."), name
            assert elem.value == deid.uid("1.2.3.4.5"), name
        elif action == "X/Z/U*":
            if elem.VR == "SQ":
                assert elem.value[0].ReferencedSOPInstanceUID == deid.uid("1.2.3.4.5"), name
                assert not elem.value[0].PatientName, name
            else:
                assert not present or not elem.value or str(elem.value).startswith("2.25."), name
        else:  # D, Z/D, X/D, X/Z/D: a dummy, never the original value
            if elem is None:
                continue
            if elem.VR == "SQ":
                assert all(not item.get("PatientName") for item in elem.value), name
            else:
                assert elem.value != _value(elem.VR) or elem.VR in ("US", "SS", "UL", "SL"), name


def test_private_and_overlay_and_curve_groups_are_removed():
    ds = generate_study("CT", images=1, size=16, seed=1)[0]
    block = ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True)
    block.add_new(0x10, "LO", "Mensah^Efua")
    ds.add_new(0x60003000, "OW", b"\x00" * 32)
    ds.add_new(0x60004000, "LT", "overlay comment")
    ds.add_new(0x50000010, "US", 1)
    Deidentifier().apply(ds)
    assert not any(elem.tag.is_private for elem in ds)
    assert 0x60003000 not in ds and 0x60004000 not in ds and 0x50000010 not in ds
    assert ds.PatientIdentityRemoved == "YES"
    assert ds.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert "PixelData" in ds and ds.Modality == "CT"


def test_export_remaps_uids_consistently_across_the_study(tmp_path):
    from pacs_console.core.dicom.synth.studies import write_study

    study = generate_study("CT", images=4, series=2, size=16, seed=2)
    study[1].ReferencedImageSequence = [Dataset()]
    study[1].ReferencedImageSequence[0].ReferencedSOPClassUID = study[0].SOPClassUID
    study[1].ReferencedImageSequence[0].ReferencedSOPInstanceUID = study[0].SOPInstanceUID
    paths = write_study(study, tmp_path / "in")
    gen = export_deid(paths, tmp_path / "out", salt=b"k")
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            report = stop.value
            break
    assert len(report.written) == 4 and not report.failed
    out = [pydicom.dcmread(p) for p in sorted(report.written)]
    assert len({ds.StudyInstanceUID for ds in out}) == 1
    assert len({ds.SeriesInstanceUID for ds in out}) == 2
    assert len({ds.SOPInstanceUID for ds in out}) == 4
    originals = {str(ds.StudyInstanceUID) for ds in study} | {str(ds.SOPInstanceUID) for ds in study}
    for ds in out:
        assert str(ds.StudyInstanceUID) not in originals
        assert ds.PatientName == "" and ds.PatientID == "ANONYMIZED"
        assert "StudyDescription" not in ds and ds.StudyDate == ""
        assert ds.FrameOfReferenceUID == out[0].FrameOfReferenceUID
    referring = next(ds for ds in out if "ReferencedImageSequence" in ds)
    target = referring.ReferencedImageSequence[0].ReferencedSOPInstanceUID
    assert target in {ds.SOPInstanceUID for ds in out}
    names = [p.relative_to(tmp_path / "out").as_posix() for p in report.written]
    assert all(n.startswith("ST001/SE00") for n in names)


@pytest.mark.parametrize(("modality", "burned", "warns"), [
    ("US", "YES", True), ("US", None, True), ("US", "NO", False), ("SC", None, True),
    ("XC", None, True), ("ES", None, True), ("CT", None, False), ("CT", "YES", True),
])
def test_burned_in_annotation_warnings(modality, burned, warns):
    ds = Dataset()
    ds.Modality = modality
    if burned:
        ds.BurnedInAnnotation = burned
    notes = burn_in_warnings(ds)
    assert bool(notes) is warns
    assert all("Mensah" not in n for n in notes)


def test_synthetic_ultrasound_export_warns(tmp_path):
    from pacs_console.core.dicom.synth.studies import write_study

    paths = write_study(generate_study("US", images=2, size=32, seed=1), tmp_path / "us")
    gen = export_deid(paths, tmp_path / "out")
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        report = stop.value
    assert len(report.warnings) == 1 and "YES" in report.warnings[0]
