"""The console's Storage SCP as a hostile peer meets it: bounded reads, accept policy, caps,
timeouts, a disk floor, and datasets checked against their request."""

from __future__ import annotations

import io
import socket
import struct
import time

import pytest
from pydicom import dcmread
from pynetdicom.sop_class import CTImageStorage, Verification

from pacs_console.core.context import Context
from pacs_console.core.db.nodes import save_node
from pacs_console.core.dicom.servers.storage import StorageSCP
from pacs_console.core.dicom.synth.studies import generate_study
from pacs_console.core.dicom.wire import pdu, ul
from pacs_console.core.dicom.wire.lean_scp import Limits
from pacs_console.core.dicom.wire.params import Timeouts
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError
from pacs_console.paths import app_paths
from tests.core.dicom_ops.helpers import part10
from tests.core.wire_peers import connect, echo_ok, read_all, rss, serve, stop

QUICK = Timeouts(connect=3, acse=2, dimse=5, network=5)
EXPLICIT = "1.2.840.10008.1.2.1"
MB = 1 << 20


def _scp(tmp_path, **kwargs) -> StorageSCP:
    return StorageSCP(tmp_path / "store", "PACSCONSOLE", 0, host="127.0.0.1", timeouts=QUICK,
                      **kwargs).start()


def _target(port: int, calling: str = "TESTER") -> Target:
    return Target("127.0.0.1", port, "PACSCONSOLE", calling, timeouts=QUICK)


def _dataset_bytes(ds) -> bytes:
    """The dataset as a C-STORE carries it (Explicit VR Little Endian, no file meta)."""
    raw = part10(ds)
    with io.BytesIO(raw) as fp:
        from pacs_console.core.dicom.wire.fastpath import dataset_offset

        return raw[dataset_offset(fp):]


def _store(assoc, sop_class: str, sop_instance: str, data: bytes) -> dict:
    cx = assoc.context_for(sop_class)
    command = pdu.encode_command({0x0002: sop_class, 0x0100: 0x0001, 0x0110: 1, 0x0700: 0,
                                 0x0800: 0, 0x1000: sop_instance})
    assoc.send(cx.context_id, command, data)
    _, fields, _ = assoc.receive(5)
    return fields


def _echo_on(assoc) -> int:
    cx = assoc.context_for(Verification)
    assoc.send(cx.context_id, pdu.encode_command({0x0002: Verification, 0x0100: 0x0030,
                                                 0x0110: 2, 0x0800: ul.NO_DATASET}))
    return int(assoc.receive(5)[1][0x0900])


@pytest.fixture(scope="module")
def image():
    ds = generate_study("CT", images=1, series=1, size=64, seed=5)[0]
    ds.file_meta.TransferSyntaxUID = EXPLICIT
    return ds


# -- the done-when attacks, on `pacs-console scp` as a separate process -----------------------
def _oversized_header(port: int) -> bytes:
    with connect(port) as sock:
        sock.sendall(struct.pack(">BBI", 0x04, 0, 0xFFFFFFF0))
        try:
            for _ in range(40):  # what a peer would stream into the announced 4 GiB
                sock.sendall(bytes(MB))
        except OSError:
            pass  # the SCP aborted and closed: exactly what should happen
        return read_all(sock)


def _malformed_rq(port: int) -> bytes:
    rq = ul.associate_rq(_target(port), [(CTImageStorage, [EXPLICIT])])
    body = bytearray(rq[6:])
    body[70:72] = b"\xff\xf0"  # the application context item claims 65,520 bytes
    with connect(port) as sock:
        sock.sendall(rq[:6] + bytes(body))
        return read_all(sock)


def _zero_length_item_rq(port: int) -> bytes:
    rq = ul.associate_rq(_target(port), [(CTImageStorage, [EXPLICIT])])
    body = rq[6:] + pdu.item(0x20, b"")
    with connect(port) as sock:
        sock.sendall(pdu.pdu(1, body))
        return read_all(sock)


def test_hostile_pdus_leave_the_scp_small_and_answering(tmp_path):
    proc, info = serve(tmp_path, "scp", "--port", "0", "--bind", "127.0.0.1", "--accept-any")
    try:
        port = info["port"]
        assert echo_ok(port)
        before = rss(proc.pid)
        for attack in (_oversized_header, _malformed_rq, _zero_length_item_rq):
            answer = attack(port)
            assert answer[:1] == b"\x07", f"{attack.__name__}: no A-ABORT ({answer[:10]!r})"
            assert proc.poll() is None
            assert rss(proc.pid) - before < 20 * MB, attack.__name__
            assert echo_ok(port), attack.__name__
    finally:
        assert stop(proc) == 0


# -- datasets checked against their request -------------------------------------------------
def test_garbage_empty_truncated_and_mismatched_datasets_are_refused(tmp_path, image):
    scp = _scp(tmp_path)
    try:
        assoc = ul.open_lean(_target(scp.port), [(CTImageStorage, [EXPLICIT]),
                                                 (Verification, [EXPLICIT])])
        good = _dataset_bytes(image)
        uid = str(image.SOPInstanceUID)
        cases = {"garbage": (b"\x01\x02garbage!" * 50, 0xC211),
                 "empty": (b"", 0xC211),
                 "truncated": (good[:-1000], 0xC211),
                 "other instance": (good, 0xC213)}
        for name, (data, status) in cases.items():
            instance = "1.2.3.4.5" if name == "other instance" else uid
            fields = _store(assoc, CTImageStorage, instance, data)
            assert fields[0x0900] == status, name
            assert fields.get(0x0902), name  # the reason travels as Error Comment
        assert list(scp.store.rglob("*.dcm")) == []
        fields = _store(assoc, CTImageStorage, uid, good)
        assert fields[0x0900] == 0
        (stored,) = scp.store.rglob("*.dcm")
        assert dcmread(stored).SOPInstanceUID == uid
        assoc.release()
    finally:
        scp.stop()


