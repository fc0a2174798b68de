"""A lean DICOM Upper Layer requestor for the bulk paths: one socket, driven by the caller.

pynetdicom passes every PDU between its socket reactor, its DIMSE queue and the caller's
thread and builds a dataset for every command set; for 200 C-FIND matches or 200 CT images
that Python overhead, not the network, kept the console behind DCMTK. This client does only
the happy path (PS3.8 9.3): anything unexpected raises ``Fallback`` before work has begun, and
the caller redoes it through pynetdicom, whose richer state gives the precise diagnosis.
"""

from __future__ import annotations

import _socket
import time
from dataclasses import field

from pacs_console.core.dicom.diagnosis import diagnose
from pacs_console.core.dicom.wire import pdu
from pacs_console.core.dicom.wire.params import (
    IMPLEMENTATION_CLASS_UID as PYNETDICOM_IMPLEMENTATION_UID,
)
from pacs_console.core.dicom.wire.params import IMPLEMENTATION_VERSION, connect, set_nodelay
from pacs_console.core.dicom.wire.reader import Reader
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError
from pacs_console.core.records import record

APPLICATION_CONTEXT = pdu.APPLICATION_CONTEXT.encode()
_RESULTS = pdu.RESULTS
COMMAND_LIMIT = 64 << 10  # a command set is a few hundred bytes
MESSAGE_LIMIT = 256 << 20  # the largest dataset a requestor takes in one response
NO_DATASET = 0x0101


def _fill(source, buffer: bytearray) -> int:
    """Read into ``buffer`` until it is full or the source ends; the byte count."""
    view, got = memoryview(buffer), 0
    while got < len(buffer):
        n = source.readinto(view[got:])
        if not n:
            break
        got += n
    return got


class Fallback(Exception):
    """The lean path cannot go on; nothing was done that the full path could not redo.
    ``connect_error``: the OSError of a TCP connect that failed (refused, timed out, a name
    that does not resolve), for a caller that diagnoses it without connecting again."""

    def __init__(self, what: str, connect_error: OSError | None = None) -> None:
        super().__init__(what)
        self.connect_error = connect_error


class Lost(Exception):
    """The association broke after work began (closed, aborted or timed out)."""

    def __init__(self, what: str, *, aborted: bool = False, timed_out: bool = False,
                 released: bool = False, protocol: bool = False) -> None:
        super().__init__(what)
        self.aborted, self.timed_out, self.released = aborted, timed_out, released
        self.protocol = protocol  # the peer sent a malformed PDU; we aborted


@record
class Accepted:
    """A presentation context the peer accepted, with the transfer syntax it chose."""

    context_id: int
    abstract_syntax: str
    transfer_syntax: str


