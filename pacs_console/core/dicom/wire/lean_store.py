"""C-STORE over the lean Upper Layer: files go from disk to the socket in PDU-sized slices."""

from __future__ import annotations

import threading
from collections.abc import Generator
from functools import partial

from pacs_console.core.dicom.diagnosis import diagnose
from pacs_console.core.dicom.wire import fastpath, pdu, ul
from pacs_console.core.dicom.wire.params import uid_name
from pacs_console.core.errors import ConsoleError, Diagnosis

C_STORE_RQ = 0x0001
UNCOMPRESSED = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")
DEFLATED = "1.2.840.10008.1.2.1.99"


# A batch re-connects after a lost association (a PACS restarting, a cut connection) and goes
# on with the next file; this many losses in a row without one stored file end it.
MAX_LOSSES_IN_A_ROW = 3


def batch_events(target, proposals: list[tuple[str, list[str]]], items, stop: threading.Event,
                 sent=None, before_pynetdicom=None) -> Generator[tuple, None, bool]:
    """Send ``items`` on lean associations proposing (SOP class, transfer syntaxes), yielding
    ``("association", report)`` once and ``("file", ...)`` per item; returns False (nothing
    sent) when pynetdicom should. Closed early, it aborts the association it is on.
    ``sent()``, when given, runs once while the node stores the first instance;
    ``before_pynetdicom()`` before pydicom re-encodes a file (it writes to the log)."""
    timing: dict = {}
    try:
        assoc = ul.open_lean(target, proposals, timing)
    except ul.Fallback:
        return False
    except ConsoleError as exc:  # rejected, or a broken protocol: asking again changes nothing
        for item in items:
            yield "file", (item, None, exc.diagnosis, False)
        return True
    first = _FirstWait(assoc, timing, sent)
    try:
        losses, pending = 0, list(enumerate(items))
        if not pending:
            yield first.event()
        while pending:
            sending = _send_on(assoc, target, pending, stop, None if first is None else first.run,
                               before_pynetdicom)
            if first is not None:  # the first association's report comes before its files
                sending, first = first.announce(sending), None
            lost, pending = yield from sending
            if lost is None:
                break
            assoc.abort()
            losses = losses + 1 if lost[1] else 1
            if not pending or stop.is_set():
                return True
            if losses >= MAX_LOSSES_IN_A_ROW:
                return (yield from _give_up(pending, lost[0]))
            try:
                assoc = ul.open_lean(target, proposals, {})
            except ConsoleError as exc:
                return (yield from _give_up(pending, exc.diagnosis))
            except ul.Fallback as exc:
                return (yield from _give_up(pending, Diagnosis(
                    "reconnect-failed", f"The association was lost and re-connecting failed: {exc}",
                    lost[0].causes, lost[0].actions, {})))
        assoc.release()
        return True
    finally:
        if not assoc.released:  # closed mid-batch (cancelled): the peer is told at once
            assoc.abort()


class _FirstWait:
    """What a batch does once, while the node stores its first instance rather than before
    that is sent: the association's report (and the module it loads) and the caller's
    ``sent()``. The report is still yielded before any file's event."""

    def __init__(self, assoc, timing: dict, sent) -> None:
        self.assoc, self.timing, self.sent, self.report = assoc, timing, sent, None

    def run(self) -> None:
        if self.report is None:
            self.report = self.assoc.report(self.timing)
            if self.sent is not None:
                self.sent()

    def event(self) -> tuple[str, dict]:
        self.run()  # at the latest now (nothing was sent before the first file's event)
        return "association", self.report

    def announce(self, events):
        """``events`` with ``("association", report)`` before the first of them (at their
        end when there is none)."""
        try:
            event = next(events)
        except StopIteration as done:
            yield self.event()
            return done.value
        yield self.event()
        yield event
        return (yield from events)


def _give_up(pending, diagnosis: Diagnosis):
    for _, item in pending:
        yield "file", (item, None, diagnosis, False)
    return True


def _send_on(assoc, target, pending, stop: threading.Event, waiting=None, before_pynetdicom=None):
    """Send ``pending`` (index, item) pairs on one association until done or lost;
    ``waiting()`` runs once the first of them is out (and the next read ahead);
    ``before_pynetdicom()`` before pydicom encodes one of them.

    Returns (None, []) when done, else ((diagnosis, lost-before-any-success?), the rest)."""
    accepted = {(cx.abstract_syntax, cx.transfer_syntax): cx.context_id for cx in assoc.accepted}
    first = True
    ahead = _ReadAhead(assoc, accepted)
    for pos, (n, item) in enumerate(pending):
        if stop.is_set():
            break
        try:
            payload = _payload(item, accepted, before_pynetdicom)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the rest
            yield "file", (item, None, file_error(item, exc), False)
            continue
        if payload is None:
            yield "file", (item, None, _no_context(assoc, item), False)
            continue
        context_id, data, decompressed = payload
        if not isinstance(data, bytes):
            data = ahead.take(item) or data
        meanwhile = partial(ahead.read, *pending[pos + 1]) if pos + 1 < len(pending) else None
        if waiting is not None:
            meanwhile = partial(_in_turn, meanwhile, waiting)
        try:
            status = _send(assoc, target, item, context_id, data, _message_id(n), meanwhile,
                           before_pynetdicom)
        except ul.Lost as exc:
            lost = _lost_diagnosis(exc, target)
            yield "file", (item, None, lost, decompressed)
            return (lost, first), pending[pos + 1:]
        except _Unreadable as exc:  # nothing of it was sent: the association goes on
            yield "file", (item, None, file_error(item, exc.__cause__ or exc), decompressed)
            continue
        first, waiting = False, None
        yield "file", (item, status, None, decompressed)
    return None, []


