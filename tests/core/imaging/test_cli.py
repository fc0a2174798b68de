"""`pacs-console index` and `export-deid` as scripts call them: child process, JSON on stdout."""

from __future__ import annotations

import json

import pydicom

from pacs_console.core.dicom.synth.studies import generate_study, write_study
from tests.conftest import run_cli


def test_index_reports_every_file_and_writes_pngs(tmp_path, data_dir, mixed_folder):
    root, expected = mixed_folder
    thumbs = tmp_path / "thumbs"
    proc = run_cli("index", str(root), "--thumbnails", str(thumbs), "--json", data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr  # every file reported, refusals included
    doc = json.loads(proc.stdout)
    files = {f["path"].rsplit("/", 1)[-1]: f for f in doc["files"]}
    for name, reason in expected.items():
        assert files[name]["status"] == "refused" and files[name]["reason"] == reason
    ok = [f for f in doc["files"] if f["status"] == "ok"]
    assert ok and all(f["sop_instance_uid"] and f["transfer_syntax"] for f in ok)
    # some of pydicom's bundled files carry no study or series UID; the generated ones all do
    assert all(f["study_uid"] and f["series_uid"] and f["patient_id"] for f in ok
               if "/ct/" in f["path"])
    assert doc["summary"]["ok"] == len(ok) and doc["summary"]["refused"] == len(expected)
    pngs = list(thumbs.rglob("*.png"))
    with_thumb = [f for f in ok if "thumbnail" in f]
    assert len(with_thumb) >= len(ok) - 2  # a few bundled files are non-images or undecodable
    assert all(open(f["thumbnail"], "rb").read(4) == b"\x89PNG" for f in with_thumb)
    assert len(pngs) > len(with_thumb)  # plus one per series
    again = json.loads(run_cli("index", str(root), "--json", data_dir=data_dir).stdout)
    assert again["summary"]["read"] == 0 and again["summary"]["unchanged"] == len(doc["files"])


def test_index_text_output_and_missing_source(tmp_path, data_dir):
    folder = tmp_path / "ct"
    write_study(generate_study("CT", images=2, size=16, seed=3), folder)
    proc = run_cli("index", str(folder), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\nok ") + proc.stdout.startswith("ok ") == 2
    assert "2 ok, 0 refused" in proc.stdout
    missing = run_cli("index", str(tmp_path / "nope"), "--json", data_dir=data_dir)
    assert missing.returncode == 1
    assert json.loads(missing.stdout)["error"]["code"] == "imaging.source-missing"


def test_export_deid_writes_clean_copies(tmp_path, data_dir):
    folder = tmp_path / "us"
    study = generate_study("US", images=2, size=32, seed=4)
    write_study(study, folder)
    (folder / "junk.txt").write_text("x")
    out = tmp_path / "out"
    proc = run_cli("export-deid", str(folder), "--out", str(out), "--json", data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["written"] == 2 and doc["warnings"] and len(doc["not_exported"]) == 1
    written = sorted(out.rglob("*.dcm"))
    assert len(written) == 2
    for path in written:
        ds = pydicom.dcmread(path)
        assert ds.PatientName == "" and ds.PatientIdentityRemoved == "YES"
        assert ds.StudyInstanceUID != study[0].StudyInstanceUID
    assert str(study[0].PatientName) not in proc.stdout


def test_thumbnails_are_the_viewers_tiles_and_never_follow_a_planted_link(tmp_path, data_dir):
    import zlib

    import numpy as np

    from pacs_console.core.imaging.render import apply_window, decode_frame, read_dataset

    folder = tmp_path / "ct"
    study = generate_study("CT", images=3, series=1, size=256, seed=8)
    paths = write_study(study, folder)
    thumbs = tmp_path / "thumbs"
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"keep")
    first = study[0]
    planted = thumbs / first.StudyInstanceUID / first.SeriesInstanceUID / \
        f"{first.SOPInstanceUID}.png"
    planted.parent.mkdir(parents=True)
    planted.symlink_to(outside)
    proc = run_cli("index", str(folder), "--thumbnails", str(thumbs), "--json",
                   data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    files = {f["sop_instance_uid"]: f for f in json.loads(proc.stdout)["files"]}
    assert outside.read_bytes() == b"keep"  # the link was not followed out of the folder
    assert "cannot write" in files[first.SOPInstanceUID]["thumbnail_error"]
    for ds, path in zip(study[1:], paths[1:], strict=True):  # as pydicom decodes them
        png = open(files[ds.SOPInstanceUID]["thumbnail"], "rb").read()
        raw = zlib.decompress(png[png.index(b"IDAT") + 4:png.index(b"IEND") - 8])
        image = np.frombuffer(raw, np.uint8).reshape(128, 129)[:, 1:]
        frame = decode_frame(read_dataset(path), size=128)
        c, w = frame.default_window
        assert np.array_equal(image, apply_window(frame.values, c, w, frame.invert))
