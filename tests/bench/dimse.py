"""DIMSE benchmarks against a real Orthanc, each a ratio against the DCMTK tool in the same run."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.bench.runner import Case

HOST, PORT, HTTP, AET = "127.0.0.21", 4242, 8042, "ORTHANC"
SCU = "PACSCONSOLE"
SINK_AET, SINK_PORT = "BENCHSTORE", 11123
DCMTK_ENV = {**os.environ, "TCP_NODELAY": "1"}
_state: dict = {}


def _orthanc():
    from tests.peers.orthanc import OrthancPeer

    peer = _state.get("orthanc")
    if peer is None:
        peer = OrthancPeer(AET, HOST, PORT, HTTP, modalities={
            SCU: ("127.0.0.1", 11114), SINK_AET: ("127.0.0.1", SINK_PORT)})
        _state["orthanc"] = peer
    if not peer.running:
        peer.start()
    return peer


def _stop() -> None:
    peer = _state.pop("orthanc", None)
    if peer is not None:
        peer.stop()
    for key in ("folder", "scp_dir"):
        folder = _state.pop(key, None)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    scp = _state.pop("scp", None)
    if scp is not None:
        scp.stop()


def _target():
    from pacs_console.core.dicom.target import Target

    return Target(HOST, PORT, AET, SCU)


def _drain(gen):
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def _dcmtk(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=DCMTK_ENV)
    return time.perf_counter() - start


# -- C-ECHO ---------------------------------------------------------------------------------
def _echo() -> dict[str, float]:
    from pacs_console.core.dicom.echo import echo_target

    ours = []
    for _ in range(5):
        start = time.perf_counter()
        result = echo_target(_target())
        ours.append(time.perf_counter() - start)
        assert result.ok, result.diagnosis
    theirs = statistics.median(_dcmtk("/usr/bin/echoscu", "-aet", SCU, "-aec", AET, HOST, str(PORT))
                               for _ in range(3))
    ours_ms = statistics.median(ours) * 1000
    return {"echo_ratio": ours_ms / (theirs * 1000), "echo_ms": ours_ms, "echoscu_ms": theirs * 1000}


# -- C-FIND ---------------------------------------------------------------------------------
def _find_setup() -> None:
    from pacs_console.core.dicom.synth import generate_study
    from tests.core.dicom_ops.helpers import part10

    peer = _orthanc()
    peer.clear()
    for i in range(200):
        peer.upload(part10(generate_study("CR", images=1, series=1, size=16, seed=1000 + i)[0]))


def _find() -> dict[str, float]:
    from pacs_console.core.dicom.query import find

    start = time.perf_counter()
    gen = find(_target(), "STUDY", {"name": "*"})
    count = 0
    while True:
        try:
            next(gen)
            count += 1
        except StopIteration as stop:
            result = stop.value
            break
    ours = time.perf_counter() - start
    assert count == 200 and result.status == 0, (count, result.diagnosis)
    keys = ["-k", "QueryRetrieveLevel=STUDY", "-k", "PatientName=*"] + [
        arg for key in ("PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
                        "StudyDate", "StudyTime", "AccessionNumber", "StudyID",
                        "StudyDescription", "ModalitiesInStudy", "ReferringPhysicianName",
                        "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances")
        for arg in ("-k", key)]
    theirs = _dcmtk("/usr/bin/findscu", "-S", "-aet", SCU, "-aec", AET, *keys, HOST, str(PORT))
    return {"find_ratio": ours / theirs, "find_ms": ours * 1000, "findscu_ms": theirs * 1000}


# -- C-STORE --------------------------------------------------------------------------------
def _ct_folder() -> Path:
    from pacs_console.core.dicom.synth import generate_study, write_study

    if "folder" not in _state:
        folder = Path(tempfile.mkdtemp(prefix="pacs-bench-ct-"))
        write_study(generate_study("CT", images=200, series=1, size=512, seed=77), folder)
        _state["folder"] = folder
    return _state["folder"]


def _store_setup() -> None:
    _orthanc()
    _ct_folder()


def _store() -> dict[str, float]:
    from pacs_console.core.dicom.store import store

    peer, folder = _orthanc(), _ct_folder()
    peer.clear()
    theirs = _dcmtk("/usr/bin/storescu", "-aet", SCU, "-aec", AET, "+sd", HOST, str(PORT),
                    str(folder))
    peer.clear()
    results = {}
    for parallel in (1, 2):
        peer.clear()
        start = time.perf_counter()
        result = _drain(store(_target(), folder, parallel=parallel))
        results[parallel] = time.perf_counter() - start
        assert result.sent == 200, result.summary()
    best = min(results.values())
    return {"store_ratio": (200 / best) / (200 / theirs), "ours_img_s": 200 / best,
            "ours_1_assoc_img_s": 200 / results[1], "ours_2_assoc_img_s": 200 / results[2],
            "storescu_img_s": 200 / theirs}


# -- C-MOVE ---------------------------------------------------------------------------------
def _move_setup() -> None:
    from pacs_console.core.dicom.scp import StorageSCP
    from pacs_console.core.dicom.store import store

    peer = _orthanc()
    peer.clear()
    folder = _ct_folder()
    result = _drain(store(_target(), folder, parallel=2))
    assert result.sent == 200
    _state["study_uid"] = __import__("pydicom").dcmread(next(folder.glob("*.dcm"))).StudyInstanceUID
    _state["scp_dir"] = tempfile.mkdtemp(prefix="pacs-bench-scp-")
    _state["scp"] = StorageSCP(Path(_state["scp_dir"]), SINK_AET, SINK_PORT,
                               host="127.0.0.1").start()


def _move() -> dict[str, float]:
    from pacs_console.core.dicom.retrieve import move

    scp = _state["scp"]
    shutil.rmtree(scp.store, ignore_errors=True)
    result = _drain(move(_target(), SINK_AET, "STUDY", {"study_uid": _state["study_uid"]},
                         scp=scp))
    assert result.status == 0 and result.completed == 200, result.summary()
    return {"move_mb_s": result.mb_per_s, "move_s": result.duration_ms / 1000,
            "move_mb": result.bytes_received / 1e6}


def cases() -> list[Case]:
    return [
        Case("dimse: in-process C-ECHO / echoscu process", _echo, "echo_ratio", target=0.5,
             unit="x", setup=_orthanc, teardown=_stop),
        Case("dimse: C-FIND 200 studies / findscu", _find, "find_ratio", target=1.0, unit="x",
             setup=_find_setup, teardown=_stop),
        Case("dimse: C-STORE 200 x 512^2 CT images/s / storescu", _store, "store_ratio",
             target=1.0, lower_is_better=False, unit="x", repeat=3, setup=_store_setup,
             teardown=_stop),
        Case("dimse: C-MOVE 200 x 512^2 CT into the console SCP", _move, "move_mb_s",
             target=80.0, lower_is_better=False, unit="MB/s", repeat=3, setup=_move_setup,
             teardown=_stop),
    ]
