"""Header-only indexing: every file listed with a status, refusals with specific reasons."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest
from pydicom.fileset import FileSet

from pacs_console.core.dicom.synth.studies import generate_study
from pacs_console.core.errors import ConsoleError
from pacs_console.core.imaging.header import Header, Refusal, read_header
from pacs_console.core.imaging.index import SCHEMA_VERSION, ImageIndex, index_source
from tests.core.dicom_ops.helpers import drain
from tests.core.imaging.conftest import BUNDLED, bundled


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_files_index_ok(name):
    header = read_header(bundled(name))
    assert isinstance(header, Header), header
    assert header.sop_uid and header.has_pixels and header.transfer_syntax


def test_folder_lists_every_file_with_a_reason(tmp_path, mixed_folder):
    root, expected = mixed_folder
    index = ImageIndex(tmp_path / "cache" / "index.sqlite3")
    progress, result = drain(index_source(index, root, tmp_path / "cache"))
    rows = {Path(r.path).name: r for r in index.files([result.source])}
    assert len(rows) == result.total == sum(len(files) for _, _, files in os.walk(root))
    for name, reason in expected.items():
        assert rows[name].status == "refused" and rows[name].reason == reason, rows[name]
    assert rows["IMAGE.JPG"].status == "ok"
    assert result.refused == len(expected)
    assert result.ok == result.total - len(expected)
    assert progress[-1].done == result.total
    studies = index.studies([result.source])
    ct = [s for s in studies if "CT" in s.modalities and s.series_count == 2]
    assert ct and ct[0].instance_count == 4
    series = index.series(ct[0].study_uid, [result.source])
    assert [s.number for s in series] == [1, 2]
    assert all(s.representative is not None for s in series)
    numbers = [i.instance_number for i in index.instances(series[0].series_uid, [result.source])]
    assert numbers == sorted(numbers)


def test_reindex_reads_only_what_changed(tmp_path, mixed_folder):
    root, _ = mixed_folder
    index = ImageIndex(tmp_path / "index.sqlite3")
    _, first = drain(index_source(index, root, tmp_path))
    assert first.read == first.total
    _, again = drain(index_source(index, root, tmp_path))
    assert again.read == 0 and again.unchanged == first.total
    victim = next((root / "ct").iterdir())
    shutil.copy(bundled("MR_small.dcm"), victim)
    (root / "broken" / "zero.dcm").unlink()
    _, third = drain(index_source(index, root, tmp_path))
    assert third.read == 1 and third.removed == 1 and third.total == first.total - 1


def test_schema_change_rebuilds_the_cache(tmp_path):
    import sqlite3

    path = tmp_path / "index.sqlite3"
    ImageIndex(path)
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA user_version = 999")
    ImageIndex(path)
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_dicomdir_from_pydicom_fileset(tmp_path):
    fs = FileSet()
    for ds in generate_study("CT", images=3, series=1, size=32, seed=9):
        fs.add(ds)
    fs.write(tmp_path / "disc")
    index = ImageIndex(tmp_path / "index.sqlite3")
    _, result = drain(index_source(index, tmp_path / "disc", tmp_path))
    assert result.kind == "dicomdir" and result.total == 3 and result.ok == 3
    _, direct = drain(index_source(index, tmp_path / "disc" / "DICOMDIR", tmp_path))
    assert direct.kind == "dicomdir" and direct.ok == 3


def test_zip_source_and_unsafe_member(tmp_path):
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(bundled("CT_small.dcm"), "CD/IMG1")
        zf.write(bundled("MR_small_RLE.dcm"), "CD/IMG2")
        zf.writestr("../escape.dcm", b"x")
    index = ImageIndex(tmp_path / "index.sqlite3")
    _, result = drain(index_source(index, archive, tmp_path / "cache"))
    assert result.kind == "zip" and result.ok == 2 and result.total == 2
    assert any("unsafe" in note for note in result.notes)
    assert not (tmp_path / "cache" / "escape.dcm").exists()


def test_single_file_and_missing_source(tmp_path):
    index = ImageIndex(tmp_path / "index.sqlite3")
    _, result = drain(index_source(index, bundled("MR_small.dcm"), tmp_path))
    assert result.kind == "file" and result.ok == 1
    with pytest.raises(ConsoleError) as info:
        drain(index_source(index, tmp_path / "no-such-cd", tmp_path))
    assert info.value.diagnosis.code == "imaging.source-missing"


def test_unknown_transfer_syntax_is_refused(tmp_path):
    import pydicom

    ds = pydicom.dcmread(bundled("CT_small.dcm"))
    ds.file_meta.TransferSyntaxUID = "1.2.3.4.5.6"
    path = tmp_path / "odd.dcm"
    ds.save_as(path)
    refusal = read_header(path)
    assert isinstance(refusal, Refusal) and refusal.reason == "bad-transfer-syntax"


def test_closing_the_generator_keeps_what_was_read(tmp_path, mixed_folder):
    root, _ = mixed_folder
    index = ImageIndex(tmp_path / "index.sqlite3")
    import pacs_console.core.imaging.index as module

    old = module._BATCH
    module._BATCH = 2
    try:
        gen = index_source(index, root, tmp_path)
        next(gen)  # listing
        # The first image is written at once (so the viewer can show it), then batches of two,
        # or fewer when a quarter second passes (a loaded machine): read until 3 are reported.
        reported = 0
        while reported < 3:
            reported = next(gen).done
        gen.close()
    finally:
        module._BATCH = old
    assert len(index.known(str(root.resolve()))) >= reported


def test_headers_read_ahead_in_the_pool_match_in_process_reads(mixed_folder):
    from pacs_console.core.imaging.index import read_ahead
    from pacs_console.core.imaging.thumbs import shutdown_pool

    root, _ = mixed_folder
    paths = sorted(p for p in root.rglob("*") if p.is_file())
    assert len(paths) > 6
    expected = [read_header(p) for p in paths]
    assert list(read_ahead(paths, chunk=2)) == expected  # in order, refusals included
    # The command line's way: every header from the pool, none read first on this thread.
    assert list(read_ahead(paths, chunk=2, first_here=False)) == expected
    reader = read_ahead(paths, chunk=2)
    first = [next(reader) for _ in range(3)]
    shutdown_pool()  # the pool goes away mid-read: the rest is read here, nothing lost
    assert first + list(reader) == expected
