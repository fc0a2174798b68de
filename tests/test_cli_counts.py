"""The JSON counts of every DICOM and DICOMweb command equal what happened: files written,
instances the peer holds, statuses received, and the C-MOVE pre-flight names the address the
node really sees."""

from __future__ import annotations

import json
import socket

import psutil
from pydicom import dcmread

from tests.conftest import run_cli
from tests.peers.plugin import SCU_PORT


def _orthanc(orthanc, *args: str) -> list[str]:
    return [*args[:1], "-aec", orthanc.aet, orthanc.host, str(orthanc.dicom_port), *args[1:],
            "--json"]


def _ok(proc) -> dict:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def _study_uid(orthanc) -> str:
    (sid,) = orthanc.rest("GET", "/studies")
    return orthanc.rest("GET", f"/studies/{sid}")["MainDicomTags"]["StudyInstanceUID"]


def _store_files(data_dir):
    return sorted((data_dir / "data" / "store").rglob("*.dcm"))


def test_echo_and_find_counts(orthanc, data_dir):
    echo = _ok(run_cli(*_orthanc(orthanc, "echo", "--count", "3", "--interval", "0.1"),
                       data_dir=data_dir))
    assert echo["stats"]["sent"] == echo["stats"]["ok"] == len(echo["results"]) == 3
    assert [r["ok"] for r in echo["results"]] == [True] * 3 and echo["stats"]["loss_pct"] == 0
    _ok(run_cli(*_orthanc(orthanc, "store", "--generate", "5"), data_dir=data_dir))
    found = _ok(run_cli(*_orthanc(orthanc, "find", "-L", "IMAGE", "-k",
                                  f"StudyInstanceUID={_study_uid(orthanc)}"), data_dir=data_dir))
    assert found["count"] == len(found["matches"]) == found["result"]["count"] == 5


def test_store_counts_match_statuses_and_the_peer(orthanc, data_dir):
    doc = _ok(run_cli(*_orthanc(orthanc, "store", "--generate", "7", "--compression", "rle"),
                      data_dir=data_dir))["result"]
    statuses = [f["status"] for f in doc["files"]]
    assert doc["sent"] == statuses.count(0) == 7 and doc["failed"] == 0
    assert doc["decompressed"] == sum(f["decompressed"] for f in doc["files"]) == 0
    assert len(orthanc.rest("GET", "/instances")) == 7


def test_move_counts_match_the_files_written(orthanc, data_dir):
    _ok(run_cli(*_orthanc(orthanc, "store", "--generate", "24", "--compression", "rle"),
                data_dir=data_dir))
    # Orthanc knows this console's AE at SCU_PORT: the move's own Storage SCP listens there.
    doc = _ok(run_cli(*_orthanc(orthanc, "move", "--study-uid", _study_uid(orthanc),
                                "--scp-port", str(SCU_PORT)), data_dir=data_dir))["result"]
    written = _store_files(data_dir)
    assert (doc["completed"], doc["failed"], doc["remaining"]) == (24, 0, 0)
    assert len(written) == 24 and doc["bytes_received"] > 0


def test_get_counts_match_the_files_written(orthanc, data_dir, tmp_path):
    _ok(run_cli(*_orthanc(orthanc, "store", "--generate", "6"), data_dir=data_dir))
    out = tmp_path / "got"
    doc = _ok(run_cli(*_orthanc(orthanc, "get", "--study-uid", _study_uid(orthanc), "--out",
                                str(out)), data_dir=data_dir))["result"]
    written = sorted(p for p in out.rglob("*") if p.is_file())
    assert (doc["completed"], doc["failed"], doc["remaining"]) == (6, 0, 0)
    assert len(doc["files"]) == len(written) == 6


def test_dicomweb_counts_match_files_and_the_server(orthanc, data_dir, tmp_path):
    _ok(run_cli(*_orthanc(orthanc, "store", "--generate", "4"), data_dir=data_dir))
    url = orthanc.url + "/dicom-web"
    study = _study_uid(orthanc)
    qido = _ok(run_cli("dicomweb", "qido", url, "--level", "instance", "--study", study, "--json",
                       data_dir=data_dir))["result"]
    assert len(qido["matches"]) == 4
    wado = _ok(run_cli("dicomweb", "wado", url, study, "--json", data_dir=data_dir))["result"]
    written = _store_files(data_dir)
    assert wado["stored"] == len(wado["files"]) == len(written) == 4
    assert {str(dcmread(f).StudyInstanceUID) for f in written} == {study}
    orthanc.clear()
    stow = _ok(run_cli("dicomweb", "stow", url, *map(str, written), "--json",
                       data_dir=data_dir))["result"]
    assert stow["stored"] == len(orthanc.rest("GET", "/instances")) == 4 and stow["failed"] == []


def test_preflight_names_the_address_the_node_sees(orthanc, data_dir):
    # The node calls back to the address its connections come from: the route's own source.
    with socket.create_connection((orthanc.host, orthanc.dicom_port)) as probe:
        seen = probe.getsockname()[0]
    others = {a.address for addrs in psutil.net_if_addrs().values() for a in addrs
              if a.family == socket.AF_INET} - {seen}
    proc = run_cli(*_orthanc(orthanc, "move", "--study-uid", "1.2.3.4", "--scp-port",
                             str(SCU_PORT), "--preflight"), data_dir=data_dir)
    doc = json.loads(proc.stdout)
    assert doc["preflight"]["addresses"] == [seen]
    required = doc["preflight"]["required"]
    assert seen in required and not any(other in required for other in others), required
