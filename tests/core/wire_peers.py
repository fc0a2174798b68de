"""Hostile peers for the wire tests: the console's servers as child processes, a scripted acceptor."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil

from pacs_console.core.dicom.ops.echo import echo
from tests.loopback import LoopbackListener

ROOT = Path(__file__).resolve().parents[2]


def serve(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, dict]:
    """Start ``pacs-console --data-dir tmp ARGS --json`` and return it with its first line."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "pacs_console", "--data-dir",
                             str(tmp_path / "data"), *args, "--json"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env=env)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise AssertionError(f"{args[0]} did not start: {proc.stderr.read()}")
    return proc, json.loads(line)


def stop(proc: subprocess.Popen) -> int:
    """Close standard input (the documented way to stop) and return the exit code."""
    if proc.poll() is None:
        proc.stdin.close()
        try:
            return proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def rss(pid: int) -> int:
    return psutil.Process(pid).memory_info().rss


def echo_ok(port: int, ae: str = "ANY-SCP", calling: str = "PACSCONSOLE") -> bool:
    return echo("127.0.0.1", port, ae, calling_ae=calling).ok


def connect(port: int, source: str = "127.0.0.1", timeout: float = 5) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def read_all(sock: socket.socket, limit: int = 1 << 16) -> bytes:
    """What the server sent before closing (or going quiet), at most ``limit`` bytes."""
    data = b""
    try:
        while len(data) < limit:
            chunk = sock.recv(limit - len(data))
            if not chunk:
                break
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


class ScriptedAcceptor(LoopbackListener):
    """Accepts connections on an OS-assigned port; answers each request with ``answer``
    (bytes, or a function of the request) and keeps what the peer sent afterwards."""

    def __init__(self, answer, *, then_close: bool = False) -> None:
        self.answer, self.then_close = answer, then_close
        self.connections = 0
        self.after: list[bytes] = []
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        self.connections += 1
        with conn:
            conn.settimeout(3)
            try:
                request = conn.recv(65536)
                answer = self.answer(request) if callable(self.answer) else self.answer
                conn.sendall(answer)
            except OSError:
                return
            if not self.then_close:
                self.after.append(read_all(conn))

    def sent_after(self, n: int = 1, timeout: float = 5) -> bytes:
        """What the peer sent after the answer on the ``n``-th connection (once it closed)."""
        import time

        deadline = time.monotonic() + timeout
        while len(self.after) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.after[n - 1]
