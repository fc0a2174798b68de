"""C-STORE of files, folders or datasets: exact contexts, uncompressed fallbacks, parallel sends.

Files with a Part 10 header are listed from their file meta read without pydicom
(``fastpath.read_meta``), and ``wire.store`` picks the wire path: a store of ordinary files
loads neither pydicom nor pynetdicom.
"""

from __future__ import annotations

import sys
import threading
import time
import warnings
from collections.abc import Generator, Iterable
from dataclasses import field
from pathlib import Path

from pacs_console.core.dicom.diagnosis.dimse_status import category, describe_status
from pacs_console.core.dicom.ops.results import OperationResult
from pacs_console.core.dicom.wire import fastpath
from pacs_console.core.dicom.wire.params import MAX_CONTEXTS
from pacs_console.core.dicom.wire.store import UNCOMPRESSED, send_events, send_items
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import Diagnosis
from pacs_console.core.records import record

TYPE_CHECKING = False  # typing itself costs a command line ~3 ms to import
if TYPE_CHECKING:
    import queue

    from pydicom import Dataset

EXPLICIT_VR_LE, IMPLICIT_VR_LE = UNCOMPRESSED
_SNIFF = 132  # imaging.header.SNIFF_BYTES: preamble + "DICM" (a test keeps the two equal)
_META_UIDS = (0x00020002, 0x00020003, 0x00020010)


def _is_dataset(value) -> bool:
    """A pydicom Dataset? (None can exist unless pydicom is loaded: never load it to ask.)"""
    pydicom = sys.modules.get("pydicom")
    return pydicom is not None and isinstance(value, pydicom.Dataset)


@record
class StoreItem:
    """One instance to send: a file (Part 10 or a bare dataset) or a dataset in memory."""

    sop_class: str
    sop_instance: str
    transfer_syntax: str
    size: int
    path: Path | None = None
    dataset: Dataset | None = None
    raw: bool = False  # a file without File Meta Information: read and send as a dataset

    @property
    def name(self) -> str:
        return str(self.path) if self.path else self.sop_instance


@record(frozen=True)
class StoreProgress:
    """One instance answered (or failed), with the counts so far."""

    path: str
    sop_instance_uid: str
    status: int | None
    bytes: int
    images_done: int
    images_total: int
    elapsed_s: float
    meaning: str = ""


@record
class StoreResult(OperationResult):
    """A C-STORE run: counts, throughput and every file's status."""

    kind = "store"

    sent: int = 0
    failed: int = 0
    warnings: int = 0
    decompressed: int = 0
    bytes_sent: int = 0
    files: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)

    @property
    def images_per_s(self) -> float:
        return self.sent / (self.duration_ms / 1000) if self.duration_ms > 0 else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes_sent / 1e6 / (self.duration_ms / 1000) if self.duration_ms > 0 else 0.0

    @property
    def outcome(self) -> str:
        if self.cancelled:
            return "cancelled"
        if self.failed or (self.sent == 0 and self.diagnosis):
            return "failed" if not self.sent else "warning"
        return "warning" if self.warnings or self.skipped else "ok"

    def metrics(self) -> dict:
        return {"sent": self.sent, "failed": self.failed, "warnings": self.warnings,
                "skipped": len(self.skipped), "decompressed": self.decompressed,
                "bytes_sent": self.bytes_sent, "images_per_s": round(self.images_per_s, 2),
                "mb_per_s": round(self.mb_per_s, 3)}

    def to_dict(self) -> dict:
        return {**self.metrics(), "duration_ms": round(self.duration_ms, 3), "files": self.files,
                "skipped_files": self.skipped, "cancelled": self.cancelled,
                "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
                "association": self.association, "parameters": self.parameters}

    def summary(self) -> str:
        return (f"C-STORE: {self.sent} sent, {self.failed} failed, {self.warnings} warnings, "
                f"{len(self.skipped)} skipped; {self.images_per_s:.1f} images/s, "
                f"{self.mb_per_s:.1f} MB/s")