def _in_turn(*calls) -> None:
    for call in calls:
        if call is not None:
            call()


def _payload(item, accepted: dict, before_pynetdicom=None):
    """(context ID, the dataset as bytes or a path to stream, decompressed?) or None."""
    exact = accepted.get((item.sop_class, item.transfer_syntax))
    if exact is not None and streamable(item):
        return exact, item.path, False
    syntax = item.transfer_syntax if exact is not None else next(
        (ts for ts in UNCOMPRESSED if (item.sop_class, ts) in accepted), None)
    if syntax is None:
        return None
    if before_pynetdicom is not None:
        before_pynetdicom()
    from pydicom import dcmread
    from pydicom.uid import UID
    from pynetdicom.dsutils import encode

    ds = item.dataset if item.dataset is not None else dcmread(item.path, force=item.raw)
    decompressed = False
    if exact is None and UID(item.transfer_syntax).is_compressed:
        # The peer takes only uncompressed data for this class: decode the pixels first.
        ds = ds.copy() if item.dataset is not None else ds
        from pacs_console.core.imaging.codecs import register

        register()  # 12-bit and lossless JPEG without GPL code
        ds.decompress(generate_instance_uid=False)
        decompressed = True
    uid = UID(syntax)
    data = encode(ds, uid.is_implicit_VR, uid.is_little_endian, uid.is_deflated)
    if data is None:
        raise ValueError(f"the dataset cannot be encoded in {uid_name(syntax)}")
    return accepted[(item.sop_class, syntax)], data, decompressed


def streamable(item) -> bool:
    """Can the file's dataset go to the wire as it lies on disk? Not a bare dataset, and not a
    Deflated one: its stream may have odd length, which the wire must pad (PS3.5 A.5), so it
    is read (inflated) and deflated again, padded, by the encoder."""
    return item.path is not None and not item.raw and item.transfer_syntax != DEFLATED


def _message_id(n: int) -> int:
    """The Message ID of the ``n``-th item of a batch (1-65535, then round again)."""
    return n % 65535 + 1


def _command(item, msg_id: int) -> bytes:
    return pdu.encode_command({0x0002: item.sop_class, 0x0100: C_STORE_RQ, 0x0110: msg_id,
                              0x0700: 0, 0x0800: 0, 0x1000: item.sop_instance})


def _send(assoc, target, item, context_id: int, data, msg_id: int, meanwhile=None,
          before_pynetdicom=None) -> int:
    """Send one C-STORE-RQ and wait for its response; ``meanwhile()`` runs between the two
    (the peer is writing the instance: the next file is read and framed then, off the
    critical path). A file of an unusual file meta layout is encoded again by pydicom,
    ``before_pynetdicom()`` first."""
    if isinstance(data, bytes):
        assoc.send(context_id, _command(item, msg_id), data)
    elif not (_send_loaded(assoc, context_id, msg_id, data, item) if isinstance(data, _Loaded)
              else _send_file(assoc, context_id, _command(item, msg_id), data, item)):
        if before_pynetdicom is not None:
            before_pynetdicom()
        _send_encoded(assoc, context_id, _command(item, msg_id), item.path, item)
    if meanwhile is not None:
        meanwhile()
    while True:
        _, fields, _ = assoc.receive(target.timeouts.dimse)
        if fields.get(0x0100) == 0x8001 and fields.get(0x0120, msg_id) == msg_id:
            return int(fields.get(0x0900, 0xC000))


class _Unreadable(Exception):
    """The file could not be read (or re-encoded) before any of it was sent."""


class _Loaded:
    """A whole file read ahead: its C-STORE-RQ framed for the wire (``message``, with the
    presentation context and Message ID it was framed for), None when its file meta layout
    is unusual (it is encoded again in its turn), or why it could not be read."""

    __slots__ = ("item", "message", "framed_for", "error")

    def __init__(self, item, message: bytes | None = None, framed_for: tuple = (),
                 error: OSError | None = None) -> None:
        self.item, self.message, self.framed_for, self.error = item, message, framed_for, error


