"""The lean header reader gives the index exactly what the pydicom read gives, file by file."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pacs_console.core.dicom.synth.studies import generate_study, write_study
from pacs_console.core.imaging import header_lean
from pacs_console.core.imaging.header import read_header

from .conftest import make_broken


def _lean_used(path: Path) -> bool:
    with open(path, "rb") as fh:
        return header_lean.read(fh, path.stat().st_size) is not None


def _variants(folder: Path) -> list[Path]:
    """Plain and awkward variants of one synthetic CT: implicit VR, a sequence of undefined
    length, private tags, a non-ASCII name, multi-valued and odd values, cut-off copies."""
    folder.mkdir(parents=True, exist_ok=True)
    base = generate_study("CT", images=1, series=1, size=32, seed=11)[0]
    out: list[Path] = []

    def save(name: str, ds: Dataset, syntax=ExplicitVRLittleEndian) -> Path:
        ds = copy.deepcopy(ds)
        ds.file_meta.TransferSyntaxUID = syntax
        path = folder / name
        ds.save_as(path, implicit_vr=syntax == ImplicitVRLittleEndian, little_endian=True,
                   enforce_file_format=True)
        out.append(path)
        return path

    save("explicit.dcm", base)
    save("implicit.dcm", base, ImplicitVRLittleEndian)
    with_seq = copy.deepcopy(base)
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator = "T-D0050", "SRT"
    with_seq.AnatomicRegionSequence = Sequence([item])
    with_seq.add_new(0x00091010, "LO", "PRIVATE CREATOR")
    with_seq.add_new(0x00091011, "OB", b"\x01" * 9000)  # beyond the first read
    seq_path = save("sequence_private.dcm", with_seq)
    # undefined-length sequence, as many modalities write them
    with_seq.AnatomicRegionSequence.is_undefined_length = True
    save("sequence_undefined.dcm", with_seq, ImplicitVRLittleEndian)
    latin = copy.deepcopy(base)
    latin.SpecificCharacterSet = "ISO_IR 100"
    latin.PatientName = "Mensah^Abená"
    save("latin1_name.dcm", latin)
    utf8 = copy.deepcopy(base)
    utf8.SpecificCharacterSet = "ISO_IR 192"
    utf8.PatientName = "Boateng^Akɔsua"
    save("utf8_name.dcm", utf8)
    latin.SpecificCharacterSet = "ISO 2022 IR 6"
    save("iso2022.dcm", latin)
    odd = copy.deepcopy(base)
    odd.SeriesNumber, odd.InstanceNumber = "+7", " 12"
    odd.StudyDescription = "CT\\HEAD"  # two values: pydicom splits them
    odd.SliceLocation = "1e2"
    save("odd_values.dcm", odd)
    no_pos = copy.deepcopy(base)
    for keyword in ("ImagePositionPatient", "ImageOrientationPatient"):
        if keyword in no_pos:
            delattr(no_pos, keyword)
    no_pos.SliceLocation = "-12.5"
    save("slice_location.dcm", no_pos)
    bad_uid = copy.deepcopy(base)
    bad_uid.SeriesInstanceUID = "1.2.03.4"  # a leading zero: pydicom warns
    save("bad_uid.dcm", bad_uid)
    no_pixels = copy.deepcopy(base)
    del no_pixels.PixelData
    save("no_pixels.dcm", no_pixels)
    whole = seq_path.read_bytes()
    explicit = (folder / "explicit.dcm").read_bytes()
    for cut in (200, 400, len(explicit) - 700, len(explicit) - 1):
        path = folder / f"cut_{cut}.dcm"
        path.write_bytes(explicit[:cut])
        out.append(path)
    path = folder / "cut_in_private.dcm"
    path.write_bytes(whole[:len(whole) - 2048 - 4000])
    out.append(path)
    return out


def test_lean_and_pydicom_reads_agree(tmp_path: Path) -> None:
    # pydicom's own test files (the bundled ones only: nothing is fetched)
    paths = sorted((Path(pydicom.__file__).parent / "data" / "test_files").rglob("*.dcm"))
    paths += write_study(generate_study("CT", images=6, series=2, size=32, seed=3), tmp_path / "ct")
    paths += write_study(generate_study("MR", images=2, series=1, size=32, compression="rle",
                                        seed=4), tmp_path / "mr")
    paths += _variants(tmp_path / "variants")
    make_broken(tmp_path / "broken")
    paths += sorted((tmp_path / "broken").iterdir())
    assert len(paths) > 100
    for path in paths:
        assert read_header(path) == read_header(path, lean=False), path


def test_lean_reader_takes_the_plain_files(tmp_path: Path) -> None:
    plain = write_study(generate_study("CT", images=3, series=1, size=32, seed=3), tmp_path / "ct")
    variants = {p.name: p for p in _variants(tmp_path / "variants")}
    taken = [variants[n] for n in ("explicit.dcm", "implicit.dcm", "sequence_private.dcm",
                                   "sequence_undefined.dcm", "slice_location.dcm",
                                   "no_pixels.dcm", "latin1_name.dcm", "utf8_name.dcm")]
    for path in plain + taken:
        assert _lean_used(path), path
    # what pydicom decodes, splits, warns about or diagnoses differently is left to pydicom
    for name in ("iso2022.dcm", "odd_values.dcm", "bad_uid.dcm", "cut_200.dcm",
                 "cut_in_private.dcm"):
        assert not _lean_used(variants[name]), name


def test_lean_reader_checks_pixel_length_against_file_size(tmp_path: Path) -> None:
    path = write_study(generate_study("CT", images=1, series=1, size=64, seed=9), tmp_path)[0]
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    assert _lean_used(path)
    refusal = read_header(path)
    assert refusal == read_header(path, lean=False)
    assert refusal.reason == "truncated" and "declares" in refusal.detail


def test_hostile_lengths_are_bounded(tmp_path: Path) -> None:
    """Element lengths of 4 GB, a header past the lean reader's limit, random tails: each file
    gets a result of its own (no exception, no huge allocation)."""
    base = write_study(generate_study("CT", images=1, series=1, size=32, seed=2), tmp_path)[0]
    data = bytearray(base.read_bytes())
    ds = pydicom.dcmread(base)
    offset = data.find(b"\x10\x00\x20\x00")  # Patient ID, explicit VR: LO + 2-byte length
    huge = bytes(data[:offset + 8]) + b"\xff" * 8 + bytes(data[offset + 8:])
    (tmp_path / "huge_length.dcm").write_bytes(huge)
    big = ds.copy()
    big.add_new(0x00091010, "LO", "PRIVATE CREATOR")
    big.add_new(0x00091011, "OB", b"\x00" * (header_lean.MAX_HEADER + 10))
    big.save_as(tmp_path / "big_header.dcm", enforce_file_format=True)
    (tmp_path / "random_tail.dcm").write_bytes(bytes(data[:600]) + os.urandom(3000))
    for name in ("huge_length.dcm", "big_header.dcm", "random_tail.dcm"):
        path = tmp_path / name
        assert read_header(path) == read_header(path, lean=False), name
    assert read_header(tmp_path / "big_header.dcm").sop_uid == ds.SOPInstanceUID