def _from_file(path: Path, before_pynetdicom=None) -> StoreItem:
    import stat

    st = path.stat()  # before opening: opening a pipe would wait for a writer
    size = st.st_size
    if not stat.S_ISREG(st.st_mode):
        raise ValueError("not a regular file (a device, pipe or socket)")
    with open(path, "rb") as fh:  # a zero-filled or random file is refused after 132 bytes
        head = fh.read(_SNIFF)
        if head[128:132] != b"DICM":  # (a Part 10 file needs no more sniffing)
            from pacs_console.core.imaging.header import plausible_start

            if not plausible_start(head, size):
                raise ValueError("no DICM prefix and no plausible first element")
        fh.seek(0)
        try:
            meta = fastpath.read_meta(fh)
        except fastpath.ScanError:
            meta = {}
    if all(meta.get(tag) for tag in _META_UIDS):
        return StoreItem(meta[0x00020002], meta[0x00020003], meta[0x00020010], size, path)
    if before_pynetdicom is not None:
        before_pynetdicom()
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError
    from pydicom.filereader import read_file_meta_info

    try:
        meta = read_file_meta_info(path)
        return StoreItem(str(meta.MediaStorageSOPClassUID), str(meta.MediaStorageSOPInstanceUID),
                         str(meta.TransferSyntaxUID), size, path)
    except (InvalidDicomError, AttributeError, KeyError):
        pass
    # Some modalities write bare datasets without the Part 10 header; pydicom warns while it
    # guesses at other files' bytes, which is noise here: the UIDs below decide.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = dcmread(path, force=True, specific_tags=["SOPClassUID", "SOPInstanceUID"])
    if "SOPClassUID" not in ds or "SOPInstanceUID" not in ds:
        raise InvalidDicomError("no DICOM header and no SOP Class/Instance UID")
    return StoreItem(str(ds.SOPClassUID), str(ds.SOPInstanceUID), IMPLICIT_VR_LE, size,
                     path, raw=True)


def collect(sources: Iterable, before_pynetdicom=None) -> tuple[list[StoreItem], list[dict]]:
    """Files (folders recursively) and datasets into items; non-DICOM files skipped with a reason.
    ``before_pynetdicom()``: called before pydicom reads a file the lean reader cannot list."""
    items: list[StoreItem] = []
    skipped: list[dict] = []
    if isinstance(sources, str | Path) or _is_dataset(sources):
        sources = [sources]
    for source in sources:
        if _is_dataset(source):
            meta = getattr(source, "file_meta", None)
            ts = str(meta.TransferSyntaxUID) if meta and "TransferSyntaxUID" in meta else EXPLICIT_VR_LE
            size = len(source.PixelData) if "PixelData" in source else 0
            items.append(StoreItem(str(source.SOPClassUID), str(source.SOPInstanceUID), ts,
                                   size, dataset=source))
            continue
        path = Path(source)
        if path.is_dir():
            from pacs_console.core.imaging.sources import walk_folder

            files = walk_folder(path)  # no symlinked folders followed, unreadable ones skipped
        else:
            files = [path]
        for file in files:
            try:
                with warnings.catch_warnings():  # pydicom's doubts about one file: not stderr
                    warnings.simplefilter("ignore")
                    items.append(_from_file(file, before_pynetdicom))
            except Exception as exc:  # noqa: BLE001 - one bad file is skipped with its reason
                skipped.append({"path": str(file), "reason": f"not a DICOM file: {exc}"})
    return items, skipped


def plan_batches(items: list[StoreItem]
                 ) -> list[tuple[list[tuple[str, list[str]]], list[StoreItem]]]:
    """(contexts, items) per association: one context per (SOP class, syntax) present plus
    uncompressed, as (SOP class, [transfer syntax])."""
    by_class: dict[str, list[StoreItem]] = {}
    for item in items:
        by_class.setdefault(item.sop_class, []).append(item)
    batches: list[tuple[list, list[StoreItem]]] = []
    contexts: list = []
    members: list[StoreItem] = []
    for sop, group in by_class.items():
        pairs = list(dict.fromkeys([*(i.transfer_syntax for i in group), *UNCOMPRESSED]))
        if contexts and len(contexts) + len(pairs) > MAX_CONTEXTS:
            batches.append((contexts, members))
            contexts, members = [], []
        contexts += [(sop, [ts]) for ts in pairs[:MAX_CONTEXTS]]
        members += group
    if members:
        batches.append((contexts, members))
    return batches


class _Worker(threading.Thread):
    def __init__(self, target: Target, batches, out: queue.SimpleQueue,
                 stop: threading.Event, sent=None, before_pynetdicom=None) -> None:
        super().__init__(daemon=True, name="c-store")
        self.target, self.batches, self.out, self.stop = target, batches, out, stop
        self.sent, self.before_pynetdicom = sent, before_pynetdicom

    def run(self) -> None:
        try:
            for n, (contexts, items) in enumerate(self.batches):
                if self.stop.is_set():
                    break
                send_items(self.target, contexts, items, self.out, self.stop,
                           self.sent if n == 0 else None, self.before_pynetdicom)
        finally:
            self.out.put(("done", None))


