"""Waiting for a relay's associations to end (they end on its own threads); the console's
own relay and Storage SCP as child processes, the relay writing a trace; a relay in this
process with a recording tap before the PACS; DCMTK runs and CT files for the peers."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import threading
import time
from contextlib import contextmanager

from pydicom import dcmwrite

from pacs_console.core.relay.server import Relay, RelayConfig
from pacs_console.core.relay.tracefile import TraceWriter
from tests.dicom_samples import ct_series
from tests.loopback import LoopbackListener

BIN = "/usr/bin/"


def wait_for(ended: list, count: int = 1, timeout: float = 20.0) -> list[dict]:
    end = time.monotonic() + timeout
    while len(ended) < count and time.monotonic() < end:
        time.sleep(0.05)
    assert len(ended) >= count, f"{len(ended)} association(s) ended, {count} expected"
    return ended


def cli_relay_to_scp(tmp_path, trace):
    """(scp, its first line, relay, its first line): ``pacs-console scp`` accepting any AE title on
    loopback, ``pacs-console relay`` in front of it writing ``trace``."""
    from tests.core.wire_peers import serve

    scp, scp_info = serve(tmp_path / "scp", "scp", "--port", "0", "--bind", "127.0.0.1",
                          "--accept-any")
    relay, first = serve(tmp_path / "relay", "relay", "0", "--bind", "127.0.0.1", "--to",
                         f"127.0.0.1:{scp_info['port']}", "--out", str(trace))
    return scp, scp_info, relay, first


class Tap(LoopbackListener):
    """Between the relay and the PACS: forwards and records each direction's bytes."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.to_peer, self.from_peer = bytearray(), bytearray()
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        upstream = socket.create_connection(self.target)
        threading.Thread(target=self._copy, args=(conn, upstream, self.to_peer), daemon=True).start()
        threading.Thread(target=self._copy, args=(upstream, conn, self.from_peer), daemon=True).start()

    @staticmethod
    def _copy(src, dst, record: bytearray) -> None:
        try:
            while data := src.recv(1 << 16):
                record += data
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


@contextmanager
def relaying(tmp_path, host: str, port: int, *, tap: bool = False, listen_tls=None):
    """(relay address, ended reports, trace path, tap) for a relay to host:port (TLS from the
    modality with ``listen_tls``, a TlsConfig)."""
    tapper = Tap(host, port) if tap else None
    trace_path = tmp_path / "relay.trace"
    trace = TraceWriter(trace_path)
    ended: list[dict] = []
    relay = Relay(RelayConfig("127.0.0.1", 0, "127.0.0.1" if tap else host,
                              tapper.port if tapper else port, listen_tls=listen_tls),
                  trace=trace, on_end=lambda _i, report: ended.append(report))
    relay.start()
    try:
        yield relay.address, ended, trace_path, tapper
    finally:
        relay.stop()
        trace.finish()
        if tapper:
            tapper.close()


def dcmtk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BIN + args[0], *args[1:]], capture_output=True, text=True, timeout=120)


def ct_files(tmp_path, count: int, **kw):
    paths = []
    for n, ds in enumerate(ct_series(count, size=128, **kw)):
        paths.append(tmp_path / f"ct{n}.dcm")
        dcmwrite(paths[-1], ds, enforce_file_format=True)
    return paths


def stored_hashes(orthanc) -> dict[str, str]:
    out = {}
    for instance in orthanc.rest("GET", "/instances"):
        uid = orthanc.rest("GET", f"/instances/{instance}/simplified-tags")["SOPInstanceUID"]
        raw = urllib_get(orthanc.url + f"/instances/{instance}/file")
        out[uid] = hashlib.sha256(raw).hexdigest()
    return out


def store_directly(orthanc, files, calling_ae: str) -> dict[str, str]:
    """Store ``files`` straight to Orthanc with storescu, read back what it kept (SOP Instance
    UID -> SHA-256 of the file), then empty Orthanc for the run through the relay."""
    direct = dcmtk("storescu", "-aet", calling_ae, "-aec", orthanc.aet, orthanc.host,
                   str(orthanc.dicom_port), *map(str, files))
    assert direct.returncode == 0, direct.stderr
    stored = stored_hashes(orthanc)
    orthanc.clear()
    return stored


def urllib_get(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def still_running(process: subprocess.Popen) -> bool:
    """A peer tool started with Popen has not exited yet."""
    return process.poll() is None
