"""The console's own Storage SCP: receives C-MOVE/C-STORE results into the local store."""

from __future__ import annotations

import errno
import logging
import os
import queue
import re
import threading
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from pydicom.uid import UID
from pynetdicom import PYNETDICOM_IMPLEMENTATION_UID, AllStoragePresentationContexts
from pynetdicom.dsutils import decode

from pacs_console.core.dicom import fastpath
from pacs_console.core.dicom.ae import IMPLEMENTATION_VERSION, Timeouts
from pacs_console.core.dicom.params import validate_ae_title
from pacs_console.core.dicom.scp_lean import LeanStorageServer, StoreRequest

log = logging.getLogger(__name__)

# Accept compressed data as it comes: the viewer decodes it, re-encoding would waste time.
ACCEPTED_TRANSFER_SYNTAXES = [
    "1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203",
]
_UNSAFE = re.compile(r"[^0-9A-Za-z.\-]")


@dataclass(frozen=True)
class Received:
    """One stored instance, as handed to the GUI bridge."""

    path: Path
    sop_class_uid: str
    sop_instance_uid: str
    study_uid: str
    series_uid: str
    calling_ae: str
    size: int


class StorageSCP:
    """Listens for C-STORE (and C-ECHO); each arrival is written to disk, then put on ``notify``."""

    def __init__(self, store: Path, ae_title: str, port: int, *, host: str = "0.0.0.0",
                 timeouts: Timeouts | None = None,
                 notify: queue.Queue | queue.SimpleQueue | None = None) -> None:
        self.store, self.ae_title, self.host, self.port = store, ae_title, host, port
        self.notify = notify
        self.timeouts = timeouts or Timeouts()
        self._server = None
        self._lock = threading.Lock()
        self.received_count = 0
        self.received_bytes = 0  # read by C-MOVE progress for its throughput figure

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> StorageSCP:
        if self._server is not None:
            return self
        storage = frozenset(cx.abstract_syntax for cx in AllStoragePresentationContexts)
        accepted = tuple(ACCEPTED_TRANSFER_SYNTAXES)
        problem = validate_ae_title(self.ae_title)
        if problem:
            raise ValueError(problem)
        self.store.mkdir(parents=True, exist_ok=True)
        self._server = LeanStorageServer(
            self.host, self.port, self.ae_title, self.timeouts,
            lambda sop: accepted if sop in storage else (), self._on_store)
        self.port = self._server.server_address[1]
        log.info("Storage SCP %s listening on %s:%s", self.ae_title, self.host, self.port)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            log.info("Storage SCP stopped")

    def _on_store(self, request: StoreRequest) -> int:
        """Server thread: never touches a widget, only the disk and the notify queue."""
        try:
            body = request.dataset
            study, series = _study_and_series(body, request.transfer_syntax)
            sop_uid = request.sop_instance_uid
            folder = self.store / _safe(study or "unknown-study") / _safe(series or "unknown-series")
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{_safe(sop_uid)}.dcm"
            tmp = path.with_suffix(".part")
            meta = fastpath.file_meta(
                request.sop_class_uid, sop_uid, request.transfer_syntax,
                str(PYNETDICOM_IMPLEMENTATION_UID), IMPLEMENTATION_VERSION, request.calling_ae)
            with open(tmp, "wb") as handle:
                # Written as received, never decoded and re-encoded: fast and byte-faithful.
                handle.write(_PREAMBLE)
                handle.write(meta)
                handle.write(body)
            size = len(_PREAMBLE) + len(meta) + len(body)
            os.replace(tmp, path)  # a half-written file never looks like a received instance
        except OSError as exc:
            log.error("Cannot store received instance: %s", exc)
            return 0xA700 if exc.errno == errno.ENOSPC else 0xC210
        except Exception:  # noqa: BLE001 - any decode problem becomes a DICOM failure status
            log.exception("Received instance could not be processed")
            return 0xC211
        record = Received(path, request.sop_class_uid, sop_uid, study, series,
                          request.calling_ae.strip(), size)
        with self._lock:
            self.received_count += 1
            self.received_bytes += size
        if self.notify is not None:
            self.notify.put(record)
        return 0x0000


_PREAMBLE = b"\x00" * 128 + b"DICM"


def _study_and_series(raw: bytes, transfer_syntax: str) -> tuple[str, str]:
    """Read the two UIDs without parsing the rest (pixel data above all)."""
    ts = UID(transfer_syntax)
    if not ts.is_deflated and ts.is_little_endian:
        try:
            found = fastpath.find_uids(raw, ts.is_implicit_VR)
            return found.get(fastpath.STUDY_UID, ""), found.get(fastpath.SERIES_UID, "")
        except fastpath.ScanError:
            pass  # unusual layout: let pydicom decode it below
    dataset = decode(BytesIO(raw), ts.is_implicit_VR, ts.is_little_endian, ts.is_deflated)
    return (str(dataset.get("StudyInstanceUID", "") or ""),
            str(dataset.get("SeriesInstanceUID", "") or ""))


def _safe(value: object) -> str:
    return _UNSAFE.sub("_", str(value)) or "_"