def _inline(target: Target, batches, stop: threading.Event, sent=None, before_pynetdicom=None):
    """One association's events, sent from this thread: no worker, no hand-off per image."""
    for n, (contexts, items) in enumerate(batches):
        if stop.is_set():
            break
        yield from send_events(target, contexts, items, stop, sent if n == 0 else None,
                               before_pynetdicom)


def _threaded(target: Target, shares, stop: threading.Event, sent=None, before_pynetdicom=None):
    """Parallel associations, one worker thread each; their events as they come."""
    import queue

    out: queue.SimpleQueue = queue.SimpleQueue()
    workers = [_Worker(target, plan_batches(share), out, stop, sent if n == 0 else None,
                       before_pynetdicom) for n, share in enumerate(shares)]
    for worker in workers:
        worker.start()
    running = len(workers)
    try:
        while running:
            event = out.get()
            if event[0] == "done":
                running -= 1
            else:
                yield event
    finally:
        if running:
            stop.set()
        for worker in workers:
            worker.join(timeout=target.timeouts.dimse + target.timeouts.acse)


def store(target: Target, paths_or_datasets, *, parallel: int = 1, sent=None,
          before_pynetdicom=None) -> Generator[StoreProgress, None, StoreResult]:
    """Send everything, yielding progress per instance; returns a StoreResult. ``sent()``,
    when given, runs once while the node stores the first instance: work the caller needs
    later (the evidence save) fills a wait instead of following the last answer.
    ``before_pynetdicom()``, when given, runs before pydicom or pynetdicom is first asked for
    (a file the lean paths cannot read or send as it is, TLS, a peer the lean path hands over),
    from whichever thread asks: for what the caller has left until then (its log)."""
    start = time.perf_counter()
    items, skipped = collect(paths_or_datasets, before_pynetdicom)
    result = StoreResult(skipped=skipped, target=target, parameters={
        "parallel": parallel, "sources": [str(s) for s in (
            [paths_or_datasets] if isinstance(paths_or_datasets, str | Path) else [
                p for p in paths_or_datasets if not _is_dataset(p)])][:20],
        "instances": len(items)})
    if not items:
        result.diagnosis = Diagnosis("nothing-to-send", "No DICOM instances to send",
                                     ("the selection holds no DICOM files",),
                                     ("choose DICOM files or a folder that contains them",),
                                     {"skipped": str(len(skipped))})
        return result
    workers_n = max(1, min(parallel, len(items)))
    shares = [items[i::workers_n] for i in range(workers_n)]
    stop = threading.Event()
    events = (_inline(target, plan_batches(items), stop, sent, before_pynetdicom)
              if workers_n == 1 else _threaded(target, shares, stop, sent, before_pynetdicom))
    done, finished = 0, False
    try:
        for kind, payload in events:
            if kind == "association":
                result.association = result.association or payload
                continue
            item, status, diag, decompressed = payload
            done += 1
            meaning = _record(result, item, status, diag, decompressed)
            yield StoreProgress(item.name, item.sop_instance, status, item.size, done, len(items),
                                time.perf_counter() - start, meaning)
        finished = True
    finally:
        if not finished:
            result.cancelled = True
            stop.set()
        events.close()  # inline: aborts the association; threaded: joins the workers
        result.duration_ms = (time.perf_counter() - start) * 1000
    return result


def _record(result: StoreResult, item: StoreItem, status, diag, decompressed) -> str:
    entry = {"path": item.name, "sop_instance_uid": item.sop_instance,
             "sop_class": item.sop_class, "transfer_syntax": item.transfer_syntax,
             "status": status, "decompressed": decompressed}
    if status is None:
        result.failed += 1
        meaning = diag.what if diag else "not sent"
        entry["diagnosis"] = diag.to_dict() if diag else None
        result.diagnosis = result.diagnosis or diag
    else:
        meaning, status_diag = describe_status("store", status)
        kind = category(status)
        if kind == "failure":
            result.failed += 1
            result.diagnosis = result.diagnosis or status_diag
        else:
            result.sent += 1
            result.bytes_sent += item.size
            if kind == "warning":
                result.warnings += 1
    # Files converted for the peer, whatever it answered: the count matches the files' flags.
    result.decompressed += int(bool(decompressed))
    entry["meaning"] = meaning
    result.files.append(entry)
    return meaning
