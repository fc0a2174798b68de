"""Thumbnails: produced by the process pool, cached by UID and mtime, placeholders say why."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pydicom
import pytest

from pacs_console.core.imaging.thumbs import (
    ThumbCache,
    ThumbJob,
    generate_thumbnails,
    shutdown_pool,
    write_png,
)
from tests.core.imaging.conftest import bundled


@pytest.fixture(autouse=True, scope="module")
def _pool():
    yield
    shutdown_pool()


def run(jobs, cache, **kw):
    gen = generate_thumbnails(jobs, cache, **kw)
    results = []
    while True:
        try:
            results.append(next(gen).item)
        except StopIteration as stop:
            return results, stop.value


def jobs_for(folder, names):
    out = []
    for name in names:
        path = folder / name
        shutil.copy(bundled(name), path)
        out.append(ThumbJob(name, str(path), f"uid-{name}", os.stat(path).st_mtime_ns))
    return out


def test_pool_makes_tiles_and_cache_serves_them(tmp_path):
    names = ["CT_small.dcm", "MR_small_RLE.dcm", "SC_rgb_jpeg_dcmtk.dcm", "693_J2KI.dcm",
             "JPEG-lossy.dcm"]
    jobs = jobs_for(tmp_path, names)
    # A compression nothing decodes (JPEG XL, no pydicom plugin yet): a placeholder, a reason.
    odd = tmp_path / "jpegxl.dcm"
    ds = pydicom.dcmread(bundled("JPEG-lossy.dcm"))
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.110"
    ds.save_as(odd, enforce_file_format=True)
    jobs.append(ThumbJob("jpegxl.dcm", str(odd), "uid-jpegxl", os.stat(odd).st_mtime_ns))
    cache = ThumbCache(tmp_path / "thumbs", size=32)
    results, summary = run(jobs, cache)
    by_key = {r.key: r for r in results}
    assert set(by_key) == {*names, "jpegxl.dcm"} and summary.done == 6 and summary.cached == 0
    assert by_key["SC_rgb_jpeg_dcmtk.dcm"].image.shape[-1] == 3
    assert max(by_key["CT_small.dcm"].image.shape) <= 32
    # 12-bit JPEG Extended decodes without GPL code (imagecodecs' libjpeg-turbo)
    assert by_key["JPEG-lossy.dcm"].image is not None and by_key["JPEG-lossy.dcm"].image.max()
    assert by_key["jpegxl.dcm"].image is None
    assert "1.2.840.10008.1.2.4.110" in by_key["jpegxl.dcm"].reason
    assert "not supported" in by_key["jpegxl.dcm"].reason
    again, summary2 = run(jobs, cache)
    assert summary2.cached == 6 and summary2.failed == 1
    assert np.array_equal({r.key: r for r in again}["CT_small.dcm"].image,
                          by_key["CT_small.dcm"].image)


def test_changed_mtime_misses_the_cache(tmp_path):
    jobs = jobs_for(tmp_path, ["MR_small.dcm"])
    cache = ThumbCache(tmp_path / "thumbs", size=32)
    run(jobs, cache)
    moved = ThumbJob("MR_small.dcm", jobs[0].path, jobs[0].sop_uid, jobs[0].mtime_ns + 1)
    _, summary = run([moved], cache)
    assert summary.cached == 0


def test_closing_cancels_pending_work(tmp_path):
    names = ["CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm", "MR_small_implicit.dcm"]
    jobs = jobs_for(tmp_path, names) * 5
    gen = generate_thumbnails(jobs, ThumbCache(tmp_path / "thumbs"), inline_first=1, in_flight=2)
    next(gen)
    gen.close()  # must return promptly and leave the pool usable
    results, summary = run(jobs[:2], ThumbCache(tmp_path / "thumbs2"))
    assert summary.done == 2


def test_a_wedged_decoder_fails_its_tile_and_the_rest_go_on(tmp_path, monkeypatch):
    from pacs_console.core.imaging import thumbs

    # A FIFO named like a DICOM file blocks the worker that opens it, as a dead mount would.
    fifo = tmp_path / "stuck.dcm"
    os.mkfifo(fifo)
    monkeypatch.setattr(thumbs, "_STALL_S", 5.0)  # a fresh worker must answer within it on a loaded machine
    good = jobs_for(tmp_path, ["CT_small.dcm"])
    stuck = ThumbJob("stuck", str(fifo), "uid-stuck", 1)
    results, summary = run([stuck] + good, ThumbCache(tmp_path / "thumbs"), inline_first=0,
                           in_flight=1)
    by_key = {r.key: r for r in results}
    assert "did not answer" in by_key["stuck"].reason
    assert by_key["CT_small.dcm"].image is not None and summary.done == 2
    # Not cached as a failure: the file may be fine once the mount answers.
    assert ThumbCache(tmp_path / "thumbs").get("uid-stuck", 1) is None


def test_shutdown_stops_running_generators_without_restarting_the_pool(tmp_path):
    from pacs_console.core.imaging import thumbs

    names = ["CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm", "MR_small_implicit.dcm"]
    jobs = jobs_for(tmp_path, names) * 10
    gen = generate_thumbnails(jobs, ThumbCache(tmp_path / "thumbs"), inline_first=1, in_flight=2)
    next(gen)
    shutdown_pool()  # the app quits while tiles are being made
    results = list(gen)
    assert len(results) < len(jobs) - 1 and thumbs._POOL is None


def test_png_writer_roundtrip(tmp_path):
    import zlib

    img = (np.arange(12 * 7) % 256).astype(np.uint8).reshape(7, 12)
    write_png(tmp_path / "g.png", img)
    data = (tmp_path / "g.png").read_bytes()
    assert data.startswith(b"\x89PNG")
    idat = data[data.index(b"IDAT") + 4:data.index(b"IEND") - 8]
    raw = zlib.decompress(idat)
    rows = [raw[r * 13 + 1:(r + 1) * 13] for r in range(7)]
    assert np.frombuffer(b"".join(rows), np.uint8).reshape(7, 12).tolist() == img.tolist()
    write_png(tmp_path / "c.png", np.zeros((4, 5, 3), np.uint8))
    assert (tmp_path / "c.png").stat().st_size > 50
