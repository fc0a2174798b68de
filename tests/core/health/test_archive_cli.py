"""`pacs-console archive check|compare` against real Orthanc archives: a primary and a DR copy
with studies missing, and an instance whose file is corrupted on disk."""

from __future__ import annotations

import json
from datetime import date

import pytest

from pacs_console.core.context import Context
from pacs_console.paths import app_paths
from tests.conftest import run_cli
from tests.core.dicom_ops.helpers import drain, part10
from tests.core.health.archive_helpers import half_replicated, remove_behind_its_back
from tests.core.health.archive_helpers import nodes as _nodes
from tests.core.health.archive_helpers import studies as _studies

pytestmark = pytest.mark.peers


def test_dr_compare_finds_missing_studies_and_count_mismatches(data_dir, orthanc, dr_orthanc):
    studies = half_replicated(data_dir, orthanc, dr_orthanc)
    proc = run_cli("archive", "compare", "Primary", "DR site", "--from", "2024-01-01",
                   "--to", f"{date.today():%Y-%m-%d}", "--json", data_dir=data_dir)
    assert proc.returncode == 10, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["primary_studies"] == 3 and report["dr_studies"] == 2
    assert report["only_on_primary"] == [str(studies[2][0].StudyInstanceUID)]
    (mismatch,) = report["count_mismatches"]
    assert mismatch["study_uid"] == str(studies[1][0].StudyInstanceUID)
    assert (mismatch["primary"], mismatch["dr"]) == ("3", "1")
    assert report["replication_gap_studies"] == 1 and report["replication_gap_hours"] > 0
    assert {c["check"] for c in report["checks"]} == {"missing-on-dr", "count-mismatch"}
    text = run_cli("archive", "compare", "Primary", "DR site", "--from", "2024-01-01",
                   "--to", "2026-12-31", data_dir=data_dir).stdout
    assert "missing on DR: 1" in text
    ctx = Context.open(app_paths(data_dir))
    try:
        from pacs_console.core.db.testruns import list_test_runs

        saved = list_test_runs(ctx.db, kind="archive-compare")
    finally:
        ctx.close()
    assert len(saved) == 2 and "1 missing on DR" in saved[0].summary  # kept as evidence
    bad = run_cli("archive", "compare", "Primary", "Nowhere", "--from", "2024-01-01",
                  "--to", "2024-02-01", data_dir=data_dir)
    assert bad.returncode == 2 and "no node 'Nowhere'" in bad.stderr
    bad = run_cli("archive", "compare", "Primary", "DR site", "--from", "yesterday",
                  "--to", "2024-02-01", data_dir=data_dir)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_spot_check_records_checksums_then_finds_a_corrupted_file(data_dir, orthanc):
    for study in _studies():
        for ds in study:
            orthanc.upload(part10(ds))
    _nodes(data_dir, ("Primary", orthanc))
    proc = run_cli("archive", "check", "Primary", "--sample", "3", "--json", data_dir=data_dir,
                   timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first = json.loads(proc.stdout)
    assert first["population"] == 3 and len(first["checks"]) == 3
    assert {c["year"] for c in first["checks"]} == {"2024", "2025", "2026"}  # stratified
    assert all(c["received"] == c["listed"] == 3 and c["new"] == 3 for c in first["checks"])
    sop = orthanc.corrupt_one_instance()  # behind Orthanc's back
    proc = run_cli("archive", "check", "Primary", "--sample", "3", "--json", data_dir=data_dir,
                   timeout=300)
    assert proc.returncode == 10, proc.stdout + proc.stderr
    second = json.loads(proc.stdout)
    failed = [c for c in second["checks"] if c["result"] == "fail"]
    assert len(failed) == 1 and failed[0]["changed"] == [sop]
    text = run_cli("archive", "check", "Primary", "--sample", "3", data_dir=data_dir,
                   timeout=300).stdout
    assert "1 changed" in text and "FAIL" in text
    assert run_cli("archive", "check", "Primary", "--sample", "0",
                   data_dir=data_dir).returncode == 2
    bad = run_cli("archive", "check", "Nowhere", "--sample", "1", data_dir=data_dir)
    assert bad.returncode == 2 and "no node 'Nowhere'" in bad.stderr, bad.stderr
    # Each run kept as evidence (appended without the ORM), read back through it.
    ctx = Context.open(app_paths(data_dir))
    try:
        from pacs_console.core.db.nodes import get_node
        from pacs_console.core.db.testruns import list_test_runs

        saved = list_test_runs(ctx.db, kind="archive-check")
        node_id = get_node(ctx.db, "Primary").id
    finally:
        ctx.close()
    assert [r.outcome for r in saved] == ["warning", "warning", "ok"], saved  # newest first
    assert all(r.node_id == node_id and r.parameters["interval_s"] == 0.2 for r in saved)
    assert saved[0].metrics["findings"][0]["changed"] == [sop]


def test_spot_check_names_a_missing_instance_on_dcmqrscp(data_dir, dcmqrscp):
    import pydicom

    from pacs_console.core.dicom.ops.store import store
    from pacs_console.core.dicom.wire.target import Target

    study = _studies()[0]
    _items, sent = drain(store(Target(dcmqrscp.host, dcmqrscp.dicom_port, dcmqrscp.aet, "PACSCONSOLE"),
                        study))
    assert sent.sent == 3
    gone = str(study[1].SOPInstanceUID)
    # The file gone from the archive's disk behind its back: its index still lists it.
    next(p for p in dcmqrscp.files()
         if str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) == gone).unlink()
    _nodes(data_dir, ("Archive", dcmqrscp))
    proc = run_cli("archive", "check", "Archive", "--sample", "1", "--json", data_dir=data_dir,
                   timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the only study sampled failed
    (check,) = json.loads(proc.stdout)["checks"]
    assert check["result"] == "fail" and check["missing"] == [gone], check
    assert check["listed"] == 3 and check["received"] == 2


def test_spot_check_reports_corrupt_pixels_and_instances_that_never_arrived(data_dir, orthanc):
    made = _studies()
    broken = made[1][2]
    broken.PixelData = broken.PixelData[:100]  # the header says 32x32, the pixels are cut short
    for study in made:
        for ds in study:
            orthanc.upload(part10(ds))
    # One file gone from the storage behind Orthanc's back: Orthanc stops the C-GET there,
    # so the report names what never arrived.
    gone = str(made[0][1].SOPInstanceUID)
    remove_behind_its_back(orthanc, gone)
    _nodes(data_dir, ("Primary", orthanc))
    proc = run_cli("archive", "check", "Primary", "--sample", "3", "--json", data_dir=data_dir,
                   timeout=300)
    assert proc.returncode == 10, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    by_study = {c["study_uid"]: c for c in report["checks"]}
    first = by_study[str(made[0][0].StudyInstanceUID)]
    assert first["result"] == "fail" and first["received"] < 3, first
    # The image level lists all three from Orthanc's index: what never arrived is named.
    assert gone in first["missing"] and len(first["missing"]) == 3 - first["received"], first
    second = by_study[str(made[1][0].StudyInstanceUID)]
    assert second["result"] == "fail" and len(second["corrupt"]) == 1, second
    assert second["corrupt"][0].startswith(str(broken.SOPInstanceUID) + ": ")
    assert by_study[str(made[2][0].StudyInstanceUID)]["result"] == "pass"
    assert report["counts"]["instances_missing"] == len(first["missing"])
    assert report["counts"]["instances_corrupt"] == 1
    text = run_cli("archive", "check", "Primary", "--sample", "3", data_dir=data_dir,
                   timeout=300).stdout
    assert f"{first['received']}/3 received, {len(first['missing'])} missing" in text, text
    assert "3/3 received, 1 corrupt" in text


def test_spot_check_over_c_move_receives_on_the_console_port(data_dir, orthanc):
    """--retrieve move: the archive moves each sampled study to the console's AE title, which
    a private Storage SCP receives on the settings' port; a changed file is found the same."""
    from pacs_console.core.settings import Settings, save_settings
    from tests.peers.plugin import MOVE_DEST_HOST, SCU_PORT

    save_settings(app_paths(data_dir).settings_file,
                  Settings(scp_port=SCU_PORT, scp_bind=MOVE_DEST_HOST))
    made = _studies()
    broken = made[2][1]
    broken.PixelData = broken.PixelData[:100]  # checked from the bytes as they arrive
    for study in made:
        for ds in study:
            orthanc.upload(part10(ds))
    _nodes(data_dir, ("Primary", orthanc))
    proc = run_cli("archive", "check", "Primary", "--sample", "3", "--retrieve", "move",
                   "--json", data_dir=data_dir, timeout=300)
    assert proc.returncode == 10, proc.stdout + proc.stderr
    first = json.loads(proc.stdout)
    assert first["retrieve"] == "move"
    assert first["politeness"] == {"interval_s": 0.2, "parallel": 2}  # the polite default
    assert all(c["received"] == c["listed"] == 3 for c in first["checks"])
    (bad,) = [c for c in first["checks"] if c["result"] == "fail"]
    assert bad["corrupt"][0].startswith(f"{broken.SOPInstanceUID}: pixel data holds 100 bytes")
    assert bad["new"] == 2 and sum(c["new"] for c in first["checks"]) == 8
    sop = orthanc.corrupt_one_instance(str(made[0][0].SOPInstanceUID))
    # The engineer's politeness settings: no spacing, three studies at once.
    proc = run_cli("archive", "check", "Primary", "--sample", "3", "--retrieve", "move",
                   "--interval", "0", "--parallel", "3", "--json", data_dir=data_dir, timeout=300)
    assert proc.returncode == 10, proc.stdout + proc.stderr
    second = json.loads(proc.stdout)
    assert second["politeness"] == {"interval_s": 0.0, "parallel": 3}
    changed = [c["changed"] for c in second["checks"] if c["changed"]]
    assert changed == [[sop]], second["checks"]
    for bad_option in (("--interval", "-1"), ("--interval", "soon"), ("--parallel", "0"),
                       ("--parallel", "99")):
        proc = run_cli("archive", "check", "Primary", "--sample", "1", *bad_option,
                       data_dir=data_dir)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert bad_option[0] in proc.stderr, proc.stderr
    # The receiving port taken (the GUI's Storage SCP, say): one line, exit 1, no traceback.
    import socket

    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past the TIME_WAITs
        busy.bind((MOVE_DEST_HOST, SCU_PORT))
        busy.listen()
        proc = run_cli("archive", "check", "Primary", "--sample", "1", "--retrieve", "move",
                       data_dir=data_dir, timeout=300)
    assert proc.returncode == 1 and "port" in proc.stderr and "Traceback" not in proc.stderr, \
        proc.stderr
