"""Folders of real and broken files for the imaging tests, built per test in tmp_path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from pacs_console.core.dicom.synth.studies import generate_study, write_study

# pydicom's bundled files, one per transfer syntax / photometric case the viewer must render.
BUNDLED = {
    "CT_small.dcm": "explicit little endian, signed CT",
    "MR_small_implicit.dcm": "implicit little endian",
    "MR_small_bigendian.dcm": "explicit big endian",
    "image_dfl.dcm": "deflated",
    "MR_small_RLE.dcm": "RLE",
    "SC_rgb_jpeg_dcmtk.dcm": "JPEG baseline YBR_FULL",
    "JPGExtended.dcm": "JPEG extended",
    "SC_rgb_jpeg_gdcm.dcm": "JPEG lossless SV1",
    "MR_small_jpeg_ls_lossless.dcm": "JPEG-LS lossless",
    "JPEGLSNearLossless_16.dcm": "JPEG-LS near-lossless",
    "MR_small_jp2klossless.dcm": "JPEG 2000 lossless",
    "693_J2KI.dcm": "JPEG 2000",
    "SC_rgb_small_odd.dcm": "RGB",
    "SC_ybr_full_422_uncompressed.dcm": "YBR_FULL_422 native",
    "examples_palette.dcm": "palette colour",
    "SC_rgb_rle_2frame.dcm": "multi-frame RGB RLE",
    "rtdose.dcm": "multi-frame 32-bit",
    "examples_ybr_color.dcm": "multi-frame JPEG YBR_FULL_422",
}


def bundled(name: str) -> Path:
    return Path(get_testdata_file(name))


def make_broken(folder: Path) -> dict[str, str]:
    """Files every CD eventually contains; returns name -> expected reason code."""
    folder.mkdir(parents=True, exist_ok=True)
    ct = bundled("CT_small.dcm").read_bytes()
    (folder / "truncated.dcm").write_bytes(ct[: len(ct) - 4000])
    (folder / "zero.dcm").write_bytes(b"")
    (folder / "random.bin").write_bytes(os.urandom(4096))
    (folder / "notes.txt").write_text("Patient CD: open DICOMDIR\n")
    import pydicom

    ds = pydicom.dcmread(bundled("CT_small.dcm"))
    del ds.PixelData
    ds.save_as(folder / "header_only.dcm")
    shutil.copy(bundled("MR_small.dcm"), folder / "IMAGE.JPG")  # wrong extension, still DICOM
    return {"truncated.dcm": "truncated", "zero.dcm": "empty", "random.bin": "not-dicom",
            "notes.txt": "not-dicom", "header_only.dcm": "missing-pixel-data"}


@pytest.fixture
def mixed_folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "cd"
    for name in BUNDLED:
        target = root / "bundled" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(bundled(name), target)
    write_study(generate_study("CT", images=4, series=2, size=64, compression="rle", seed=5),
                root / "ct")
    write_study(generate_study("MR", images=3, series=1, size=64, compression="jpegls", seed=6),
                root / "mr")
    write_study(generate_study("US", images=2, size=64, compression="jpeg2000", seed=7),
                root / "us")
    write_study(generate_study("CR", images=1, series=1, size=64, seed=8), root / "cr")
    expected = make_broken(root / "broken")
    return root, expected


def with_voi_lut(ds):
    """``ds`` with its window replaced by a VOI LUT sequence (a 12-bit ramp to 8 bits)."""
    from pydicom.dataset import Dataset

    del ds.WindowCenter, ds.WindowWidth
    lut = Dataset()
    lut.LUTDescriptor = [4096, 0, 8]
    lut.LUTData = [min(255, v // 16) for v in range(4096)]
    lut.add_new(0x00283006, "US", lut.LUTData)
    ds.VOILUTSequence = [lut]
    return ds
