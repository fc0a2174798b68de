"""Fuzzing the capture reader: random bytes behind each file magic, mutated and cut real
captures (pcap and pcapng), lying length fields. Reading may end with a CaptureError or with
problems listed, never another exception, and never allocates more than its limits allow."""

from __future__ import annotations

import struct
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacs_console.core.dicom.wire import pdu
from pacs_console.core.relay.capture import read_capture
from pacs_console.core.relay.pcapread import BLOCK_LIMIT, READ, CaptureError
from tests.core.relay.captures import frames, write_pcap, write_pcapng
from tests.core.relay.pdus import CT, EXPLICIT, ac, ct_dataset, encode, rq, store_rq, store_rsp

FUZZ = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
CHUNKS = [("rq", rq([(CT, [EXPLICIT])]), 1.0), ("ac", ac([0]), 1.1),
          ("rq", store_rq(1, encode(ct_dataset())), 1.2), ("ac", store_rsp(1, 0), 1.3),
          ("rq", pdu.release_rq(), 1.4), ("ac", pdu.release_rp(), 1.5)]
MAGICS = [b"\x0a\x0d\x0d\x0a", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1"]
_cache: dict[str, bytes] = {}


def _capture(tmp_path, classic: bool) -> bytes:
    key = "pcap" if classic else "pcapng"
    if key not in _cache:
        writer = write_pcap if classic else write_pcapng
        _cache[key] = writer(tmp_path / key, frames(CHUNKS, mss=700)).read_bytes()
    return _cache[key]


def _read(tmp_path, data: bytes) -> tuple[list, list] | None:
    """read_capture on the bytes: its answer, or None for a CaptureError; bounded memory."""
    path = tmp_path / "fuzz.cap"
    path.write_bytes(data)
    tracemalloc.start()
    try:
        return read_capture(path)
    except CaptureError:
        return None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 2 * BLOCK_LIMIT + 2 * READ + (8 << 20), f"{peak} bytes at the peak"


def test_the_unmutated_captures_decode(tmp_path):
    for classic in (False, True):
        [report], problems = _read(tmp_path, _capture(tmp_path, classic))
        assert problems == [] and report["result"] == "released"


@FUZZ
@given(st.sampled_from(MAGICS), st.binary(max_size=600))
def test_random_bytes_behind_a_magic(tmp_path, magic, rest):
    got = _read(tmp_path, magic + rest)
    assert got is None or isinstance(got[1], list)


@FUZZ
@given(st.booleans(), st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)),
                               min_size=1, max_size=10), st.integers(0, 1 << 20))
def test_mutated_and_cut_captures(tmp_path, classic, edits, cut):
    data = bytearray(_capture(tmp_path, classic))
    for pos, value in edits:
        data[pos % len(data)] = value
    got = _read(tmp_path, bytes(data[:max(4, len(data) - cut % len(data))]))
    if got is not None:
        reports, problems = got
        assert all(isinstance(p, str) for p in problems)
        assert all(r.get("protocol") in ("dicom", "hl7") for r in reports)


@FUZZ
@given(st.booleans(), st.integers(0, 40), st.integers(0, 0xFFFFFFFF))
def test_a_lying_length_field_allocates_nothing_big(tmp_path, classic, which, length):
    """A 32-bit length written at each of the first length fields (block total lengths and
    captured lengths in pcapng, record lengths in pcap)."""
    data = bytearray(_capture(tmp_path, classic))
    if classic:
        offsets, pos = [], 24
        while pos + 16 <= len(data) and len(offsets) < 41:
            offsets += [pos + 8, pos + 12]
            pos += 16 + struct.unpack_from("<I", data, pos + 8)[0]
    else:
        offsets, pos = [], 0
        while pos + 8 <= len(data) and len(offsets) < 41:
            size = struct.unpack_from("<I", data, pos + 4)[0]
            offsets += [pos + 4, pos + 20]  # the block length; an EPB's captured length
            pos += size
    struct.pack_into("<I", data, offsets[which % len(offsets)], length)
    got = _read(tmp_path, bytes(data))
    assert got is None or isinstance(got[1], list)
