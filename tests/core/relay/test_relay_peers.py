"""The relay between real peers on loopback: DCMTK's own tools as the modality, Orthanc,
wlmscpfs and dcmqrscp as the PACS, the console's Storage SCP as a relay-unaware C-MOVE
destination. A recording tap between relay and PACS proves the bytes pass unchanged."""

from __future__ import annotations

import socket

import pytest

from pacs_console.core.dicom.wire import pdu
from pacs_console.core.relay.tracefile import DATA_AC, DATA_RQ, records
from tests.core.relay import support
from tests.core.relay.pdus import CT, EXPLICIT, ct_dataset, encode, store_rq
from tests.core.relay.support import ct_files, dcmtk, relaying, stored_hashes, wait_for
from tests.peers.plugin import MOVE_DEST_AET, SCU_AET

pytestmark = pytest.mark.peers


def codes(report: dict) -> list[str]:
    return [d["code"] for d in report["diagnosis"]]


def test_storescu_to_orthanc_byte_for_byte(orthanc, tmp_path):
    files = ct_files(tmp_path, 4)
    stored_directly = support.store_directly(orthanc, files, SCU_AET)
    with relaying(tmp_path, orthanc.host, orthanc.dicom_port, tap=True) as (address, ended, trace, tap):
        done = dcmtk("storescu", "-aet", SCU_AET, "-aec", orthanc.aet, address[0],
                     str(address[1]), *map(str, files))
        assert done.returncode == 0, done.stderr
        [report] = wait_for(ended)
    assert stored_hashes(orthanc) == stored_directly and len(stored_directly) == 4
    sent = b"".join(p for kind, _, _, p in records(trace) if kind == DATA_RQ)
    answered = b"".join(p for kind, _, _, p in records(trace) if kind == DATA_AC)
    assert bytes(tap.to_peer) == sent and bytes(tap.from_peer) == answered
    assert (report["calling_ae"], report["called_ae"], report["result"]) == (
        SCU_AET, orthanc.aet, "released")
    assert [m["status"] for m in report["messages"]] == ["0x0000"] * 4
    assert report["diagnosis"] == []
    assert all(m["dataset"]["Modality"] == "CT" for m in report["messages"])


def test_worklist_queries_through_the_relay(wlmscpfs, tmp_path):
    with relaying(tmp_path, wlmscpfs.host, wlmscpfs.dicom_port) as (address, ended, _, _):
        common = ["findscu", "-W", "-aet", "CTSCANNER", "-aec", wlmscpfs.aet, address[0],
                  str(address[1]), "-k", "AccessionNumber", "-k", "PatientName"]
        found = dcmtk(*common, "-k", "ScheduledProcedureStepSequence[0].Modality=CT")
        nothing = dcmtk(*common, "-k", "ScheduledProcedureStepSequence[0].ScheduledStationAETitle=NOWHERE")
        assert found.returncode == 0 and nothing.returncode == 0, found.stderr + nothing.stderr
        first, second = wait_for(ended, 2)
    assert first["messages"][0]["matches"] == 4 and first["diagnosis"] == []
    assert codes(second) == ["worklist-no-match"]
    assert "'NOWHERE'" in " ".join(second["diagnosis"][0]["causes"])


def test_movescu_to_dcmqrscp_into_a_relay_unaware_destination(dcmqrscp, console_scp, tmp_path):
    files = ct_files(tmp_path, 2)
    stored = dcmtk("storescu", "-aet", SCU_AET, "-aec", dcmqrscp.aet, dcmqrscp.host,
                   str(dcmqrscp.dicom_port), *map(str, files))
    assert stored.returncode == 0, stored.stderr
    from pydicom import dcmread

    study = dcmread(files[0]).StudyInstanceUID
    before = console_scp.received_count
    with relaying(tmp_path, dcmqrscp.host, dcmqrscp.dicom_port) as (address, ended, _, _):
        keys = ["-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study}"]
        moved = dcmtk("movescu", "-S", "-aet", SCU_AET, "-aec", dcmqrscp.aet, "-aem",
                      MOVE_DEST_AET, address[0], str(address[1]), *keys)
        failed = dcmtk("movescu", "-S", "-aet", SCU_AET, "-aec", dcmqrscp.aet, "-aem", "NOBODY",
                       address[0], str(address[1]), *keys)
        assert moved.returncode == 0, moved.stderr
        good, bad = wait_for(ended, 2)
    assert console_scp.received_count - before == 2
    [move] = good["messages"]
    assert (move["command"], move["status"], move["completed"]) == ("C-MOVE-RQ", "0x0000", 2)
    assert move["move_destination"] == MOVE_DEST_AET and good["diagnosis"] == []
    assert bad["messages"][0]["status"] == "0xA801" and codes(bad) == ["move-destination-unknown"]
    assert failed.returncode != 0


def test_a_rejected_association(dcmqrscp, tmp_path):
    with relaying(tmp_path, dcmqrscp.host, dcmqrscp.dicom_port) as (address, ended, _, _):
        done = dcmtk("echoscu", "-aet", SCU_AET, "-aec", "WRONGAE", address[0], str(address[1]))
        assert done.returncode != 0
        [report] = wait_for(ended)
    assert report["result"] == "rejected" and codes(report) == ["called-ae-rejected"]
    assert "'WRONGAE'" in report["diagnosis"][0]["causes"][0]


def _associate(address, contexts) -> tuple[socket.socket, pdu.Associate]:
    sock = socket.create_connection(address, timeout=10)
    sock.sendall(pdu.associate_rq("ORTHANC", SCU_AET, contexts,
                                  pdu.UserInfo(16384, "1.2.826.0.1.3680043.9.9999.1", "TESTS")))

    def exact(n: int) -> bytes:
        data = b""
        while len(data) < n:
            data += sock.recv(n - len(data))
        return data

    kind, body = pdu.read(exact, 16384)
    assert kind == pdu.ASSOCIATE_AC
    return sock, pdu.decode_associate(kind, body)


def test_a_refused_context_and_an_abort_mid_store(orthanc, tmp_path):
    with relaying(tmp_path, orthanc.host, orthanc.dicom_port) as (address, ended, _, _):
        sock, answer = _associate(address, [(CT, [EXPLICIT]), ("1.2.3.4.5.6.7.8", [EXPLICIT])])
        assert [cx.result for cx in answer.contexts] == [0, 3]
        data = store_rq(1, encode(ct_dataset(name="Boateng^Yaw")))
        pdus, pos = [], 0
        while pos < len(data):  # whole PDUs: the command set and the first dataset fragments
            end = pos + 6 + int.from_bytes(data[pos + 2:pos + 6], "big")
            pdus.append(data[pos:end])
            pos = end
        assert len(pdus) > 3
        sock.sendall(b"".join(pdus[:len(pdus) // 2]))
        sock.sendall(pdu.abort(0, 0))
        sock.close()
        [report] = wait_for(ended)
    assert report["result"] == "aborted"
    assert {"context-refused", "association-aborted", "store-no-response"} <= set(codes(report))
    assert "Boateng" not in str(report)
    assert orthanc.rest("GET", "/instances") == []
