"""C-ECHO outcomes with their diagnoses, and the console's own Storage SCP receiving files."""

from __future__ import annotations

import queue
import socket
import time

import pytest
from pynetdicom.sop_class import CTImageStorage, Verification

from pacs_console.core.dicom.ops.echo import echo
from pacs_console.core.dicom.servers.storage import StorageSCP
from pacs_console.core.dicom.wire.ae import Timeouts, make_ae
from tests.dicom_samples import ct_series


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def verification_scp():
    ae = make_ae("ECHOSCP", supported=[Verification])
    ae.require_called_aet = True
    server = ae.serve(("127.0.0.1", 0))
    yield server.server_address[1]
    server.shutdown()


def test_echo_success_reports_times_and_peer(verification_scp):
    result = echo("127.0.0.1", verification_scp, "ECHOSCP", "PACSCONSOLE")
    assert result.ok and result.status == 0 and result.diagnosis is None
    assert result.connect_ms > 0 and result.associate_ms > 0 and result.echo_ms > 0
    assert result.peer["implementation_version_name"].startswith("PACSCONSOLE")


def test_wrong_called_ae_is_diagnosed(verification_scp):
    result = echo("127.0.0.1", verification_scp, "echoscp", "PACSCONSOLE")
    assert not result.ok and result.diagnosis.code == "called-ae-rejected"
    assert "case" in result.diagnosis.text() and "'echoscp'" in result.diagnosis.text()


def test_closed_port_is_diagnosed_as_refused():
    result = echo("127.0.0.1", _free_port(), "ANY")
    assert result.diagnosis.code == "connection-refused"
    assert "port" in " ".join(result.diagnosis.actions)


def test_silent_listener_times_out_at_the_configured_value():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        start = time.perf_counter()
        result = echo("127.0.0.1", listener.getsockname()[1], "ANY", timeouts=Timeouts(acse=1.0))
        elapsed = time.perf_counter() - start
    finally:
        listener.close()
    assert result.diagnosis.code == "association-timeout"
    assert 0.9 <= elapsed < 5


def test_no_presentation_context_is_diagnosed():
    ae = make_ae("STOREONLY", supported=[CTImageStorage])
    server = ae.serve(("127.0.0.1", 0))
    try:
        result = echo("127.0.0.1", server.server_address[1], "STOREONLY")
    finally:
        server.shutdown()
    assert result.diagnosis.code == "no-presentation-context"
    assert Verification in result.diagnosis.evidence["proposed"]


def test_unresolvable_host_is_diagnosed():
    result = echo("no-such-host.invalid", 104, "ANY", timeouts=Timeouts(connect=2))
    assert result.diagnosis.code == "name-resolution"


def test_storage_scp_writes_files_and_notifies(tmp_path):
    arrivals: queue.SimpleQueue = queue.SimpleQueue()
    scp = StorageSCP(tmp_path / "store", "PACSCONSOLE", 0, host="127.0.0.1", notify=arrivals).start()
    try:
        assert echo("127.0.0.1", scp.port, "PACSCONSOLE").ok
        datasets = ct_series(3)
        client = make_ae("SENDER", requested=[CTImageStorage])
        assoc = client.associate("127.0.0.1", scp.port, ae_title="PACSCONSOLE")
        assert assoc.is_established
        for ds in datasets:
            assert assoc.send_c_store(ds).Status == 0
        assoc.release()
    finally:
        scp.stop()
    records = [arrivals.get_nowait() for _ in range(arrivals.qsize())]
    assert {r.sop_instance_uid for r in records} == {str(ds.SOPInstanceUID) for ds in datasets}
    for record in records:
        assert record.path.is_file() and record.calling_ae == "SENDER"
        assert record.path.parent.name == records[0].series_uid.replace("/", "_")
    assert not list((tmp_path / "store").rglob("*.part"))
    assert scp.received_count == 3


def test_storage_scp_port_in_use_raises_oserror(tmp_path):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    try:
        with pytest.raises(OSError):
            StorageSCP(tmp_path, "PACSCONSOLE", blocker.getsockname()[1], host="127.0.0.1").start()
    finally:
        blocker.close()


def test_storage_scp_on_any_free_port_keeps_its_port_on_restart_while_free(tmp_path):
    scp = StorageSCP(tmp_path, "PACSCONSOLE", 0, host="127.0.0.1").start()
    first = scp.port
    assert first != 0 and echo("127.0.0.1", first, "PACSCONSOLE").ok
    scp.stop()
    scp.start()  # the remote PACS was told this port: it stays while nobody took it
    assert scp.port == first and echo("127.0.0.1", first, "PACSCONSOLE").ok
    scp.stop()
    taker = socket.socket()
    taker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past the echoes' TIME_WAIT
    taker.bind(("127.0.0.1", first))
    taker.listen()
    try:
        scp.start()  # taken meanwhile: any other free port, and it says which
        assert scp.port not in (0, first) and echo("127.0.0.1", scp.port, "PACSCONSOLE").ok
    finally:
        scp.stop()
        taker.close()
