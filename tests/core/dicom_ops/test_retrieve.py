"""C-MOVE into the console's Storage SCP, C-GET, the 0xA801 diagnosis and the C-MOVE pre-flight."""

from __future__ import annotations

import pytest
from pydicom import dcmread
from pydicom.uid import JPEG2000Lossless

from pacs_console.core.dicom.ops.preflight import preflight_move
from pacs_console.core.dicom.ops.retrieve import get, move
from pacs_console.core.dicom.servers.demo import DemoPacs
from pacs_console.core.dicom.servers.storage import StorageSCP
from pacs_console.core.dicom.synth.studies import generate_study
from pacs_console.core.dicom.wire.target import Target
from tests.core.dicom_ops.helpers import QUICK, drain, free_port, part10, target_of
from tests.peers.plugin import MOVE_DEST_AET, MOVE_DEST_PORT

pytestmark = pytest.mark.peers


@pytest.fixture
def study_in_orthanc(orthanc):
    study = generate_study("CT", images=6, series=2, size=64, seed=11, compression="jpeg2000")
    for ds in study:
        orthanc.upload(part10(ds))
    return study


def test_move_compressed_study_into_console_scp(orthanc, study_in_orthanc, console_scp):
    before = console_scp.received_count
    progress, result = drain(move(target_of(orthanc), MOVE_DEST_AET, "STUDY",
                                  {"study_uid": study_in_orthanc[0].StudyInstanceUID},
                                  scp=console_scp))
    assert result.status == 0 and result.completed == 6 and result.failed == 0
    assert console_scp.received_count - before == 6
    assert result.bytes_received > 0 and result.mb_per_s > 0
    assert progress and progress[-1].completed >= 1
    assert result.evidence()["kind"] == "move" and result.evidence()["outcome"] == "ok"
    files = list(console_scp.store.rglob("*.dcm"))
    assert any(dcmread(f).file_meta.TransferSyntaxUID == JPEG2000Lossless for f in files)


def test_move_destination_unknown_on_orthanc(orthanc, study_in_orthanc):
    unused = free_port()  # named in the advice only: nothing connects to it
    _, result = drain(move(target_of(orthanc), "NOBODY", "STUDY",
                           {"study_uid": study_in_orthanc[0].StudyInstanceUID}, local_port=unused))
    assert result.status == 0xC000  # Orthanc 1.10's answer for an unknown destination
    assert result.diagnosis.code == "move-destination-unknown"
    assert "'NOBODY'" in result.diagnosis.actions[0] and str(unused) in result.diagnosis.actions[0]
    assert result.evidence()["outcome"] == "failed"


def test_get_from_orthanc(orthanc, study_in_orthanc, tmp_path):
    progress, result = drain(get(target_of(orthanc), "STUDY",
                                 {"study_uid": study_in_orthanc[0].StudyInstanceUID}, tmp_path))
    assert result.status == 0 and result.completed == 6, result.diagnosis
    assert len(result.files) == 6 and all(p.exists() for p in result.files)
    assert result.bytes_received == sum(p.stat().st_size for p in result.files)
    uids = {dcmread(p).SOPInstanceUID for p in result.files}
    assert uids == {ds.SOPInstanceUID for ds in study_in_orthanc}


def test_get_and_move_from_demo(tmp_path):
    study = generate_study("MR", images=4, series=1, size=32, seed=12, compression="rle")
    scp = StorageSCP(tmp_path / "scp", "DEST", 0, host="127.0.0.1", timeouts=QUICK).start()
    try:
        with DemoPacs(studies=[study], resolve_destination=lambda ae: (
                ("127.0.0.1", scp.port) if ae == "DEST" else None)) as demo:
            target = Target(demo.host, demo.port, demo.ae_title, timeouts=QUICK)
            _, got = drain(get(target, "SERIES", {"study_uid": study[0].StudyInstanceUID,
                                                  "series_uid": study[0].SeriesInstanceUID},
                               tmp_path / "get"))
            _, moved = drain(move(target, "DEST", "STUDY",
                                  {"study_uid": study[0].StudyInstanceUID}, scp=scp))
    finally:
        scp.stop()
    assert got.status == 0 and len(got.files) == 4
    assert moved.status == 0 and moved.completed == 4 and moved.bytes_received > 0


def test_move_destination_unknown_is_a801_on_dcmqrscp_and_demo(dcmqrscp):
    study = generate_study("CT", images=1, series=1, size=32, seed=15)
    from pacs_console.core.dicom.ops.store import store

    drain(store(target_of(dcmqrscp), study))
    unused = free_port()  # named in the advice only: nothing connects to it
    _, result = drain(move(target_of(dcmqrscp), "NOBODY", "STUDY",
                           {"study_uid": study[0].StudyInstanceUID}, local_port=unused))
    assert result.status == 0xA801 and result.diagnosis.code == "move-destination-unknown"
    assert "'NOBODY'" in result.diagnosis.actions[0] and str(unused) in result.diagnosis.actions[0]
    with DemoPacs(studies=[study]) as demo:
        _, demo_result = drain(move(Target(demo.host, demo.port, demo.ae_title, timeouts=QUICK),
                                    "NOBODY", "STUDY", {"study_uid": study[0].StudyInstanceUID}))
    assert demo_result.status == 0xA801


def test_get_from_dcmqrscp_uncompressed(dcmqrscp, tmp_path):
    # dcmqrscp 3.6.7 accepts our SCP role proposals for uncompressed data (its compressed
    # C-GET/C-MOVE fail: see dicom-peers.md), so C-GET works here without a profile.
    study = generate_study("CT", images=2, series=1, size=32, seed=13)
    from pacs_console.core.dicom.ops.store import store

    drain(store(target_of(dcmqrscp), study))
    _, result = drain(get(target_of(dcmqrscp), "STUDY",
                          {"study_uid": study[0].StudyInstanceUID}, tmp_path))
    assert result.status == 0 and len(result.files) == 2


def test_move_from_dcmqrscp(dcmqrscp, console_scp):
    study = generate_study("CT", images=3, series=1, size=32, seed=14)
    from pacs_console.core.dicom.ops.store import store

    drain(store(target_of(dcmqrscp), study))
    _, result = drain(move(target_of(dcmqrscp), MOVE_DEST_AET, "STUDY",
                           {"study_uid": study[0].StudyInstanceUID}, scp=console_scp))
    assert result.status == 0 and result.completed == 3


def test_preflight_passes_with_scp_running(orthanc, study_in_orthanc, console_scp):
    report = preflight_move(target_of(orthanc), True, MOVE_DEST_AET, MOVE_DEST_PORT,
                            scp=console_scp)
    assert report.ok, report.to_dict()
    assert report.check("test-move").ok and "one image" in report.check("test-move").detail
    assert report.get_supported is True
    assert report.addresses and MOVE_DEST_AET in report.required
    assert report.evidence()["kind"] == "preflight"


def test_preflight_names_the_missing_destination(orthanc):
    report = preflight_move(target_of(orthanc), False, "NOTCONFIGURED", 11199)
    assert not report.ok
    assert report.check("local-scp").ok is False
    assert report.check("test-move").diagnosis.code == "move-destination-unknown"
    assert report.get_supported is True and "C-GET" in report.summary()
