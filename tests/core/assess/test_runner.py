"""The runner's promises: connections to one node paced ``interval`` apart, nodes in parallel
only up to ``concurrency``, and closing the generator stops the assessment at once."""

from __future__ import annotations

import socket
import time

from pacs_console.core.assess.model import AssessOptions, Service
from pacs_console.core.assess.runner import run_assessment
from pacs_console.core.dicom.wire import pdu
from tests.loopback import LoopbackListener


class Recorder(LoopbackListener):
    """Accepts on an OS-assigned loopback port, notes when, and answers ``answer`` (or
    nothing: a node that never speaks)."""

    def __init__(self, answer: bytes | None) -> None:
        self.answer = answer
        self.times: list[float] = []
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        self.times.append(time.monotonic())
        if self.answer is None:
            self.hold(conn)  # silent: keep it open, say nothing
            return
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(self.answer)
            except OSError:
                pass


def _drain(generator):
    from tests.core.dicom_ops.helpers import drain

    return drain(generator)[1]


def test_connections_to_one_node_are_paced():
    rejecting = Recorder(pdu.associate_rj(1, 1, 3))  # calling AE not recognised
    try:
        service = Service("127.0.0.1", rejecting.port, "dicom", ae_title="QR")
        options = AssessOptions(families=("dicom",), interval=0.3, timeout=2.0)
        result = _drain(run_assessment({"127.0.0.1": [service]}, options, hl7_ports=()))
        gaps = [b - a for a, b in zip(rejecting.times, rejecting.times[1:], strict=False)]
        assert len(rejecting.times) == 3 and min(gaps) >= 0.29, gaps
        assert result.findings == [] and result.score == 100
    finally:
        rejecting.close()


def test_closing_the_generator_stops_the_assessment():
    silent = Recorder(None)
    try:
        hosts = {f"node{n}": [Service("127.0.0.1", silent.port, "dicom", ae_title="X")]
                 for n in range(6)}
        options = AssessOptions(families=("dicom",), timeout=1.0, concurrency=1, interval=0.0)
        generator = run_assessment(hosts, options, hl7_ports=())
        next(generator)
        time.sleep(0.2)
        generator.close()  # returns once the running check's own wait is over
        seen = len(silent.times)
        time.sleep(1.5)
        assert len(silent.times) == seen <= 2  # the queued nodes never started
    finally:
        silent.close()
