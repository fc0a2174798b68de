"""The relay's bounds: associations over the limit get A-ASSOCIATE-RJ 'local limit exceeded',
and the bytes per second of all associations together are held to the configured rate."""

from __future__ import annotations

import socket
import threading
import time

from pacs_console.core.dicom.wire import pdu
from pacs_console.core.relay.server import Relay, RelayConfig
from tests.core.relay.pdus import CT, EXPLICIT, rq
from tests.core.relay.support import wait_for
from tests.loopback import LoopbackListener


class Sink(LoopbackListener):
    """A TCP peer that reads everything and answers nothing (bytes are bytes to the relay)."""

    def __init__(self) -> None:
        self.received = 0
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn) -> None:
        with conn:
            while data := conn.recv(1 << 16):
                self.received += len(data)


def test_over_the_association_limit_is_rejected_as_local_limit_exceeded():
    sink = Sink()
    ended: list[dict] = []
    relay = Relay(RelayConfig("127.0.0.1", 0, "127.0.0.1", sink.port, max_associations=1),
                  on_end=lambda _i, report: ended.append(report))
    relay.start()
    try:
        first = socket.create_connection(relay.address, timeout=5)
        first.sendall(rq([(CT, [EXPLICIT])]))
        time.sleep(0.3)  # the first association holds the only slot
        with socket.create_connection(relay.address, timeout=5) as second:
            second.sendall(rq([(CT, [EXPLICIT])]))
            answer = second.recv(64)
        assert answer == pdu.associate_rj(2, 3, 2)
        assert relay.refused == 1
        first.close()
        [report] = wait_for(ended)
        assert report["calling_ae"] == "MODALITY"
    finally:
        relay.stop()
        sink.close()


def test_the_rate_limit_holds_bytes_back():
    sink = Sink()
    relay = Relay(RelayConfig("127.0.0.1", 0, "127.0.0.1", sink.port, rate=200_000))
    relay.start()
    try:
        start = time.monotonic()
        with socket.create_connection(relay.address, timeout=10) as sock:
            sock.sendall(bytes(600_000))
        deadline = time.monotonic() + 30
        while sink.received < 600_000 and time.monotonic() < deadline:
            time.sleep(0.02)
        elapsed = time.monotonic() - start
        assert sink.received == 600_000
        assert elapsed >= 1.5  # 200 kB at once (the bucket's depth), then 200 kB per second
    finally:
        relay.stop()
        sink.close()
