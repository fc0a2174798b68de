"""A thumbnail read straight from a plain file is the one pydicom's decode gives, pixel for
pixel; anything the lean read does not take is decoded by pydicom, with the same outcome."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pacs_console.core.dicom.synth.studies import generate_study
from pacs_console.core.imaging import frame_lean
from pacs_console.core.imaging.render import (
    apply_window,
    decode_frame,
    read_dataset,
    render,
    thumbnail,
)
from pacs_console.core.imaging.thumbs import _make

from .conftest import bundled, with_voi_lut


def _pydicom_thumbnail(path: Path, size: int = 64) -> np.ndarray:
    frame = decode_frame(read_dataset(path), size=size)
    if frame.color:
        return np.ascontiguousarray(frame.values)
    c, w = frame.default_window
    return apply_window(frame.values, c, w, frame.invert)


def _save(folder: Path, name: str, ds: Dataset, syntax=ExplicitVRLittleEndian) -> Path:
    ds = copy.deepcopy(ds)
    ds.file_meta.TransferSyntaxUID = syntax
    path = folder / name
    ds.save_as(path, implicit_vr=syntax == ImplicitVRLittleEndian, little_endian=True,
               enforce_file_format=True)
    return path


def _plain(folder: Path) -> list[Path]:
    """Files the lean read takes: each modality in both VR encodings, and awkward pixels."""
    out = []
    for modality in ("CT", "MR", "CR"):
        ds = generate_study(modality, images=1, series=1, size=96, seed=21)[0]
        out.append(_save(folder, f"{modality}_explicit.dcm", ds))
        out.append(_save(folder, f"{modality}_implicit.dcm", ds, ImplicitVRLittleEndian))
    ct = generate_study("CT", images=1, series=1, size=96, seed=22)[0]
    # 12 bits stored, signed, with rubbish in the unused high bits: sign-extended as pydicom does
    odd = copy.deepcopy(ct)
    arr = (np.arange(96 * 96, dtype=np.int16).reshape(96, 96) % 3000) - 1500
    odd.BitsStored, odd.HighBit = 12, 11
    odd.PixelData = (arr.view(np.uint16) ^ 0x5000).astype(np.uint16).tobytes()
    del odd.PixelPaddingValue
    out.append(_save(folder, "bits12_signed_dirty.dcm", odd))
    # unsigned with a US padding value, several windows, a rescale slope
    unsigned = copy.deepcopy(ct)
    raw = (np.arange(96 * 96, dtype=np.uint16).reshape(96, 96) * 7) % 4000
    raw[:10] = 4095
    unsigned.PixelRepresentation, unsigned.BitsStored, unsigned.HighBit = 0, 12, 11
    unsigned.PixelData = raw.tobytes()
    del unsigned.PixelPaddingValue
    unsigned.add_new(0x00280120, "US", 4095)
    unsigned.WindowCenter, unsigned.WindowWidth = [400, 40], [1800, 400]
    unsigned.RescaleSlope, unsigned.RescaleIntercept = "0.5", "-100"
    out.append(_save(folder, "unsigned_padding.dcm", unsigned))
    out.append(_save(folder, "unsigned_padding_implicit.dcm", unsigned, ImplicitVRLittleEndian))
    # no window: the auto window decides
    bare = copy.deepcopy(ct)
    del bare.WindowCenter, bare.WindowWidth
    out.append(_save(folder, "no_window.dcm", bare))
    # multi-frame, 8 bits: the middle frame
    multi = copy.deepcopy(ct)
    frames = np.stack([np.full((40, 50), 30 * i, np.uint8) for i in range(5)])
    frames[:, ::3] = 7
    multi.Rows, multi.Columns, multi.NumberOfFrames = 40, 50, 5
    multi.BitsAllocated, multi.BitsStored, multi.HighBit, multi.PixelRepresentation = 8, 8, 7, 0
    multi.PixelData = frames.tobytes()
    del multi.PixelPaddingValue, multi.RescaleSlope, multi.RescaleIntercept
    multi.WindowCenter, multi.WindowWidth = 60, 120
    out.append(_save(folder, "multiframe8.dcm", multi))
    return out


def test_plain_files_are_read_lean_and_match_pydicom(tmp_path: Path) -> None:
    for path in _plain(tmp_path):
        assert frame_lean.read_frame(path) is not None, path.name
        lean, reference = thumbnail(path, 64), _pydicom_thumbnail(path)
        assert lean.dtype == np.uint8 and lean.shape == reference.shape, path.name
        assert np.array_equal(lean, reference), path.name


def test_a_plain_frame_holds_the_values_pydicom_decodes(tmp_path: Path) -> None:
    for path in _plain(tmp_path):
        _, arr, index, frames = frame_lean.read_frame(path)
        ds = pydicom.dcmread(path)
        expected = ds.pixel_array[index] if frames > 1 else ds.pixel_array
        assert arr.dtype == expected.dtype and np.array_equal(arr, expected), path.name
        full = decode_frame(ds)
        assert render(full).shape == (ds.Rows, ds.Columns)


def _others(folder: Path) -> dict[str, Path]:
    ct = generate_study("CT", images=1, series=1, size=64, seed=23)[0]
    lut = with_voi_lut(copy.deepcopy(ct))
    short = _save(folder, "short_pixels.dcm", ct)
    short.write_bytes(short.read_bytes()[:-500])
    wrong_vr = copy.deepcopy(ct)  # a padding value whose VR says unsigned: pydicom's reading
    del wrong_vr.PixelPaddingValue
    wrong_vr.add_new(0x00280120, "US", 63536)
    implicit_no_rep = copy.deepcopy(ct)
    del implicit_no_rep.PixelRepresentation, implicit_no_rep.PixelPaddingValue
    return {
        "voi_lut": _save(folder, "voi_lut.dcm", lut),
        "short": short,
        "padding_vr_us": _save(folder, "padding_vr_us.dcm", wrong_vr),
        "no_representation": _save(folder, "no_rep.dcm", implicit_no_rep,
                                   ImplicitVRLittleEndian),
        "rgb": bundled("SC_rgb_small_odd.dcm"),
        "big_endian": bundled("MR_small_bigendian.dcm"),
        "jpeg": bundled("SC_rgb_jpeg_dcmtk.dcm"),
        "rle": bundled("MR_small_RLE.dcm"),
        "deflated": bundled("image_dfl.dcm"),
        "palette": bundled("examples_palette.dcm"),
        "float32": bundled("rtdose.dcm"),
    }


def test_other_files_are_left_to_pydicom_with_the_same_outcome(tmp_path: Path) -> None:
    for name, path in _others(tmp_path).items():
        if name == "padding_vr_us":
            lean = frame_lean.read_frame(path)  # the file's own VR decides, as for pydicom
            assert lean is not None and lean[0]["PixelPaddingValue"] == 63536
        else:
            assert frame_lean.read_frame(path) is None, name
        image, reason = _make(str(path), 64)
        if name in ("short", "no_representation"):
            with pytest.raises(Exception):  # noqa: B017, PT011 - pydicom's own refusal
                _pydicom_thumbnail(path)
            assert image is None and reason, name
            continue
        assert reason == "" and np.array_equal(image, _pydicom_thumbnail(path)), name


def test_hostile_pixel_headers_are_bounded(tmp_path: Path) -> None:
    ct = generate_study("CT", images=1, series=1, size=32, seed=24)[0]
    path = _save(tmp_path, "huge.dcm", ct)
    data = bytearray(path.read_bytes())
    at = data.index(b"\xe0\x7f\x10\x00OW")
    data[at + 8:at + 12] = (0xFFFFFFF0).to_bytes(4, "little")  # declares ~4 GB
    path.write_bytes(bytes(data))
    huge = copy.deepcopy(ct)
    huge.Rows = huge.Columns = 65535  # 8 GB a frame, in a file of a few KB
    big = _save(tmp_path, "huge_rows.dcm", huge)
    for p in (path, big):  # never read lean: pydicom reads what the file holds, or refuses
        assert frame_lean.read_frame(p) is None, p.name
    image, reason = _make(str(path), 64)
    assert reason == "" and np.array_equal(image, _pydicom_thumbnail(path))
    image, reason = _make(str(big), 64)
    assert image is None and reason
    # A pipe named .dcm (swapped in after the index) is not waited on here: left to pydicom.
    fifo = tmp_path / "fifo.dcm"
    os.mkfifo(fifo)
    assert frame_lean.read_frame(fifo) is None
