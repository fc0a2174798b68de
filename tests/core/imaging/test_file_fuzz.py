"""Hostile files through `index`, the thumbnailer and `export-deid` (child processes): every file
is reported with a reason, the documented exit code, nothing on stderr, no traceback.

Mutations come from hypothesis (bounded: a few folders of ~30 files each, well under a minute):
bit flips, truncations, garbage VRs, huge lengths and deep sequences, plus the two files of the
issue's corpus that stopped `index` on main (an unknown VR; a length not a multiple of its VR)."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom import dcmwrite
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from pacs_console.core.imaging.header import Header, Refusal, read_header
from tests.conftest import run_cli
from tests.dicom_samples import ct_series


def _base() -> bytes:
    ds = ct_series(1, size=16)[0]
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


BASE = _base()
PIXELS = BASE.index(b"\xe0\x7f\x10\x00")


def unknown_vr() -> bytes:
    """A private header element whose VR is not a VR at all."""
    element = struct.pack("<HH", 0x0009, 0x0010) + b"ZZ" + struct.pack("<H", 4) + b"ABCD"
    at = BASE.index(b"\x10\x00\x10\x00")  # before PatientName: group 0009 sorts here
    return BASE[:at] + element + BASE[at:]


def bad_length() -> bytes:
    """(0028,0030) Pixel Spacing is DS, but a US element with an odd length (3 bytes)."""
    element = struct.pack("<HH", 0x0011, 0x0010) + b"US" + struct.pack("<H", 3) + b"\x01\x02\x03"
    at = BASE.index(b"\x20\x00\x0d\x00")  # before StudyInstanceUID
    return BASE[:at] + element + BASE[at:]


def deep_sequence(depth: int) -> bytes:
    ds = ct_series(1, size=16)[0]
    inner = Dataset()
    inner.CodeValue = "X"
    for _ in range(depth):
        outer = Dataset()
        outer.ContentSequence = Sequence([inner])
        inner = outer
    ds.ContentSequence = inner.ContentSequence
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


def test_the_two_files_that_stopped_index_are_refused_with_a_reason(tmp_path, data_dir):
    tmp_path = tmp_path / "corpus"
    tmp_path.mkdir()
    for name, data in (("unknown_vr.dcm", unknown_vr()), ("bad_length.dcm", bad_length())):
        path = tmp_path / name
        path.write_bytes(data)
        result = read_header(path)
        assert isinstance(result, Header | Refusal)
    proc = run_cli("index", str(tmp_path), "--json", data_dir=data_dir)
    assert "Traceback" not in proc.stderr and proc.stderr == ""
    doc = json.loads(proc.stdout)
    assert {Path(f["path"]).name for f in doc["files"]} == {"unknown_vr.dcm", "bad_length.dcm"}


def test_a_zero_filled_file_costs_what_any_refusal_costs(tmp_path):
    path = tmp_path / "zeros.dcm"
    with open(path, "wb") as fh:
        fh.truncate(200 << 20)  # 200 MB of zeros (sparse: no disk used)
    calls = []
    import builtins

    real_open = builtins.open

    class Counting:
        def __init__(self, fh):
            self.fh = fh

        def read(self, n=-1):
            data = self.fh.read(n)
            calls.append(len(data))
            return data

        def __getattr__(self, name):
            return getattr(self.fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    def counting_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        return Counting(handle) if str(file) == str(path) else handle

    builtins.open = counting_open
    try:
        result = read_header(path)
    finally:
        builtins.open = real_open
    assert isinstance(result, Refusal) and result.reason == "not-dicom"
    assert sum(calls) <= 4096


def _mutations():
    flip = st.tuples(st.just("flip"), st.integers(0, len(BASE) - 1), st.integers(0, 7))
    cut = st.tuples(st.just("cut"), st.integers(1, len(BASE) - 1), st.just(0))
    vr = st.tuples(st.just("vr"), st.integers(132, PIXELS), st.integers(0, 0xFFFF))
    huge = st.tuples(st.just("huge"), st.integers(132, PIXELS), st.just(0))
    return st.lists(st.one_of(flip, cut, vr, huge), min_size=1, max_size=4)


def _apply(mutations) -> bytes:
    data = bytearray(BASE)
    for kind, pos, value in mutations:
        pos = min(pos, max(len(data) - 1, 0))
        if kind == "flip" and data:
            data[pos] ^= 1 << value
        elif kind == "cut":
            data = data[:pos]
        elif kind == "vr" and pos + 2 <= len(data):
            data[pos:pos + 2] = struct.pack("<H", value)
        elif kind == "huge" and pos + 4 <= len(data):
            data[pos:pos + 4] = b"\xf0\xff\xff\xff"
    return bytes(data)


@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(batch=st.lists(_mutations(), min_size=25, max_size=25))
def test_mutated_files_through_index_thumbnails_and_export(tmp_path_factory, batch):
    folder = tmp_path_factory.mktemp("fuzz")
    for i, mutations in enumerate(batch):
        (folder / f"m{i:03d}.dcm").write_bytes(_apply(mutations))
    (folder / "unknown_vr.dcm").write_bytes(unknown_vr())
    (folder / "bad_length.dcm").write_bytes(bad_length())
    (folder / "deep.dcm").write_bytes(deep_sequence(200))
    (folder / "good.dcm").write_bytes(BASE)
    total = len(batch) + 4
    data = tmp_path_factory.mktemp("data")
    thumbs = tmp_path_factory.mktemp("thumbs")
    proc = run_cli("index", str(folder), "--json", "--thumbnails", str(thumbs), data_dir=data,
                   timeout=120)
    assert proc.stderr == "", proc.stderr
    doc = json.loads(proc.stdout)
    assert len(doc["files"]) == total
    assert all(f["status"] == "ok" or f["reason"] for f in doc["files"])
    assert proc.returncode == 0  # every file reported, the refusals with their reasons
    assert any(f["status"] == "ok" and f["path"].endswith("good.dcm") for f in doc["files"])
    out = tmp_path_factory.mktemp("deid")
    proc = run_cli("export-deid", str(folder), "--out", str(out), "--json", data_dir=data,
                   timeout=120)
    assert proc.stderr == "", proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["written"] + len(doc["failed"]) + len(doc["not_exported"]) == total
    assert proc.returncode == (0 if not doc["failed"] else 1)
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))


def test_export_deid_keeps_pydicom_warnings_as_that_files_notes(tmp_path, data_dir):
    """A file pydicom doubts (a UID that breaks the UID grammar) is still exported; its warning
    is listed against its name in the report, and nothing reaches stderr."""
    import io
    import warnings

    import pydicom

    folder = tmp_path / "in"
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        odd = pydicom.dcmread(io.BytesIO(BASE))
        odd.SOPInstanceUID = "1.2.abc.3"
        odd.save_as(folder / "odd_uid.dcm")
    (folder / "good.dcm").write_bytes(BASE)
    proc = run_cli("export-deid", str(folder), "--out", str(tmp_path / "out"), "--json",
                   data_dir=data_dir, timeout=120)
    assert proc.stderr == "", proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["written"] == 2
    assert any(w.startswith("odd_uid.dcm: Invalid value for VR UI") for w in doc["warnings"])
    assert not any(w.startswith("good.dcm") for w in doc["warnings"])
