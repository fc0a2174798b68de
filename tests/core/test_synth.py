"""Synthetic studies: valid tags, UTF-8 names on disk, lossless codecs, determinism, worklist."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from pydicom import config, dcmread
from pydicom.uid import (
    ComputedRadiographyImageStorage,
    CTImageStorage,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    MRImageStorage,
    RLELossless,
    UltrasoundImageStorage,
)

from pacs_console.core.dicom.synth.studies import (
    CHARSET,
    COMPRESSIONS,
    INSTITUTIONS,
    PatientInfo,
    compress_dataset,
    generate_demo_studies,
    generate_study,
    worklist_items,
    write_study,
)

COMMON = [
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
    "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID", "AccessionNumber", "StudyDate",
    "StudyTime", "StudyDescription", "SeriesDescription", "SeriesNumber", "InstanceNumber",
    "Modality", "BodyPartExamined", "InstitutionName", "ReferringPhysicianName", "StationName",
    "Manufacturer", "SpecificCharacterSet", "Rows", "Columns", "PixelData",
]
SOP_CLASSES = {"CT": CTImageStorage, "MR": MRImageStorage, "CR": ComputedRadiographyImageStorage,
               "US": UltrasoundImageStorage}
EFUA = PatientInfo(name="Mensah^Ɛfua", patient_id="KB123456", birth_date="19850312", sex="F")


@pytest.fixture
def strict_values():
    """Make pydicom raise on any value that breaks its VR while the study is built and read."""
    saved = config.settings.writing_validation_mode, config.settings.reading_validation_mode
    config.settings.writing_validation_mode = config.RAISE
    config.settings.reading_validation_mode = config.RAISE
    yield
    config.settings.writing_validation_mode, config.settings.reading_validation_mode = saved


@pytest.mark.parametrize("modality", ["CT", "MR", "CR", "US"])
def test_instances_carry_realistic_valid_tags(modality, strict_values, tmp_path):
    study = generate_study(modality, images=4, series=2, size=64, seed=11)
    assert len(study) == 4
    for ds in study:
        for keyword in COMMON:
            assert keyword in ds, keyword
        assert ds.Modality == modality
        assert ds.SOPClassUID == SOP_CLASSES[modality]
        assert ds.SpecificCharacterSet == CHARSET
        assert ds.InstitutionName in INSTITUTIONS.values()
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert len({ds.StudyInstanceUID for ds in study}) == 1
    assert len({ds.SeriesInstanceUID for ds in study}) == 2
    assert len({ds.SOPInstanceUID for ds in study}) == 4
    paths = write_study(study, tmp_path)
    for path in paths:  # strict reading re-validates every value
        back = dcmread(path)
        assert [elem.value for elem in back if elem.tag != 0x7FE00010]


def test_ct_geometry_rescale_and_signed_pixels():
    study = generate_study("CT", images=6, series=1, size=96, seed=3)
    first, second = study[0], study[1]
    assert first.PhotometricInterpretation == "MONOCHROME2"
    assert (first.BitsAllocated, first.PixelRepresentation) == (16, 1)
    assert list(first.ImageOrientationPatient) == [1, 0, 0, 0, 1, 0]
    assert len(first.PixelSpacing) == 2 and float(first.SliceThickness) > 0
    dz = float(second.ImagePositionPatient[2]) - float(first.ImagePositionPatient[2])
    assert abs(abs(dz) - float(first.SliceThickness)) < 1e-6
    assert float(first.RescaleIntercept) == -1024 and float(first.RescaleSlope) == 1
    assert "WindowCenter" in first and "WindowWidth" in first
    pixels = first.pixel_array
    assert pixels.dtype == np.int16 and pixels.shape == (96, 96)
    assert pixels.min() < 0  # padding outside the field of view is negative
    hu = pixels.astype(np.int32) + int(first.RescaleIntercept)
    centre = hu[40:56, 40:56]
    assert -200 < np.median(centre) < 1500  # tissue, not air, in the middle of the phantom
    assert pixels.std() > 50  # a picture, not a flat field


def test_mr_unsigned_cr_monochrome1_us_rgb():
    mr = generate_study("MR", images=2, size=64, seed=1)[0]
    assert mr.PixelRepresentation == 0 and mr.pixel_array.dtype == np.uint16
    cr = generate_study("CR", images=1, size=128, seed=1)[0]
    assert cr.PhotometricInterpretation == "MONOCHROME1"
    assert cr.ViewPosition in ("PA", "LL") and "ImagerPixelSpacing" in cr
    us = generate_study("US", images=2, size=96, seed=1)
    for ds in us:
        assert ds.PhotometricInterpretation == "RGB" and ds.SamplesPerPixel == 3
        assert ds.BitsAllocated == 8 and ds.PlanarConfiguration == 0
        assert ds.BurnedInAnnotation == "YES"
        rgb = ds.pixel_array
        assert rgb.shape == (96, 96, 3) and rgb.dtype == np.uint8
        # the yellow annotation banner is really burned into the pixels
        assert ((rgb[..., 0] == 255) & (rgb[..., 1] == 220) & (rgb[..., 2] == 0)).any()


def test_non_ascii_names_round_trip_through_files(tmp_path):
    study = generate_study("CT", images=2, size=32, patient=EFUA, seed=5)
    paths = write_study(study, tmp_path)
    assert len(paths) == 2 and all(p.exists() for p in paths)
    back = dcmread(paths[0])
    assert str(back.PatientName) == "Mensah^Ɛfua"
    assert back.PatientID == "KB123456" and back.PatientSex == "F"
    assert back.SpecificCharacterSet == "ISO_IR 192"
    assert "Mensah^Ɛfua".encode() in paths[0].read_bytes()  # stored as UTF-8
    assert back.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian


@pytest.mark.parametrize("modality", ["CT", "MR", "CR", "US"])
@pytest.mark.parametrize("codec", list(COMPRESSIONS))
def test_lossless_compression_decodes_to_identical_pixels(modality, codec, tmp_path):
    plain = generate_study(modality, images=2, series=1, size=64, seed=21)
    packed = generate_study(modality, images=2, series=1, size=64, seed=21, compression=codec)
    for a, b in zip(plain, packed, strict=True):
        assert b.file_meta.TransferSyntaxUID == COMPRESSIONS[codec]
        assert b.SOPInstanceUID == a.SOPInstanceUID  # lossless: the instance keeps its UID
        np.testing.assert_array_equal(a.pixel_array, b.pixel_array)
    path = write_study(packed[:1], tmp_path)[0]
    back = dcmread(path)
    assert back.file_meta.TransferSyntaxUID == COMPRESSIONS[codec]
    np.testing.assert_array_equal(back.pixel_array, plain[0].pixel_array)


def test_compress_dataset_keeps_uid():
    ds = generate_study("MR", images=1, size=32, seed=4)[0]
    uid, pixels = ds.SOPInstanceUID, ds.pixel_array.copy()
    compress_dataset(ds, "rle")
    assert ds.SOPInstanceUID == uid and ds.file_meta.TransferSyntaxUID == RLELossless
    np.testing.assert_array_equal(ds.pixel_array, pixels)


def test_same_seed_same_study_other_seed_differs():
    a = generate_study("CT", images=3, size=32, seed=99)
    b = generate_study("CT", images=3, size=32, seed=99)
    c = generate_study("CT", images=3, size=32, seed=100)
    assert [ds.SOPInstanceUID for ds in a] == [ds.SOPInstanceUID for ds in b]
    assert [ds.PixelData for ds in a] == [ds.PixelData for ds in b]
    assert a[0].PatientName == b[0].PatientName and a[0].StudyDate == b[0].StudyDate
    assert a[0].StudyInstanceUID != c[0].StudyInstanceUID
    assert not set(ds.SOPInstanceUID for ds in a) & set(ds.SOPInstanceUID for ds in c)
    other_patient = generate_study("CT", images=3, size=32, seed=99, patient=EFUA)
    assert other_patient[0].StudyInstanceUID != a[0].StudyInstanceUID


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="modality"):
        generate_study("PET")
    with pytest.raises(ValueError, match="compression"):
        generate_study("CT", compression="jpeg")


def test_instances_do_not_share_elements():
    study = generate_study("CT", images=2, size=16, seed=8)
    study[0].PatientName = "Changed^Only"
    assert study[1].PatientName != "Changed^Only"


def test_demo_studies_mix_modalities_patients_and_codecs():
    studies = generate_demo_studies()
    assert len(studies) == 8
    flat = [ds for study in studies for ds in study]
    assert {ds.Modality for ds in flat} == {"CT", "MR", "CR", "US"}
    assert len({ds.PatientID for ds in flat}) >= 3
    syntaxes = {ds.file_meta.TransferSyntaxUID for ds in flat}
    assert {ExplicitVRLittleEndian, RLELossless, JPEG2000Lossless} <= syntaxes
    assert all(ds.Rows <= 256 for ds in flat)
    again = generate_demo_studies()
    assert [ds.SOPInstanceUID for s in again for ds in s] == [ds.SOPInstanceUID for ds in flat]
    assert len({ds.SOPInstanceUID for ds in flat}) == len(flat)


def test_worklist_items_are_scheduled_and_deterministic():
    day = dt.date(2026, 3, 2)
    items = worklist_items(12, seed=3, day=day)
    assert len(items) == 12
    assert [i.AccessionNumber for i in items] == [
        i.AccessionNumber for i in worklist_items(12, seed=3, day=day)]
    dates = set()
    for item in items:
        for keyword in ("PatientName", "PatientID", "AccessionNumber", "RequestedProcedureID",
                        "StudyInstanceUID", "SpecificCharacterSet"):
            assert keyword in item
        (step,) = item.ScheduledProcedureStepSequence
        assert step.Modality in ("CT", "MR", "CR", "US")
        assert step.ScheduledStationAETitle and len(step.ScheduledStationAETitle) <= 16
        assert len(step.ScheduledProcedureStepStartTime) == 6
        dates.add(step.ScheduledProcedureStepStartDate)
    assert day.strftime("%Y%m%d") in dates
    assert all(abs((dt.datetime.strptime(d, "%Y%m%d").date() - day).days) <= 2 for d in dates)
    fixed = worklist_items(2, seed=3, day=day, stations=["ROOM1_CT"])
    assert fixed[0].ScheduledProcedureStepSequence[0].ScheduledStationAETitle == "ROOM1_CT"