def test_disk_floor_and_bytes_in_flight_answer_out_of_resources(tmp_path, image):
    scp = _scp(tmp_path, min_free=1 << 60)  # no disk has an exabyte free
    try:
        assoc = ul.open_lean(_target(scp.port), [(CTImageStorage, [EXPLICIT])])
        fields = _store(assoc, CTImageStorage, str(image.SOPInstanceUID), _dataset_bytes(image))
        assert fields[0x0900] == 0xA700 and "disk" in fields[0x0902]
        assoc.release()
    finally:
        scp.stop()
    scp = _scp(tmp_path, limits=Limits(bytes_in_flight=4096))
    try:
        assoc = ul.open_lean(_target(scp.port), [(CTImageStorage, [EXPLICIT]),
                                                 (Verification, [EXPLICIT])])
        fields = _store(assoc, CTImageStorage, str(image.SOPInstanceUID), _dataset_bytes(image))
        assert fields[0x0900] == 0xA700
        assert _echo_on(assoc) == 0  # the association carries on
        assert scp._server.budget.used == 0
        assoc.release()
    finally:
        scp.stop()


# -- accept policy -------------------------------------------------------------------------
def test_only_address_book_aes_may_store_unless_any_is_switched_on(tmp_path):
    ctx = Context.open(app_paths(str(tmp_path / "data")).ensure())
    try:
        from dataclasses import replace

        ctx.settings = replace(ctx.settings, scp_port=0, scp_bind="127.0.0.1")
        save_node(ctx.db, "CT scanner", "CT_ROOM_1", "127.0.0.1", 104)
        scp = ctx.storage_scp().start()
        assert not scp.accepts_any
        with pytest.raises(ConsoleError) as raised:
            ul.open_lean(_target(scp.port, "STRANGER"), [(Verification, [EXPLICIT])])
        assert "calling AE title not recognised" in raised.value.diagnosis.what
        for known in ("CT_ROOM_1", "DEMOPACS"):
            ul.open_lean(_target(scp.port, known), [(Verification, [EXPLICIT])]).release()
        scp.expect("ORTHANC")  # what a C-MOVE from that node does
        ul.open_lean(_target(scp.port, "ORTHANC"), [(Verification, [EXPLICIT])]).release()
        scp.stop()
        ctx.scp = None
        ctx.settings = replace(ctx.settings, scp_accept_any=True)
        scp = ctx.storage_scp().start()
        assert scp.accepts_any
        ul.open_lean(_target(scp.port, "STRANGER"), [(Verification, [EXPLICIT])]).release()
    finally:
        ctx.close()


# -- caps and timers -----------------------------------------------------------------------
def test_one_address_cannot_take_every_association(tmp_path):
    scp = _scp(tmp_path, limits=Limits(max_associations=6, per_address=3))
    idle = []
    try:
        for _ in range(10):
            idle.append(connect(scp.port, source="127.0.0.2"))
        time.sleep(0.3)
        assert scp._server.associations == 3
        refused = read_all(idle[-1])
        assert refused[:1] == b"\x03" and refused[7:10] == bytes([2, 3, 2])  # local limit
        assert echo_ok(scp.port)  # from 127.0.0.1: a slot is still there
    finally:
        for sock in idle:
            sock.close()
        scp.stop()


def test_silent_and_idle_associations_time_out(tmp_path):
    scp = _scp(tmp_path, limits=Limits(idle_timeout=1.0))
    try:
        with connect(scp.port) as silent:  # never sends an A-ASSOCIATE-RQ: ARTIM (ACSE 2 s)
            start = time.monotonic()
            read_all(silent)
            assert time.monotonic() - start < 4
        assoc = ul.open_lean(_target(scp.port), [(Verification, [EXPLICIT])])
        time.sleep(1.5)
        assert read_all(assoc.sock)[:1] == b"\x07"  # aborted for idling
        assoc.sock.close()
        deadline = time.monotonic() + 3
        while scp._server.associations and time.monotonic() < deadline:
            time.sleep(0.05)
        assert scp._server.associations == 0
    finally:
        scp.stop()


def test_scp_command_names_its_address_and_files_into_the_store(tmp_path, image):
    proc, info = serve(tmp_path, "scp", "--port", "0", "--bind", "127.0.0.1", "--ae", "LAPTOP",
                       "--accept-any")
    try:
        assert (info["host"], info["ae_title"], info["accept_any"]) == ("127.0.0.1", "LAPTOP", True)
        target = Target("127.0.0.1", info["port"], "LAPTOP", "MODALITY", timeouts=QUICK)
        assoc = ul.open_lean(target, [(CTImageStorage, [EXPLICIT])])
        assert _store(assoc, CTImageStorage, str(image.SOPInstanceUID),
                      _dataset_bytes(image))[0x0900] == 0
        assoc.release()
    finally:
        assert stop(proc) == 0
    assert "1 instance(s) received" in proc.stderr.read()
    (stored,) = (tmp_path / "data").rglob("*.dcm")
    assert "store" in stored.parts


def test_scp_command_refuses_a_bad_bind_in_one_line(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "pacs_console", "--data-dir", str(tmp_path),
                           "scp", "--bind", "not-an-address"], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "not an IP address" in done.stderr


def test_broken_pipe_from_a_resetting_peer_costs_one_connection(tmp_path):
    scp = _scp(tmp_path)
    try:
        for _ in range(5):
            sock = connect(scp.port)
            sock.sendall(b"\x07\x00\x00\x00\x00\x04garbage!")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # a reset, not a close
        assert echo_ok(scp.port)
    finally:
        scp.stop()
