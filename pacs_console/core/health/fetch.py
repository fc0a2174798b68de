"""How a spot-check (or a health check) brings a study into the console: C-GET over the query
association, or C-MOVE to the console's own AE title, received by a private Storage SCP on the
console's receiving port (the lean receive path of ``servers.storage``) into a scratch folder.

Either way ``fetch(study_uid)`` gives the RetrieveResult and what arrived: paths of files, which
the caller reads and then deletes, or, over C-MOVE for native little-endian pixel data, the
integrity read already made from the received bytes in memory (``pixels.native_check``: SOP
Instance UID, pixel digest, problem), never written to disk. Several threads may fetch at once.
"""

from __future__ import annotations

import queue
import tempfile
import threading
from pathlib import Path

from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.models import drain

METHODS = ("get", "move")


class GetFetcher:
    """C-GET: works without the node knowing this laptop (no move destination)."""

    method = "get"

    def __init__(self, target, scratch: Path) -> None:
        self.target, self.scratch = target, Path(scratch)

    def __enter__(self) -> GetFetcher:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def fetch(self, study_uid: str):
        from pacs_console.core.dicom.ops.retrieve import get

        folder = Path(tempfile.mkdtemp(dir=self.scratch))
        result = drain(get(self.target, "STUDY", {"StudyInstanceUID": study_uid}, folder))
        return result, list(result.files)


class MoveFetcher:
    """C-MOVE to this console's AE title; the node must know it (AE, this laptop's address,
    the receiving port of the settings), as for any C-MOVE into the console."""

    method = "move"

    def __init__(self, target, settings, scratch: Path) -> None:
        from pacs_console.core.dicom.servers.storage import StorageSCP
        from pacs_console.core.health.pixels import native_check

        self.target, self.settings = target, settings
        self.arrivals: queue.SimpleQueue = queue.SimpleQueue()
        # Studies fetched at once: an arrival of another thread's study waits here for it.
        self.pending: dict[str, list[Path]] = {}
        self.lock = threading.Lock()
        # Only the node moved from may store (move() adds its AE title before each C-MOVE).
        self.scp = StorageSCP(Path(scratch), settings.ae_title, settings.scp_port,
                              host=settings.scp_bind, timeouts=settings.timeouts(),
                              notify=self.arrivals, known_aes=tuple,
                              limits=settings.scp_limits(),
                              min_free=max(0, settings.scp_min_free_mb) << 20,
                              examine=native_check)

    def __enter__(self) -> MoveFetcher:
        try:
            self.scp.start()
        except OSError as exc:
            port = self.settings.scp_port
            raise ConsoleError(Diagnosis(
                "archive-move-port-busy",
                f"Cannot receive the C-MOVE: port {port} is in use ({exc.strerror or exc})",
                ("the console's Storage SCP is already running (Receive in the GUI)",
                 "another program listens on this port"),
                ("stop the running Storage SCP for the spot-check, or use C-GET",),
                {"port": port})) from exc
        return self

    def __exit__(self, *exc) -> None:
        self.scp.stop()

    def fetch(self, study_uid: str):
        from pacs_console.core.dicom.ops.retrieve import move

        result = drain(move(self.target, self.settings.ae_title, "STUDY",
                            {"StudyInstanceUID": study_uid}, scp=self.scp))
        # Each C-STORE is answered after its file is written and announced, so every arrival
        # of this C-MOVE is queued by its final response.
        with self.lock:
            while True:
                try:
                    received = self.arrivals.get_nowait()
                except queue.Empty:
                    break
                self.pending.setdefault(received.study_uid, []).append(
                    received.path if received.examined is None else received.examined)
            paths = self.pending.pop(study_uid, [])
        result.files = paths
        return result, paths


def fetcher(method: str, target, settings, scratch: Path):
    """The fetcher for ``method`` (get or move); use it as a context manager."""
    if method == "move":
        return MoveFetcher(target, settings, scratch)
    if method == "get":
        return GetFetcher(target, scratch)
    raise ValueError(f"retrieve method must be one of {', '.join(METHODS)}")
