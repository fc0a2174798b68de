"""Shared plumbing for real DICOM peers: a shimmed child process, readiness by C-ECHO, cleanup."""

from __future__ import annotations

import atexit
import errno
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.peers.shim import bind_shim

# Every peer ever started in this interpreter; the atexit hook kills whatever is still alive,
# so a crashed or interrupted session never leaves peers holding their ports.
_LIVE: set[PeerProcess] = set()


def _kill_all() -> None:
    for peer in list(_LIVE):
        peer.stop()


atexit.register(_kill_all)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL a peer started with ``start_new_session=True``, its children too, and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def check_port_free(host: str, port: int) -> None:
    """Fail clearly when host:port is taken (another peer, a stale run, a wildcard listener)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # SO_REUSEADDR as the peers themselves use it: TIME_WAIT leftovers of a previous run must
    # not count as "in use", while any listener (also a 0.0.0.0 one) still does.
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise RuntimeError(
                f"{host}:{port} is already in use; a peer from an earlier run may still be alive "
                f"(see `ss -ltnp 'sport = :{port}'`)"
            ) from exc
        raise
    finally:
        probe.close()


def echo(host: str, port: int, aet: str, *, calling: str = "PACSCONSOLE", timeout: float = 2.0):
    """One C-ECHO with the project's AE factory; returns the status (0 = success) or None."""
    from pacs_console.core.dicom.wire.ae import Timeouts, make_ae

    ae = make_ae(
        calling,
        Timeouts(connect=timeout, acse=timeout, dimse=timeout, network=timeout),
        requested=["1.2.840.10008.1.1"],
    )
    assoc = ae.associate(host, port, ae_title=aet)
    if not assoc.is_established:
        return None
    try:
        status = assoc.send_c_echo()
        return status.Status if status else None
    finally:
        assoc.release()


def workdir_path(name: str) -> property:
    """A class attribute: ``name`` in the peer's work folder (there once the peer has started)."""
    return property(lambda peer: peer.in_workdir(name))


class PeerProcess:
    """A peer program run as a child in its own temp dir, pinned to one address by the shim."""

    name = "peer"
    start_timeout = 15.0

    def __init__(self, aet: str, host: str, port: int) -> None:
        self.aet = aet
        self.host = host
        self.dicom_port = port
        self.workdir: Path | None = None
        self.proc: subprocess.Popen | None = None

    # Subclasses write their config files into self.workdir and return the command line.
    def command(self) -> list[str]:
        raise NotImplementedError

    def in_workdir(self, name: str) -> Path:
        """A path in the peer's work folder (there once the peer has started)."""
        assert self.workdir is not None, "peer not started"
        return self.workdir / name

    @property
    def log_path(self) -> Path:
        return self.in_workdir(f"{self.name}.log")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def extra_ports(self) -> list[int]:
        return []

    def start(self) -> None:
        if self.running:
            return
        for port in (self.dicom_port, *self.extra_ports()):
            check_port_free(self.host, port)
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix=f"pacs-{self.name}-"))
        cmd = self.command()
        if not Path(cmd[0]).exists():
            raise RuntimeError(f"{cmd[0]} not found: run tests/peers/install.sh as root first")
        env = dict(os.environ)
        env.update(
            LD_PRELOAD=str(bind_shim()),
            PEER_BIND_ADDR=self.host,
            # The shim's PR_SET_PDEATHSIG: peers die with pytest even on SIGKILL, where atexit
            # never runs. It fires when the *thread* that started the peer ends, so start peers
            # from the main thread (fixtures do) or from a thread that outlives them.
            PEER_DIE_WITH_PARENT=str(os.getpid()),
            TCP_NODELAY="1",  # DCMTK sets TCP_NODELAY only when this is present
        )
        with open(self.log_path, "ab") as log:
            # Own session: stop() kills the whole group, including dcmqrscp's forked children.
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _LIVE.add(self)
        self._wait_ready(cmd)

    def _wait_ready(self, cmd: list[str]) -> None:
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                message = self._failure(f"exited with code {self.proc.returncode}", cmd)
                self.stop(remove_workdir=False)  # keep the log for a post-mortem
                raise RuntimeError(message)
            if self._port_open() and echo(self.host, self.dicom_port, self.aet, timeout=1.0) == 0:
                return
            if time.monotonic() > deadline:
                message = self._failure(
                    f"did not answer C-ECHO within {self.start_timeout:.0f} s", cmd
                )
                self.stop(remove_workdir=False)
                raise RuntimeError(message)
            time.sleep(0.02)

    def _port_open(self) -> bool:
        # A plain connect first: cheap, and keeps pynetdicom from logging refused connections.
        try:
            with socket.create_connection((self.host, self.dicom_port), timeout=0.5):
                return True
        except OSError:
            return False

    def _failure(self, what: str, cmd: list[str]) -> str:
        try:
            tail = self.log_path.read_text(errors="replace").splitlines()[-30:]
        except OSError:
            tail = ["(no log)"]
        return (
            f"{self.name} {self.aet}@{self.host}:{self.dicom_port} {what}\n"
            f"command: {' '.join(cmd)}\nlog {self.log_path}, last lines:\n" + "\n".join(tail)
        )

    def stop(self, *, remove_workdir: bool = True) -> None:
        """SIGKILL the process group and reap it (SIGTERM costs Orthanc ~3 s for nothing)."""
        if self.proc is not None:
            kill_group(self.proc)
            self.proc = None
        _LIVE.discard(self)
        if remove_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def restart(self) -> None:
        """Stop and start on the same work dir (the old PID is reaped first: no stale locks)."""
        self.stop(remove_workdir=False)
        self.start()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} {self.aet}@{self.host}:{self.dicom_port} {state}>"
