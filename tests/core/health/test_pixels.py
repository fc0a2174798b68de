"""The spot-check's fast read of native pixel data agrees with pydicom's: same SOP Instance UID,
same SHA-256, the same verdict on pixel data cut short; other syntaxes go to pydicom."""

from __future__ import annotations

import hashlib

import pydicom
import pytest

from pacs_console.core.dicom.synth.studies import generate_study, write_study
from pacs_console.core.health.pixels import native_read, read_instance


@pytest.mark.parametrize("modality", ["CT", "MR", "CR", "US"])
def test_native_read_agrees_with_pydicom(tmp_path, modality):
    study = generate_study(modality, images=3, series=1, size=32, seed=3)
    study[1].PixelData = study[1].PixelData[:100]  # cut short: does not decode
    write_study(study, tmp_path)
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert len(files) == 3
    for path in files:
        fast = native_read(path)
        assert fast is not None, path  # native little endian: read from the bytes
        ds = pydicom.dcmread(path)
        assert fast[0] == str(ds.SOPInstanceUID)
        try:
            ds.pixel_array  # noqa: B018 - pydicom's verdict
        except Exception:  # noqa: BLE001
            assert fast[1] is None and "pixel data holds 100 bytes" in fast[2], fast
        else:
            assert fast[1] == hashlib.sha256(ds.PixelData).hexdigest() and fast[2] == ""


def test_compressed_and_non_dicom_files_go_to_pydicom(tmp_path):
    study = generate_study("CT", images=1, series=1, size=32, seed=4)
    study[0].compress(pydicom.uid.RLELossless)
    path = tmp_path / "rle.dcm"
    study[0].save_as(path, enforce_file_format=True)
    assert native_read(path) is None
    sop, digest, problem = read_instance(path)
    assert sop == str(study[0].SOPInstanceUID) and digest and problem == ""
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"\x00" * 128 + b"DICM" + b"\xff" * 40)
    assert native_read(junk) is None
    assert read_instance(junk)[0] is None  # not DICOM: unreadable
