"""The relayed session the capture tests write their captures from."""

from __future__ import annotations

import subprocess

import pytest
from pydicom import dcmwrite

from pacs_console.core.relay.server import Relay, RelayConfig
from pacs_console.core.relay.tracefile import TraceWriter
from tests.core.wire_peers import serve, stop
from tests.dicom_samples import ct_series

STORESCU = "/usr/bin/storescu"


@pytest.fixture(scope="module")
def relayed(tmp_path_factory):
    """The trace of three 256x256 CT images stored through the relay."""
    folder = tmp_path_factory.mktemp("relayed")
    scp, info = serve(folder, "scp", "--port", "0", "--bind", "127.0.0.1", "--accept-any")
    files = []
    for n, ds in enumerate(ct_series(3, size=256, patient_name="Owusu^Kwame")):
        files.append(folder / f"{n}.dcm")
        dcmwrite(files[-1], ds, enforce_file_format=True)
    trace = TraceWriter(folder / "session.trace")
    relay = Relay(RelayConfig("127.0.0.1", 0, "127.0.0.1", info["port"]), trace=trace)
    relay.start()
    try:
        done = subprocess.run([STORESCU, "-aet", "CTSCANNER", "-aec", "ANY-SCP", "127.0.0.1",
                               str(relay.address[1]), *map(str, files)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        _wait(lambda: relay.ended)
    finally:
        relay.stop()
        trace.finish()
        stop(scp)
    return folder / "session.trace"


def _wait(condition, timeout: float = 10.0) -> None:
    import time

    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end:
        time.sleep(0.05)
