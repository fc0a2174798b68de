"""`pacs-console archive check|compare` against real Orthanc archives: a primary and a DR copy
with studies missing, and an instance whose file is corrupted on disk."""

from __future__ import annotations

import json
from datetime import date

import pytest

from pacs_console.core.context import Context
from pacs_console.paths import app_paths
from tests.conftest import run_cli
from tests.core.dicom_ops.helpers import part10
from tests.core.health.archive_helpers import nodes as _nodes
from tests.core.health.archive_helpers import studies as _studies

pytestmark = pytest.mark.peers


def test_dr_compare_finds_missing_studies_and_count_mismatches(data_dir, orthanc, dr_orthanc):
    dr_orthanc.clear()
    studies = _studies()
    for study in studies:
        for ds in study:
            orthanc.upload(part10(ds))
    for ds in studies[0]:
        dr_orthanc.upload(part10(ds))  # fully replicated
    dr_orthanc.upload(part10(studies[1][0]))  # only 1 of 3 instances replicated
    _nodes(data_dir, ("Primary", orthanc), ("DR site", dr_orthanc))
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
