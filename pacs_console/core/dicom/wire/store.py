"""C-STORE on whichever wire path serves it: the one entry point ``ops.store`` calls.

``send_events`` sends one planned batch: on the lean Upper Layer (``lean_store``) when it can
have an association, else through pynetdicom (TLS, or whatever the lean path hands back before
anything was sent). Both re-connect after a lost association and report every item as
``("file", (item, status or None, diagnosis or None, decompressed?))``, the association once
as ``("association", report)``: yielded to a caller that sends inline, or put on a worker
thread's queue by ``send_items``. pynetdicom and pydicom load only on the second path (and
pydicom on the first only for files that must be re-encoded).
"""

from __future__ import annotations

import threading
from collections.abc import Generator

from pacs_console.core.dicom.wire import lean_store
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError, Diagnosis

TYPE_CHECKING = False  # typing itself costs a command line ~3 ms to import
if TYPE_CHECKING:
    import queue

UNCOMPRESSED = lean_store.UNCOMPRESSED


def send_events(target: Target, contexts: list[tuple[str, list[str]]], items,
                stop: threading.Event, sent=None, before_pynetdicom=None
                ) -> Generator[tuple, None, None]:
    """Send ``items`` (``ops.store.StoreItem``) proposing ``contexts`` (SOP class, transfer
    syntaxes), yielding every item's report (and the association's once), whatever happens.
    Closed early, it ends the association it is on. ``sent()``, when given, runs once while
    the node stores the first instance (through pynetdicom: before it is sent).
    ``before_pynetdicom()``: called before pynetdicom or pydicom is asked for (for what the
    caller has left until then: its log, which they write to)."""
    if (yield from lean_store.batch_events(target, contexts, items, stop, sent,
                                           before_pynetdicom)):
        return
    if before_pynetdicom is not None:
        before_pynetdicom()
    yield from _send_pynetdicom(target, contexts, items, stop, sent)


def send_items(target: Target, contexts: list[tuple[str, list[str]]], items,
               out: queue.Queue, stop: threading.Event, sent=None, before_pynetdicom=None
               ) -> None:
    """``send_events`` onto ``out`` (a worker thread's queue)."""
    for event in send_events(target, contexts, items, stop, sent, before_pynetdicom):
        out.put(event)


def _send_pynetdicom(target: Target, contexts, items, stop: threading.Event, sent=None):
    from pynetdicom import _config, build_context

    from pacs_console.core.dicom.wire import association as assoc_mod

    # Send files straight from disk in chunks instead of parsing and re-encoding them: the
    # same bytes on the wire, much less Python work per image. Only exact matches use it.
    _config.STORE_SEND_CHUNKED_DATASET = True
    built = [build_context(sop, ts) for sop, syntaxes in contexts for ts in syntaxes]
    pending, losses, first = list(enumerate(items)), 0, True
    while pending:
        timing: dict = {}
        try:
            assoc = assoc_mod.connect(target, built, timing=timing)
        except ConsoleError as exc:
            for _, item in pending:
                yield "file", (item, None, exc.diagnosis, False)
            return
        try:
            if first:
                yield "association", assoc_mod.association_report(assoc, timing)
                first = False
                if sent is not None:
                    sent()
            sent_before, pending = yield from _send_all(assoc, target, pending, stop)
        finally:
            assoc_mod.release(assoc)
        # Lost: re-connect and go on, unless it keeps failing before anything is stored.
        losses = 1 if sent_before else losses + 1
        if pending and (losses >= lean_store.MAX_LOSSES_IN_A_ROW or stop.is_set()):
            diag = assoc_mod.diagnose.diagnose_abort("during C-STORE")
            for _, item in pending:
                yield "file", (item, None, diag, False)
            return


def _send_all(assoc, target: Target, pending, stop: threading.Event):
    """Send on one association; (anything stored?, what is left after losing it)."""
    from pacs_console.core.dicom.wire import association as assoc_mod

    accepted = {(str(cx.abstract_syntax), str(cx.transfer_syntax[0]))
                for cx in assoc.accepted_contexts}
    sent = False
    for pos, (n, item) in enumerate(pending):
        if stop.is_set():
            return sent, []
        try:
            status, decompressed = _send_one(assoc, item, accepted, n % 65535 + 1)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the rest
            yield "file", (item, None, lean_store.file_error(item, exc), False)
            continue
        if status is None:
            diag = assoc_mod.no_context(
                assoc, f"{assoc_mod.uid_name(item.sop_class)} in "
                f"{assoc_mod.uid_name(item.transfer_syntax)} or uncompressed")
            yield "file", (item, None, diag, False)
        elif not status:
            diag = (assoc_mod.diagnose.diagnose_abort("during C-STORE") if assoc.is_aborted
                    else Diagnosis("dimse-timeout", "No C-STORE response within "
                                   f"{target.timeouts.dimse:g} s",
                                   ("the node is slow to write or hung",),
                                   ("raise the DIMSE timeout",), {}))
            yield "file", (item, None, diag, decompressed)
        else:
            sent = True
            yield "file", (item, int(status.Status), None, decompressed)
        if not assoc.is_established:
            return sent, pending[pos + 1:]
    return sent, []


def _send_one(assoc, item, accepted: set[tuple[str, str]], msg_id: int):
    """Send one item; returns (status or None, decompressed?)."""
    from pydicom import dcmread
    from pydicom.uid import UID

    exact = (item.sop_class, item.transfer_syntax) in accepted
    if exact and lean_store.streamable(item):
        status = assoc.send_c_store(item.path, msg_id=msg_id)
        return status, False
    uncompressed_ok = any((item.sop_class, ts) in accepted for ts in UNCOMPRESSED)
    if not exact and not uncompressed_ok:
        return None, False
    ds = item.dataset if item.dataset is not None else dcmread(item.path, force=item.raw)
    if item.raw:
        ds.file_meta = ds.file_meta if "TransferSyntaxUID" in ds.file_meta else _meta(UNCOMPRESSED[1])
    decompressed = False
    if not exact and UID(item.transfer_syntax).is_compressed:
        # The peer takes only uncompressed data for this class: decode the pixels first.
        ds = ds.copy() if item.dataset is not None else ds
        from pacs_console.core.imaging.codecs import register

        register()  # 12-bit and lossless JPEG without GPL code
        ds.decompress(generate_instance_uid=False)
        decompressed = True
    return assoc.send_c_store(ds, msg_id=msg_id), decompressed


def _meta(ts: str):
    from pydicom.dataset import FileMetaDataset

    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ts
    return meta
