"""The visit report's "Archive integrity" and "DR comparison" sections, read from the real PDF
after real spot-checks and a real comparison (two Orthanc archives, one instance corrupted on
disk, a study missing from the DR copy and another only partly copied)."""

from __future__ import annotations

import subprocess

import pytest

from pacs_console.core.context import Context
from pacs_console.core.incidents.sites import save_site
from pacs_console.paths import app_paths
from tests.conftest import run_cli
from tests.core.health.archive_helpers import half_replicated

pytestmark = pytest.mark.peers
SITE = "Tamale Teaching Hospital"


def _pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_visit_report_prints_archive_integrity_and_dr_comparison(data_dir, tmp_path, orthanc,
                                                                 dr_orthanc):
    made = half_replicated(data_dir, orthanc, dr_orthanc)
    ctx = Context.open(app_paths(data_dir))
    try:
        save_site(ctx.db, SITE)
    finally:
        ctx.close()
    assert run_cli("visit", "start", "--site", SITE, data_dir=data_dir).returncode == 0
    assert run_cli("archive", "check", "Primary", "--sample", "3", data_dir=data_dir,
                   timeout=300).returncode == 0
    orthanc.corrupt_one_instance(str(made[2][1].SOPInstanceUID))  # the 2026 study
    assert run_cli("archive", "check", "Primary", "--sample", "3", "--since", "2025-01-01",
                   data_dir=data_dir, timeout=300).returncode == 10
    assert run_cli("archive", "compare", "Primary", "DR site", "--from", "2024-01-01",
                   "--to", "2026-12-31", data_dir=data_dir).returncode == 10
    assert run_cli("visit", "end", data_dir=data_dir).returncode == 0
    out = tmp_path / "visit.pdf"
    proc = run_cli("report", "build", "--visit", "1", "--no-sign", "--out", str(out),
                   data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(_pdf_text(out).split())  # table cells wrap: compare as running text
    packed = "".join(text.split())  # long UIDs wrap at their dots

    assert "Archive integrity" in text
    assert "Primary" in text and "Every sampled study passed." in text  # the first check
    assert "3 of 3 studies sampled" in text
    # The second check: only 2025 onwards, one study with a changed instance.
    assert "2 of 2 studies sampled, studies since 2025-01-01" in text
    assert "1 with problems (0 missing, 0 corrupt, 1 changed instances)" in text
    assert f"FAIL{made[2][0].StudyInstanceUID}2026CR3/3received,1changed" in packed

    assert "DR comparison" in text
    assert "Primary vs DR site" in text and ": FAIL" in text
    assert "Studies dated 2024-01-01 to 2026-12-31" in text
    assert "primary 3, DR copy 2" in text
    assert "Missing on DR 1" in text and "Count mismatches 1" in text
    assert "Replication gap 1 studies," in text and "behind the primary's newest study" in text
    assert f"MissingonDR{made[2][0].StudyInstanceUID}presentabsent" in packed
    assert f"Countmismatch(instances){made[1][0].StudyInstanceUID}31" in packed
