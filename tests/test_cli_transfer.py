"""`pacs-console store|move|get|probe` against real Orthanc and DCMTK: results, files, exit codes."""

from __future__ import annotations

import json

from pacs_console.commands import exit_codes
from tests.conftest import run_cli
from tests.peers.plugin import SCU_PORT


def _orthanc(orthanc, *args: str) -> list[str]:
    return [*args[:1], "-aec", "ORTHANC", orthanc.host, str(orthanc.dicom_port), *args[1:], "--json"]


def _study_uids(orthanc) -> list[str]:
    return [orthanc.rest("GET", f"/studies/{sid}")["MainDicomTags"]["StudyInstanceUID"]
            for sid in orthanc.rest("GET", "/studies")]


def test_store_generated_studies_to_orthanc_plain_and_compressed(orthanc, data_dir):
    proc = run_cli(*_orthanc(orthanc, "store", "--generate", "6", "--parallel", "2"), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["result"]["sent"] == 6 and data["result"]["failed"] == 0
    proc = run_cli(*_orthanc(orthanc, "store", "--generate", "3", "--modality", "MR", "--compression",
                             "jpeg2000"), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    assert len(orthanc.rest("GET", "/instances")) == 9


def test_move_from_orthanc_into_the_console_store(orthanc, data_dir):
    run_cli(*_orthanc(orthanc, "store", "--generate", "4"), data_dir=data_dir)
    (study,) = _study_uids(orthanc)
    proc = run_cli(*_orthanc(orthanc, "move", "--study-uid", study, "--scp-port", str(SCU_PORT),
                             "--preflight"), data_dir=data_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert data["result"]["completed"] == 4 and data["result"]["bytes_received"] > 0
    assert data["preflight"]["checks"]
    assert len(list((data_dir / "data" / "store").rglob("*.dcm"))) == 4


def test_move_to_an_unknown_destination_exits_9_and_says_what_to_configure(orthanc, data_dir):
    run_cli(*_orthanc(orthanc, "store", "--generate", "1"), data_dir=data_dir)
    (study,) = _study_uids(orthanc)
    proc = run_cli(*_orthanc(orthanc, "move", "--study-uid", study, "-aem", "NOWHERE"),
                   data_dir=data_dir)
    assert proc.returncode == exit_codes.DIMSE_FAILURE, proc.stdout
    diagnosis = json.loads(proc.stdout)["result"]["diagnosis"]
    assert "NOWHERE" in diagnosis["what"] + " ".join(diagnosis["actions"])


def test_get_from_orthanc_writes_files(orthanc, data_dir, tmp_path):
    run_cli(*_orthanc(orthanc, "store", "--generate", "3", "--compression", "rle"), data_dir=data_dir)
    (study,) = _study_uids(orthanc)
    out = tmp_path / "got"
    proc = run_cli(*_orthanc(orthanc, "get", "--study-uid", study, "--out", str(out)), data_dir=data_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["result"]["completed"] == 3
    assert len(list(out.rglob("*.dcm"))) == 3


def test_store_files_and_folders_to_storescp_skipping_non_dicom(storescp, orthanc, data_dir, tmp_path):
    run_cli(*_orthanc(orthanc, "store", "--generate", "2"), data_dir=data_dir)
    (study,) = _study_uids(orthanc)
    out = tmp_path / "files"
    run_cli(*_orthanc(orthanc, "get", "--study-uid", study, "--out", str(out)), data_dir=data_dir)
    (out / "notes.txt").write_text("not DICOM")
    proc = run_cli("store", "-aec", "STORESCP", storescp.host, str(storescp.dicom_port), str(out),
                   "--json", data_dir=data_dir)
    data = json.loads(proc.stdout)
    assert proc.returncode == exit_codes.PARTIAL, proc.stderr  # README: files skipped -> 10
    assert data["result"]["sent"] == 2 and data["result"]["skipped"] == 1
    assert "not a DICOM file" in data["result"]["skipped_files"][0]["reason"]
    assert len(storescp.files()) == 2


def test_store_to_a_closed_port_and_nothing_to_send(data_dir):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = run_cli("store", "127.0.0.1", str(port), "--generate", "1", data_dir=data_dir)
    assert proc.returncode == exit_codes.REFUSED
    proc = run_cli("store", "127.0.0.1", str(port), data_dir=data_dir)
    assert proc.returncode == exit_codes.USAGE and "nothing to send" in proc.stderr


def test_probe_orthanc_and_dcmqrscp_and_save_to_the_node(orthanc, dcmqrscp, ctx):
    from pacs_console.core.db.nodes import get_node, save_node

    save_node(ctx.db, "Orthanc", "ORTHANC", orthanc.host, orthanc.dicom_port)
    root = ctx.paths.data.parent
    proc = run_cli("--data-dir", str(root), "probe", "--node", "Orthanc", "--json")
    assert proc.returncode == 0, proc.stderr
    entries = json.loads(proc.stdout)["result"]["entries"]
    assert entries["1.2.840.10008.5.1.4.1.1.2"]["transfer_syntaxes"]  # CT Image Storage
    assert entries["1.2.840.10008.1.1"]["transfer_syntaxes"]  # Verification
    assert get_node(ctx.db, "Orthanc").capabilities["accepted_count"] > 10
    proc = run_cli("--data-dir", str(root), "probe", "-aec", "DCMQRSCP", dcmqrscp.host,
                   str(dcmqrscp.dicom_port), "--no-storage", "--json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["result"]["entries"]["1.2.840.10008.5.1.4.1.2.2.1"]["transfer_syntaxes"]