@record
class LeanAssociation:
    """An established association on one socket, driven by its caller (send, receive,
    release, abort)."""

    sock: _socket.socket
    target: Target
    peer_max_pdu: int = 0
    implementation_class_uid: str = ""
    implementation_version_name: str = ""
    async_window: tuple[int, int] = (1, 1)
    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    proposed: list[tuple[str, list[str]]] = field(default_factory=list)
    released: bool = False
    own_max_pdu: int = pdu.DEFAULT_MAX_PDU  # what we advertised: no P-DATA-TF may be larger
    message_limit: int = MESSAGE_LIMIT
    # Shared cap on dataset bytes held in memory (the SCP's bytes in flight): take(n) -> bool,
    # give(n). A message that does not fit is read to its end and dropped (``overflowed``).
    budget: object | None = None
    held: int = 0
    overflowed: bool = False
    deadline: float | None = None  # time.monotonic() by which the current read must be done
    # The file blocks sending reads into (the second only for files over one block).
    blocks: list = field(default_factory=lambda: [None, None], repr=False)
    gathered: int = 0  # dataset bytes of the message being received
    _reader = None  # the socket's reader.Reader, made by the first read (not a field)

    # -- sending ----------------------------------------------------------------------------
    def context_for(self, sop_class: str, syntaxes: tuple[str, ...] | None = None) -> Accepted | None:
        for cx in self.accepted:
            if cx.abstract_syntax == sop_class and (syntaxes is None or cx.transfer_syntax in syntaxes):
                return cx
        return None

    def send(self, context_id: int, command: bytes, dataset=None) -> None:
        """One DIMSE message: the command, then the dataset (bytes or a readable binary file
        positioned at the dataset's first byte), in as few system calls as the socket takes."""
        if dataset is None or isinstance(dataset, bytes | bytearray | memoryview):
            self._send_raw(self.framed(context_id, command, dataset))
            return
        parts = self._fragments(context_id, command, 0x03)
        # A file: read once into a block kept for the association (no copy per image, no
        # allocation per image), sent as it lies with the PDU headers beside it. Files larger
        # than a block go a block at a time; one block is read ahead to know the last one.
        block = self._block_size()
        current, ahead = self._block(0, block), None
        filled = _fill(dataset, current)
        while True:
            if filled < block:
                following = 0
            else:
                ahead = ahead or self._block(1, block)
                following = _fill(dataset, ahead)
            parts += self._fragments(context_id, memoryview(current)[:filled],
                                     0x00 if following else 0x02)
            # One system call (a gathered sendmsg measured slower against DCMTK's storescp).
            self._send_raw(b"".join(parts))
            if not following:
                return
            parts, filled = [], following
            current, ahead = ahead, current

    def framed(self, context_id: int, command: bytes, dataset=None) -> bytes:
        """One DIMSE message (the command, then the dataset's bytes) framed in P-DATA-TF PDUs
        and joined, as ``send`` puts it on the socket; ``send_framed`` sends it. Framed ahead,
        while the peer is busy with the previous message, it costs that message nothing."""
        parts = self._fragments(context_id, command, 0x03)
        if dataset is not None:
            parts += self._fragments(context_id, dataset, 0x02)
        return b"".join(parts)

    def send_framed(self, message: bytes) -> None:
        """A message ``framed`` on this association."""
        self._send_raw(message)

    def read_block(self, source) -> memoryview:
        """Fill the first send block from ``source``; a view of what was read (shorter than
        the block when the source ended). Valid until the next send or read_block."""
        block = self._block(0, self._block_size())
        return memoryview(block)[:_fill(source, block)]

    def _block_size(self) -> int:
        """Whole multiples of the fragment size, a few MB: one system call per block."""
        size = self._fragment_size()
        return size * max(1, (4 << 20) // size)

    def _block(self, which: int, size: int):
        """An anonymous mapping, not a bytearray: Python zero-fills a bytearray's few MB
        before the first read (~2 ms on the first image), where the system supplies a
        mapping's pages as the file's bytes first land in them (a CT image: an eighth)."""
        blocks = self.blocks
        if blocks[which] is None or len(blocks[which]) != size:
            import mmap

            blocks[which] = mmap.mmap(-1, size)
        return blocks[which]

    def _fragment_size(self) -> int:
        # 6 bytes of PDV header inside the PDU; unlimited peers still get 1 MiB slices so a
        # large image never needs one giant PDU.
        limit = self.peer_max_pdu or (1 << 20) + 6
        return max(limit - 6, 1)

    def _fragments(self, context_id: int, data, last_flags: int) -> list:
        """P-DATA-TF PDUs, one PDV each, as header and data views (never copied); the last
        carries ``last_flags``."""
        view, size = memoryview(data), self._fragment_size()
        parts = []
        for offset in range(0, max(len(view), 1), size):
            piece = view[offset:offset + size]
            flags = last_flags if offset + size >= len(view) else last_flags & 0x01
            parts.append(pdu.pdv_header(context_id, len(piece), flags))
            parts.append(piece)
        return parts

    # -- receiving --------------------------------------------------------------------------
    def receive(self, timeout: float) -> tuple[int, dict, bytes | None]:
        """The next DIMSE message: (context ID, command elements, dataset bytes or None)."""
        if self.sock.gettimeout() != timeout:  # setting it is a system call every time
            self.sock.settimeout(timeout)
        self.give_back()
        command, dataset = bytearray(), []
        self.gathered = 0
        context_id, fields, wants_dataset = 0, None, False
        while True:
            kind, body = self._pdu()
            if kind != pdu.P_DATA_TF:
                self._unexpected(kind, body)
            try:
                for context_id, flags, data in pdu.pdvs(body):
                    if flags & 0x01:
                        if fields is not None or len(command) + len(data) > COMMAND_LIMIT:
                            raise pdu.ProtocolError("a command set too large or out of order")
                        command += data
                        if flags & 0x02:
                            fields = pdu.decode_command(bytes(command))
                            wants_dataset = fields.get(0x0800, NO_DATASET) != NO_DATASET
                            if not wants_dataset:
                                return context_id, fields, None
                    else:
                        if fields is None:
                            raise pdu.ProtocolError("a dataset fragment before its command")
                        self._keep(dataset, data)
                        if flags & 0x02:
                            # The PDUs' own buffers, joined: the one copy after the socket's.
                            return context_id, fields, None if self.overflowed else b"".join(dataset)
            except pdu.ProtocolError as exc:
                self.abort()
                raise Lost(str(exc.what), aborted=True, protocol=True) from None

    def _keep(self, dataset: list, data) -> None:
        if self.overflowed:
            return
        if self.gathered + len(data) > self.message_limit:
            if self.budget is None:
                raise pdu.ProtocolError(f"a dataset over {self.message_limit} bytes")
            self.overflowed = True
        elif self.budget is not None:
            if not self.budget.take(len(data)):
                self.overflowed = True
            else:
                self.held += len(data)
        if self.overflowed:
            dataset.clear()
            self.give_back()
            self.overflowed = True
            return
        dataset.append(data)  # a view into its PDU's buffer (each PDU is read into its own)
        self.gathered += len(data)

    def give_back(self) -> None:
        """Return the bytes of the last message to the shared budget."""
        self.overflowed = False
        if self.held and self.budget is not None:
            self.budget.give(self.held)
        self.held = 0

    def _unexpected(self, kind: int, body: bytes) -> None:
        if kind == 0x07:
            raise Lost("the node aborted the association", aborted=True)
        if kind == 0x05:  # the peer wants to release mid-operation: answer, then report it
            self._send_raw(pdu.release_rp())
            raise Lost("the node released the association", released=True)
        self.abort()
        raise Lost(f"unexpected PDU type 0x{kind:02X}", aborted=True, protocol=True)

    def _pdu(self) -> tuple[int, bytes]:
        """One PDU, its length checked before it is read; a malformed one aborts."""
        try:
            return pdu.read(self._read, self.own_max_pdu)
        except pdu.ProtocolError as exc:
            self.abort()
            raise Lost(exc.what, aborted=True, protocol=True) from None

    def _read(self, n: int) -> bytearray:
        """Exactly ``n`` bytes, in a bytearray of their own (``reader.Reader``)."""
        if self._reader is None:
            self._reader = Reader(self.sock)
        try:
            return self._reader.read(n, self.deadline)
        except TimeoutError:
            raise Lost("no answer in time", timed_out=True) from None
        except EOFError:
            raise Lost("the node closed the connection") from None
        except OSError as exc:
            raise Lost(f"connection lost: {exc}") from None

    def _send_raw(self, data) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise Lost(f"connection lost while sending: {exc}") from None

    # -- ending -----------------------------------------------------------------------------
    def release(self) -> None:
        """A-RELEASE-RQ and wait for the RP; abort when the peer does not answer in time."""
        if self.released:
            return
        self.released = True
        try:
            self._send_raw(pdu.release_rq())
            self.sock.settimeout(self.target.timeouts.acse)
            while True:
                kind, _ = self._pdu()
                if kind in (0x06, 0x07):
                    break
        except Lost:
            self.abort()
        finally:
            self.sock.close()

    def abort(self) -> None:
        self.released = True
        self.give_back()
        try:
            self.sock.sendall(pdu.abort())
        except OSError:
            pass  # already gone: nothing left to tell the peer
        self.sock.close()

    def report(self, timing: dict | None = None) -> dict:
        """The same shape as association.association_report(), from what the A-ASSOCIATE-AC
        said (``lean_report``: loaded when a command asks, never at start-up)."""
        from pacs_console.core.dicom.wire.lean_report import report

        return report(self, timing)


def open_lean(target: Target, contexts: list[tuple[str, list[str]]],
              timing: dict | None = None) -> LeanAssociation:
    """Connect and negotiate; ``Fallback`` when pynetdicom should try (nothing answered yet,
    an abort), ``ConsoleError`` with the diagnosis when the node rejected the association or
    broke the protocol (aborted): trying again through pynetdicom would only repeat that."""
    timing = {} if timing is None else timing
    if not contexts or len(contexts) > 128:
        raise Fallback("context count")
    start = time.perf_counter()
    try:
        sock = connect(target.host, target.port, target.timeouts.connect)
    except OSError as exc:
        raise Fallback(str(exc), exc) from None
    set_nodelay(sock)
    timing["connect_ms"] = (time.perf_counter() - start) * 1000
    try:
        if target.tls is not None:
            from pacs_console.core.dicom.wire import tls

            context = tls.client_context(target.tls)
            sock = context.wrap_socket(sock, server_hostname=tls.server_name(target.tls, target.host))
        assoc = LeanAssociation(sock, target, proposed=list(contexts),
                                own_max_pdu=pdu.effective_max_pdu(target.max_pdu))
        start = time.perf_counter()
        assoc._send_raw(associate_rq(target, contexts))
        sock.settimeout(target.timeouts.acse)
        kind, body = pdu.read(assoc._read, assoc.own_max_pdu)
        if kind == pdu.ASSOCIATE_RJ:
            result, source, reason = pdu.decode_reason(body)
            raise ConsoleError(diagnose.diagnose_rejection(result, source, reason,
                                                           target.called_ae, target.calling_ae))
        if kind != pdu.ASSOCIATE_AC:
            raise Fallback(f"PDU 0x{kind:02X} instead of A-ASSOCIATE-AC")
        _accept(assoc, pdu.decode_associate(kind, body))
        timing["associate_ms"] = (time.perf_counter() - start) * 1000
    except pdu.ProtocolError:
        _send_abort(sock)
        raise
    except ConsoleError:
        sock.close()
        raise
    except (Lost, OSError, ValueError, Fallback) as exc:
        sock.close()
        raise Fallback(str(exc)) from None
    if not assoc.accepted:
        assoc.abort()
        raise Fallback("no presentation context accepted")
    return assoc


def _send_abort(sock: _socket.socket) -> None:
    try:
        sock.sendall(pdu.abort())
    except OSError:
        pass  # already gone
    sock.close()


def associate_rq(target: Target, contexts: list[tuple[str, list[str]]]) -> bytes:
    user = pdu.UserInfo(pdu.effective_max_pdu(target.max_pdu), str(PYNETDICOM_IMPLEMENTATION_UID),
                        IMPLEMENTATION_VERSION)
    return pdu.associate_rq(target.called_ae, target.calling_ae, contexts, user)


def _accept(assoc: LeanAssociation, ac: pdu.Associate) -> None:
    by_id = {2 * n + 1: cx for n, cx in enumerate(assoc.proposed)}
    for cx in ac.contexts:
        abstract, syntaxes = by_id.get(cx.id, ("", []))
        if cx.result == 0 and abstract and cx.transfer_syntaxes[0] in syntaxes:
            assoc.accepted.append(Accepted(cx.id, abstract, cx.transfer_syntaxes[0]))
            continue
        assoc.rejected.append({"abstract_syntax": abstract, "proposed": list(syntaxes),
                               "result": _RESULTS.get(cx.result, "Unknown")})
    user = ac.user
    assoc.peer_max_pdu = user.max_pdu
    assoc.implementation_class_uid = user.implementation_class_uid
    assoc.implementation_version_name = user.implementation_version_name
    assoc.async_window = user.async_window
