"""The relay's cost: storescu -> relay -> Orthanc against storescu -> Orthanc in the same run
(200 x 512² CT, one association each), and `pacs-console trace` on a 1 GB capture written from
a relay session (pcapng, loopback-sized segments as tcpdump shows them with offloads on, and
Ethernet-sized 1460-byte segments)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.bench import peers_env as env
from tests.bench.runner import Case

IMAGES = 200
GB = 1 << 30
_state: dict = {}


def _study() -> Path:
    return env.study("relay200", "CT", IMAGES, 1, 512)


def _relay() -> tuple[str, int]:
    """A relay process to Orthanc (started once), its stdout in a file so it never blocks."""
    if "relay" not in _state:
        peer = env.orthanc()
        folder = env.scratch("pacs-bench-relay-")
        out = open(folder / "stdout.jsonl", "w+")  # noqa: SIM115 - closed in _stop
        proc = subprocess.Popen(env.console("relay", "0", "--bind", "127.0.0.1", "--to",
                                            f"{peer.host}:{peer.dicom_port}", "--out",
                                            str(folder / "bench.trace"), "--json"),
                                stdin=subprocess.PIPE, stdout=out, stderr=subprocess.DEVNULL,
                                cwd=env.ROOT, env=env.PY_ENV)
        deadline = time.monotonic() + 30
        while not (folder / "stdout.jsonl").read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        import json

        first = json.loads((folder / "stdout.jsonl").read_text().splitlines()[0])
        _state.update(relay=proc, out=out, port=first["port"], folder=folder)
    return "127.0.0.1", _state["port"]


def _stop() -> None:
    proc = _state.pop("relay", None)
    if proc is not None:
        proc.stdin.close()
        proc.wait(timeout=60)
        _state.pop("out").close()


def _store_setup() -> None:
    env.orthanc()
    _study()
    _relay()


def _store() -> dict[str, float]:
    peer, folder = env.orthanc(), _study()
    host, port = _relay()
    peer.clear()
    direct = env.dcmtk("/usr/bin/storescu", "+sd", *env.dcmtk_target(), str(folder))
    peer.clear()
    relayed = env.dcmtk("/usr/bin/storescu", "+sd", "-aet", env.SCU, "-aec", peer.aet, host,
                        str(port), str(folder))
    assert len(peer.rest("GET", "/instances")) == IMAGES
    return {"relay_s": relayed, "direct_s": direct}


def _session_trace() -> Path:
    """The trace of one 200-image store through a relay of its own."""
    if "session" not in _state:
        peer, folder = env.orthanc(), _study()
        scratch = env.scratch("pacs-bench-session-")
        trace = scratch / "one.trace"
        proc = subprocess.Popen(env.console("relay", "0", "--bind", "127.0.0.1", "--to",
                                            f"{peer.host}:{peer.dicom_port}", "--out", str(trace),
                                            "--json"),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, cwd=env.ROOT, env=env.PY_ENV, text=True)
        import json

        port = json.loads(proc.stdout.readline())["port"]
        peer.clear()
        env.dcmtk("/usr/bin/storescu", "+sd", "-aet", env.SCU, "-aec", peer.aet, "127.0.0.1",
                  str(port), str(folder))
        proc.stdout.readline()  # the association's JSON: it has ended
        proc.stdin.close()
        proc.wait(timeout=60)
        _state["session"] = trace
    return _state["session"]


def _capture(mss: int) -> Path:
    key = f"capture{mss}"
    if key not in _state:
        import dpkt

        from tests.core.relay.captures import frames, session

        chunks = session(_session_trace())
        path = env.scratch("pacs-bench-capture-") / f"1gb-{mss}.pcapng"
        size, copy = 0, 0
        with open(path, "wb") as fp:
            writer = dpkt.pcapng.Writer(fp, snaplen=65535, linktype=dpkt.pcap.DLT_EN10MB)
            while size < GB:
                for when, _, frame in frames(chunks, mss=mss, client=("10.20.0.5", 40000 + copy)):
                    writer.writepkt(frame, ts=when + copy)
                    size += len(frame)
                copy += 1
        _state[key] = path
    return _state[key]


def _decode(mss: int):
    def run() -> dict[str, float]:
        path = _capture(mss)
        seconds = env.timed(env.console("trace", str(path), "--json"))
        return {"trace_s": seconds, "capture_gb": path.stat().st_size / GB}
    return run


def cases() -> list[Case]:
    return [
        Case(f"relay: store {IMAGES} x 512² CT storescu -> relay -> Orthanc / direct", _store,
             "relay_s", 1.10, peer_metric="direct_s", peer_name="storescu direct", ratio=True,
             setup=_store_setup, teardown=_stop),
        Case("relay: trace a 1 GB pcapng (loopback-sized segments)", _decode(65483), "trace_s",
             30.0, setup=lambda: _capture(65483)),
        Case("relay: trace a 1 GB pcapng (Ethernet 1460-byte segments)", _decode(1460), "trace_s",
             30.0, setup=lambda: _capture(1460)),
    ]