class _ReadAhead:
    """The next file, read and framed while the peer stores the current one: a file smaller
    than one send block that goes to the wire as it lies on disk. Its send block is free by
    then (``assoc.send`` returns once the socket took every byte); the framed message is a
    copy, so the block is free again for the file after it."""

    def __init__(self, assoc, accepted: dict) -> None:
        self.assoc, self.accepted, self.loaded = assoc, accepted, None

    def read(self, n: int, item) -> None:
        """Read and frame ``item``, the ``n``-th of its batch, when it can go from memory."""
        self.loaded = None
        context_id = self.accepted.get((item.sop_class, item.transfer_syntax))
        if context_id is None or not streamable(item) or item.size >= self.assoc._block_size():
            return
        try:
            with open(item.path, "rb") as fp:
                head = self.assoc.read_block(fp)
        except OSError as exc:
            self.loaded = _Loaded(item, error=exc)
            return
        if len(head) >= len(self.assoc.blocks[0]):
            return  # grew past a block since it was listed: streamed in its turn
        try:
            start = fastpath.dataset_start(head)
        except fastpath.ScanError:
            self.loaded = _Loaded(item)
            return
        msg_id = _message_id(n)
        message = self.assoc.framed(context_id, _command(item, msg_id), head[start:])
        self.loaded = _Loaded(item, message, (context_id, msg_id))

    def take(self, item) -> _Loaded | None:
        loaded, self.loaded = self.loaded, None
        return loaded if loaded is not None and loaded.item is item else None


def _send_loaded(assoc, context_id: int, msg_id: int, loaded: _Loaded, item) -> bool:
    """As ``_send_file``, from what was read ahead."""
    if loaded.error is not None:  # gone or unreadable since it was listed
        raise _Unreadable(str(loaded.error)) from loaded.error
    if loaded.message is None:
        return False
    if loaded.framed_for == (context_id, msg_id):
        assoc.send_framed(loaded.message)
        return True
    # framed for another turn (never on the one path that reads ahead): read again
    return _send_file(assoc, context_id, _command(item, msg_id), item.path, item)


def _send_file(assoc, context_id: int, command: bytes, path, item) -> bool:
    """The file's dataset as it lies on disk: read once into the association's block (a
    larger file is streamed block by block), the dataset found in the bytes read. False
    (nothing sent) when its file meta layout is unusual: it is to be encoded again."""
    try:
        fp = open(path, "rb")  # noqa: SIM115 - closed below, after the send
    except OSError as exc:  # gone or unreadable since it was listed
        raise _Unreadable(str(exc)) from exc
    with fp:
        try:
            head = assoc.read_block(fp)
            start = fastpath.dataset_start(head if len(head) < len(assoc.blocks[0])
                                           else head[:fastpath.META_WINDOW])
        except OSError as exc:
            raise _Unreadable(str(exc)) from exc
        except fastpath.ScanError:
            start = None
        if start is not None:
            if len(head) < len(assoc.blocks[0]):  # the whole file is in memory
                assoc.send(context_id, command, head[start:])
            else:
                fp.seek(start)
                assoc.send(context_id, command, fp)
            return True
    return False


def _send_encoded(assoc, context_id: int, command: bytes, path, item) -> None:
    """An unusual file meta layout: pydicom finds the dataset and it is encoded again."""
    try:
        import warnings

        from pydicom import dcmread
        from pydicom.uid import UID
        from pynetdicom.dsutils import encode

        uid = UID(item.transfer_syntax)
        with warnings.catch_warnings():  # pydicom's doubts about one file: not the terminal's
            warnings.simplefilter("ignore")
            data = encode(dcmread(path), uid.is_implicit_VR, uid.is_little_endian,
                          uid.is_deflated)
        if data is None:
            raise ValueError(f"the dataset cannot be encoded in {uid_name(item.transfer_syntax)}")
    except Exception as exc:  # noqa: BLE001 - whatever pydicom says, this one file failed
        raise _Unreadable(str(exc)) from exc
    assoc.send(context_id, command, data)


def _lost_diagnosis(exc: ul.Lost, target) -> Diagnosis:
    if exc.protocol:
        return pdu.ProtocolError(str(exc)).diagnosis
    if exc.timed_out:
        return Diagnosis("dimse-timeout", f"No C-STORE response within {target.timeouts.dimse:g} s",
                         ("the node is slow to write or hung",), ("raise the DIMSE timeout",), {})
    return diagnose.diagnose_abort("during C-STORE")


def file_error(item, exc: Exception) -> Diagnosis:
    return Diagnosis("store-file-error", f"Could not send {item.name}: {exc}",
                     ("the file is damaged or its pixel data cannot be decoded",),
                     ("check the file with a DICOM viewer",), {})


def _no_context(assoc, item) -> Diagnosis:
    proposed = [f"{uid_name(a)} ({a}) [{', '.join(uid_name(ts) for ts in syntaxes)}]"
                for a, syntaxes in assoc.proposed]
    returned = [f"{uid_name(cx['abstract_syntax'])}: {cx['result']}" for cx in assoc.rejected]
    returned += [f"{uid_name(cx.abstract_syntax)}: accepted {uid_name(cx.transfer_syntax)}"
                 for cx in assoc.accepted]
    base = diagnose.diagnose_no_context(proposed, returned)
    wanted = f"{uid_name(item.sop_class)} in {uid_name(item.transfer_syntax)} or uncompressed"
    return Diagnosis(base.code, f"The node accepted no presentation context for {wanted}",
                     base.causes, base.actions,
                     {"proposed": "; ".join(proposed), "returned": "; ".join(returned)})
