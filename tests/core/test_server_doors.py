"""Servers that cannot be knocked over: a resetting peer, idle connections, a stream of stores."""

from __future__ import annotations

import socket
import struct
import time

import psutil
import pytest
from pynetdicom.sop_class import CTImageStorage

from pacs_console.core.dicom.ops.echo import echo
from pacs_console.core.dicom.servers.demo import DemoPacs
from pacs_console.core.dicom.synth.studies import generate_study
from pacs_console.core.dicom.wire.ae import make_ae
from tests.core.wire_peers import connect, echo_ok, serve, stop

MB = 1 << 20


def _twelve_bytes_and_reset(port: int) -> None:
    sock = connect(port)
    sock.sendall(b"\x01\x00\x00\x00\x00\x06\x00\x01\x00\x00\x00\x00")  # a 12-byte request
    time.sleep(0.05)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.mark.parametrize("command", [["demo-pacs", "--port", "0"],
                                     ["scp", "--port", "0", "--bind", "127.0.0.1"]])
def test_a_peer_that_resets_never_ends_the_server(tmp_path, command):
    proc, info = serve(tmp_path, *command)
    try:
        port = info["port"]
        for _ in range(5):
            _twelve_bytes_and_reset(port)
            time.sleep(0.1)
        time.sleep(0.5)
        assert proc.poll() is None, f"{command[0]} died with exit code {proc.returncode}"
        called = "DEMOPACS" if command[0] == "demo-pacs" else "PACSCONSOLE"
        assert echo_ok(port, called)
    finally:
        assert stop(proc) == 0


def test_idle_connections_from_one_host_leave_the_demo_answering():
    with DemoPacs(studies=[], worklist=[]) as demo:
        idle = [connect(demo.port, source="127.0.0.2") for _ in range(60)]
        try:
            time.sleep(0.5)
            result = echo("127.0.0.1", demo.port, "DEMOPACS")
            assert result.ok, result.diagnosis
        finally:
            for sock in idle:
                sock.close()


def test_the_demo_keeps_what_it_receives_on_disk_not_in_memory():
    study = generate_study("CT", images=60, series=1, size=512, seed=11)  # ~512 KB each
    with DemoPacs(ae_title="EMPTYPACS", studies=[], worklist=[]) as demo:
        ae = make_ae("MODALITY", requested=[CTImageStorage])
        process = psutil.Process()
        assoc = ae.associate("127.0.0.1", demo.port, ae_title="EMPTYPACS")
        assert assoc.send_c_store(study[0]).Status == 0
        before = process.memory_info().rss
        statuses = [assoc.send_c_store(ds).Status for ds in study[1:]]
        assoc.release()
        grown = process.memory_info().rss - before
        assert statuses == [0] * 59
        assert len(demo.datasets) == 60
        # 59 images of 512 KB held in memory would be 30 MB; headers are a few KB each.
        assert grown < 12 * MB, f"{grown / MB:.1f} MB"
        kept = {str(ds.SOPInstanceUID): ds for ds in demo.datasets}
        first = kept[str(study[5].SOPInstanceUID)]
        assert first.pixel_array.shape == (512, 512)  # read back from disk when needed
        assert (first.pixel_array == study[5].pixel_array).all()
