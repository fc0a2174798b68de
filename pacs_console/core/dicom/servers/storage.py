"""The console's own Storage SCP: receives C-MOVE/C-STORE results into the local store."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable
from io import BytesIO
from pathlib import Path

from pacs_console.core import safepath
from pacs_console.core.dicom.servers.serving import ServingMixin
from pacs_console.core.dicom.wire import fastpath
from pacs_console.core.dicom.wire.lean_scp import LeanStorageServer, Limits, StoreRequest
from pacs_console.core.dicom.wire.params import (
    IMPLEMENTATION_CLASS_UID as PYNETDICOM_IMPLEMENTATION_UID,
)
from pacs_console.core.dicom.wire.params import (
    IMPLEMENTATION_VERSION,
    STORAGE_SOP_CLASSES,
    Timeouts,
    validate_ae_title,
)
from pacs_console.core.records import record

log = logging.getLogger(__name__)

# Accept compressed data as it comes: the viewer decodes it, re-encoding would waste time.
ACCEPTED_TRANSFER_SYNTAXES = [
    "1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203",
]
DEFAULT_MIN_FREE = 200 << 20  # below this much free disk space, answer 0xA700
# Failure statuses (0xC000 range, PS3.4 B.2.3) for what was sent, with an Error Comment.
CANNOT_PARSE, WRONG_SOP_CLASS, WRONG_SOP_INSTANCE = 0xC211, 0xC212, 0xC213
UNSAFE_NAME = 0xC214  # a UID that would steer the file outside the store (safepath refused it)


@record(frozen=True)
class Received:
    """One stored instance, as handed to the GUI bridge."""

    path: Path | None  # None when ``examined`` took it in memory (never written)
    sop_class_uid: str
    sop_instance_uid: str
    study_uid: str
    series_uid: str
    calling_ae: str
    size: int
    examined: object = None  # what the SCP's ``examine`` made of it


class StorageSCP(ServingMixin):
    """Listens for C-STORE (and C-ECHO); each arrival is written to disk, then put on ``notify``."""

    def __init__(self, store: Path, ae_title: str, port: int, *, host: str = "0.0.0.0",
                 timeouts: Timeouts | None = None,
                 notify: queue.Queue | queue.SimpleQueue | None = None,
                 known_aes: Callable[[], Iterable[str]] | None = None,
                 limits: Limits | None = None, min_free: int = DEFAULT_MIN_FREE,
                 examine: Callable[[bytes, str], object] | None = None) -> None:
        """``known_aes`` lists the calling AEs allowed to store (None: any calling AE).
        ``port`` 0 takes any free port; ``port`` is the bound one once started.
        ``examine(dataset, transfer_syntax)``, when given, sees each instance that passed the
        checks; when it returns something (not None) the instance is not written to disk and
        the Received record carries it (an integrity check that needs only a digest)."""
        self.store, self.ae_title, self.host, self.port = store, ae_title, host, port
        self.any_port, self._bound = port == 0, 0
        self.notify = notify
        self.timeouts = timeouts or Timeouts()
        self.known_aes, self.limits, self.min_free = known_aes, limits or Limits(), min_free
        self.examine = examine
        self._expected: set[str] = set()
        self._server = None
        self._lock = threading.Lock()
        self.received_count = 0
        self.received_bytes = 0  # read by C-MOVE progress for its throughput figure

    @property
    def accepts_any(self) -> bool:
        return self.known_aes is None

    def expect(self, ae_title: str) -> None:
        """Accept ``ae_title`` too from now on (the node a C-MOVE was just sent to)."""
        self._expected.add(ae_title.strip())

    def _accepts(self, calling_ae: str) -> bool:
        if self.known_aes is None:
            return True
        calling = calling_ae.strip()
        if calling in self._expected:
            return True
        try:
            return calling in {str(ae).strip() for ae in self.known_aes()}
        except Exception:  # noqa: BLE001 - an unreadable address book refuses, never crashes
            log.exception("Storage SCP: cannot read the accepted AE titles")
            return False

    def start(self) -> StorageSCP:
        if self._server is not None:
            return self
        storage = STORAGE_SOP_CLASSES
        accepted = tuple(ACCEPTED_TRANSFER_SYNTAXES)
        problem = validate_ae_title(self.ae_title)
        if problem:
            raise ValueError(problem)
        self.store.mkdir(parents=True, exist_ok=True)
        def listen(port: int):
            return LeanStorageServer(self.host, port, self.ae_title, self.timeouts,
                                     lambda sop: accepted if sop in storage else (),
                                     self._on_store, limits=self.limits, accept=self._accepts)

        try:
            self._server = listen(self.port)
        except OSError:
            if not (self.any_port and self.port == self._bound):
                raise
            # "Any free port" restarted keeps the port the remote was told while it is free.
            self._server = listen(0)
        self.port = self._bound = self._server.server_address[1]
        log.info("Storage SCP %s listening on %s:%s", self.ae_title, self.host, self.port)
        return self

    def _stopped(self, server) -> None:
        log.info("Storage SCP stopped")

    def _on_store(self, request: StoreRequest) -> int | tuple[int, str]:
        """Server thread: never touches a widget, only the disk and the notify queue."""
        body = request.dataset
        try:
            identity = _identity(body, request.transfer_syntax)
        except Exception as exc:  # noqa: BLE001 - whatever was sent, the answer is a status
            log.warning("Refused a C-STORE from %s: the dataset does not parse (%s)",
                        request.calling_ae, exc)
            return CANNOT_PARSE, f"dataset does not parse: {exc}"
        problem = _mismatch(identity, request)
        if problem:
            log.warning("Refused a C-STORE from %s: %s", request.calling_ae, problem[1])
            return problem
        examined = self.examine(body, request.transfer_syntax) if self.examine else None
        if examined is not None:
            return self._received(Received(
                None, request.sop_class_uid, request.sop_instance_uid,
                identity.get("study", ""), identity.get("series", ""),
                request.calling_ae.strip(), len(body), examined))
        try:
            if _free_bytes(self.store) - len(body) < self.min_free:
                log.error("Storage SCP: refused an instance, the disk is nearly full")
                return 0xA700, "receiver's disk is nearly full"
        except OSError:
            pass  # cannot tell: the write below says if it fails
        try:
            study, series = identity.get("study", ""), identity.get("series", "")
            sop_uid = request.sop_instance_uid
            path = safepath.instance_path(self.store, study, series, sop_uid)
            meta = fastpath.file_meta(
                request.sop_class_uid, sop_uid, request.transfer_syntax,
                str(PYNETDICOM_IMPLEMENTATION_UID), IMPLEMENTATION_VERSION, request.calling_ae)
            # Written as received, never decoded and re-encoded: fast and byte-faithful.
            size = write_file(path, (_PREAMBLE, meta, body))
        except safepath.UnsafePath as exc:
            log.error("Refused a received instance: %s", exc)
            return UNSAFE_NAME, "file name would leave the receiver's store"
        except OSError as exc:
            log.error("Cannot store received instance: %s", exc)
            return 0xA700 if exc.errno == errno.ENOSPC else 0xC210
        except Exception:  # noqa: BLE001 - any decode problem becomes a DICOM failure status
            log.exception("Received instance could not be processed")
            return 0xC211
        return self._received(Received(path, request.sop_class_uid, sop_uid, study, series,
                                       request.calling_ae.strip(), size))

    def _received(self, record: Received) -> int:
        with self._lock:
            self.received_count += 1
            self.received_bytes += record.size
        if self.notify is not None:
            self.notify.put(record)
        return 0x0000


_PREAMBLE = b"\x00" * 128 + b"DICM"
_CREATE = (os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
           | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))


def write_file(path: Path, parts) -> int:
    """``parts`` written to ``path`` through ``path.part`` renamed into place, so a half-written
    file never looks like a received instance; its folders are made when missing. One gathered
    write where the system has it; the byte count."""
    tmp = path.with_suffix(".part")
    try:
        fd = os.open(tmp, _CREATE, 0o644)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, _CREATE, 0o644)
    views = [memoryview(part) for part in parts]
    total = sum(len(view) for view in views)
    try:
        try:
            while views:
                done = os.writev(fd, views) if _WRITEV else os.write(fd, views[0])
                if not done:
                    raise OSError(errno.EIO, "nothing written")
                while views and done >= len(views[0]):
                    done -= len(views.pop(0))
                if done:
                    views[0] = views[0][done:]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # a disk that filled up keeps no half-written part
        raise
    return total


_WRITEV = hasattr(os, "writev")  # not on Windows


def _free_bytes(folder: Path) -> int:
    """Free space for an unprivileged writer, as shutil.disk_usage says (without importing
    shutil, its archive modules and their codecs, into every command that receives)."""
    if hasattr(os, "statvfs"):
        st = os.statvfs(folder)
        return st.f_bavail * st.f_frsize
    import shutil

    return shutil.disk_usage(folder).free
# Deflated Explicit VR Little Endian and Explicit VR Big Endian: read through pydicom.
_NOT_PLAIN_LITTLE_ENDIAN = frozenset({"1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"})


def _identity(raw: bytes, transfer_syntax: str) -> dict[str, str]:
    """SOP class and instance, study and series UIDs; raises when the bytes are no dataset.

    Little endian data is stepped over element by element to its end (values skipped, pixel
    data never copied), so truncated data is caught too; other syntaxes go through pydicom.
    """
    if not raw:
        raise ValueError("the dataset is empty")
    if transfer_syntax not in _NOT_PLAIN_LITTLE_ENDIAN:  # every syntax the SCP accepts but two
        found = fastpath.walk(raw, transfer_syntax == "1.2.840.10008.1.2")
        return {"class": found.get(fastpath.SOP_CLASS_UID, ""),
                "instance": found.get(fastpath.SOP_INSTANCE_UID, ""),
                "study": found.get(fastpath.STUDY_UID, ""),
                "series": found.get(fastpath.SERIES_UID, "")}
    from pydicom.uid import UID
    from pynetdicom.dsutils import decode

    ts = UID(transfer_syntax)
    dataset = decode(BytesIO(raw), ts.is_implicit_VR, ts.is_little_endian, ts.is_deflated)
    return {"class": str(dataset.get("SOPClassUID", "") or ""),
            "instance": str(dataset.get("SOPInstanceUID", "") or ""),
            "study": str(dataset.get("StudyInstanceUID", "") or ""),
            "series": str(dataset.get("SeriesInstanceUID", "") or "")}


def _mismatch(identity: dict[str, str], request: StoreRequest) -> tuple[int, str] | None:
    """A failure status when the dataset is not the instance the request announced."""
    if identity["class"] != request.sop_class_uid.strip():
        return WRONG_SOP_CLASS, (f"dataset SOP Class UID {identity['class'][:64] or 'missing'} "
                                 "differs from the request's")
    if identity["instance"] != request.sop_instance_uid.strip():
        return WRONG_SOP_INSTANCE, (f"dataset SOP Instance UID {identity['instance'][:64] or 'missing'}"
                                    " differs from the request's")
    return None

