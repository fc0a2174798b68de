"""Tiny but valid CT datasets for network tests (8x8 pixels, explicit VR little endian)."""

from __future__ import annotations

import io

import numpy as np
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid


def ct_series(
    count: int = 3,
    *,
    patient_id: str = "PEERTEST1",
    patient_name: str = "Peer^Test",
    study_uid: str | None = None,
    size: int = 8,
) -> list[Dataset]:
    """``count`` CT slices of one new series in one study (new study unless ``study_uid``)."""
    study_uid = study_uid or generate_uid()
    series_uid = generate_uid()
    slices = []
    for number in range(1, count + 1):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.PatientID = patient_id
        ds.PatientName = patient_name
        ds.PatientBirthDate = "19700101"
        ds.PatientSex = "O"
        ds.StudyInstanceUID = study_uid
        ds.StudyDate = "20240102"
        ds.StudyTime = "101500"
        ds.StudyID = "1"
        ds.AccessionNumber = "ACC" + study_uid[-8:]
        ds.ReferringPhysicianName = ""
        ds.StudyDescription = "Peer smoke test"
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = 1
        ds.Modality = "CT"
        ds.InstanceNumber = number
        ds.ImagePositionPatient = [0.0, 0.0, float(number)]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [1.0, 1.0]
        ds.SliceThickness = 1.0
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = ds.Columns = size
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = 1
        # A gradient rather than zeros: a truncated transfer shows up as wrong pixel values.
        pixels = (np.arange(size * size, dtype=np.uint16).reshape(size, size) * number) % 4096
        ds.PixelData = pixels.tobytes()
        slices.append(ds)
    return slices


def to_bytes(ds: Dataset) -> bytes:
    """The dataset as a DICOM Part-10 file in memory."""
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()
