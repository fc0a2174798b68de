"""One association as it passed between two nodes: PDUs in, a timeline and a summary out.

Bytes are fed per direction (``RQ`` from the requestor, ``AC`` from the acceptor) as they
arrive; P-DATA fragments are reassembled into DIMSE command sets (decoded without pydicom)
and, for datasets, into a bounded prefix for the identifiers plus a byte count. Anything
malformed becomes a finding of this association and stops decoding that direction only.
"""

from __future__ import annotations

import time

from pacs_console.core.dicom.diagnosis.dimse_status import meaning
from pacs_console.core.dicom.wire import pdu
from pacs_console.core.dicom.wire.pdu import decode_command
from pacs_console.core.errors import Diagnosis
from pacs_console.core.relay.identify import PREFIX, header, identifiers
from pacs_console.core.relay.stream import PduStream

RQ, AC = "rq", "ac"
COMMAND_LIMIT = 64 << 10  # a command set is a few hundred bytes
MAX_MESSAGES = 20000  # requests kept per association (beyond: counted only)
MAX_EVENTS = 50000
HEADER_BUDGET = 16 << 20  # dataset headers held undecoded per association; beyond: decoded now
COMMANDS = {0x0001: "C-STORE", 0x0010: "C-GET", 0x0020: "C-FIND", 0x0021: "C-MOVE",
            0x0030: "C-ECHO", 0x0FFF: "C-CANCEL", 0x0100: "N-EVENT-REPORT", 0x0110: "N-GET",
            0x0120: "N-SET", 0x0130: "N-ACTION", 0x0140: "N-CREATE", 0x0150: "N-DELETE"}
NO_DATASET = 0x0101


def command_name(field: int) -> str:
    name = COMMANDS.get(field & 0x7FFF, f"0x{field & 0x7FFF:04X}")
    return f"{name}-{'RSP' if field & 0x8000 else 'RQ'}"


class _Half:
    """What one direction has half received: a command set, then perhaps its dataset."""

    def __init__(self) -> None:
        self.command = bytearray()
        self.fields: dict | None = None
        self.prefix = bytearray()
        self.size = 0
        self.context = 0
        self.started = 0.0


class Conversation:
    def __init__(self, client: str = "", server: str = "", *, resync: bool = False,
                 clock=time.time) -> None:
        self.client, self.server, self.clock = client, server, clock
        self.started: float | None = None
        self.ended: float | None = None
        self.calling_ae = self.called_ae = ""
        self.result = "no association"
        self.proposed: dict[int, tuple[str, list[str]]] = {}
        self.answers: dict[int, tuple[int, str]] = {}  # id -> (result, transfer syntax)
        self.rejection: tuple[int, int, int] | None = None
        self.aborted_by: tuple[str, int, int] | None = None
        self.released = False
        self.events: list[dict] = []
        self.events_dropped = 0
        self.messages: list[dict] = []
        self.messages_dropped = 0
        self.pending: dict[int, dict] = {}  # requests by message ID awaiting their response
        self.problems: list[Diagnosis] = []
        self.bytes = {RQ: 0, AC: 0}
        self.pdus = {RQ: 0, AC: 0}
        self.streams = {RQ: PduStream(resync=resync), AC: PduStream(resync=resync)}
        self.halves = {RQ: _Half(), AC: _Half()}
        self.closed = False
        self.mid_association = resync
        self.healing = resync  # a capture: a decode failure means a false PDU boundary
        self.orphans: dict[int, tuple[str, dict, dict, float]] = {}  # responses seen first
        self.held = 0  # bytes of dataset headers waiting for resolve()
        self.tls: dict[str, str] = {}  # side ("modality", "PACS") -> "TLSv1.3 <cipher>"

    # -- input --------------------------------------------------------------------------------
    def feed(self, direction: str, data, when: float | None = None) -> None:
        """Bytes seen from ``direction``; never raises (a decode failure becomes a finding)."""
        when = self.clock() if when is None else when
        if self.started is None:
            self.started = when
        self.ended = when
        self.bytes[direction] += len(data)
        stream = self.streams[direction]
        had_error = stream.error is not None
        for kind, body in stream.feed(data):
            self.pdus[direction] += 1
            try:
                self._pdu(direction, kind, body, when)
            except Exception as exc:  # noqa: BLE001 - the association's finding, not a crash
                self._broken(direction, exc)
                break
        if stream.error is not None and not had_error:
            self._broken(direction, stream.error)

    def tls_event(self, side: str, version: str, cipher: str) -> None:
        """The TLS handshake with one side succeeded (the relay decrypts and re-encrypts)."""
        self.tls[side] = f"{version} {cipher}".strip()
        self._event("", "TLS", f"TLS with the {side}: {self.tls[side]}")

    def gap(self, direction: str) -> None:
        self.streams[direction].gap()
        self.halves[direction] = _Half()
        self._event(direction, "gap", "bytes missing from the capture; decoding resumes at the next PDU")

    def close(self, how: str = "connection closed", when: float | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        self.ended = self.clock() if when is None else when
        for direction, half in list(self.halves.items()):
            if half.fields is not None and not int(half.fields.get(0x0100, 0) or 0) & 0x8000:
                self._message(direction, half, self.ended, cut=True)  # cut off mid-dataset
        if self.result in ("accepted", "releasing"):
            self.result = "released" if self.released else "closed without release"
        self._event("", "close", how)

    def _broken(self, direction: str, exc: Exception) -> None:
        stream = self.streams[direction]
        if self.healing and stream.resyncs < 1000 and stream.error is None:
            stream.gap()
            self.halves[direction] = _Half()
            self._event(direction, "resync", "no PDU boundary here; looking for the next one")
            return
        diagnosis = getattr(exc, "diagnosis", None) or Diagnosis(
            "decode-failed", f"Could not decode what the {self._who(direction)} sent: "
            f"{type(exc).__name__}: {str(exc)[:200]}",
            ("a malformed or unusual PDU",), ("show the saved trace to the vendor",), {})
        self.problems.append(Diagnosis(diagnosis.code, f"From the {self._who(direction)}: "
                                       + diagnosis.what, diagnosis.causes, diagnosis.actions,
                                       dict(diagnosis.evidence)))
        self.streams[direction].error = self.streams[direction].error or pdu.ProtocolError(str(exc))
        self._event(direction, "decode-failed", diagnosis.what)

    @staticmethod
    def _who(direction: str) -> str:
        return "requestor (modality)" if direction == RQ else "acceptor (PACS)"

    def _event(self, direction: str, kind: str, text: str, **extra) -> None:
        if len(self.events) >= MAX_EVENTS:
            self.events_dropped += 1
            return
        at = (self.ended or 0.0) - (self.started or 0.0)
        self.events.append({"t": round(at, 4), "from": direction, "kind": kind, "text": text,
                            **extra})

    # -- PDUs ---------------------------------------------------------------------------------
    def _pdu(self, direction: str, kind: int, body: bytes, when: float) -> None:
        if kind == pdu.P_DATA_TF:
            if self.result == "no association":
                self.result = "accepted"  # a capture that began mid-association
            self._pdata(direction, body, when)
        elif kind in (pdu.ASSOCIATE_RQ, pdu.ASSOCIATE_AC):
            self._associate(direction, pdu.decode_associate(kind, body))
        elif kind == pdu.ASSOCIATE_RJ:
            self.rejection = pdu.decode_reason(body)
            self.result = "rejected"
            result, source, reason = self.rejection
            self._event(direction, "A-ASSOCIATE-RJ",
                        f"rejected (result {result}, source {source}, reason {reason})")
        elif kind == pdu.RELEASE_RQ:
            self.result = "releasing" if self.result == "accepted" else self.result
            self._event(direction, "A-RELEASE-RQ", "release requested")
        elif kind == pdu.RELEASE_RP:
            self.released = True
            self._event(direction, "A-RELEASE-RP", "release confirmed")
        elif kind == pdu.ABORT:
            _, source, reason = pdu.decode_reason(body)
            self.aborted_by = (direction, source, reason)
            self.result = "aborted"
            self._event(direction, "A-ABORT", f"aborted (source {source}, reason {reason})")

    def _associate(self, direction: str, assoc: pdu.Associate) -> None:
        if assoc.kind == pdu.ASSOCIATE_RQ:
            self.calling_ae, self.called_ae = assoc.calling_ae, assoc.called_ae
            self.proposed = {cx.id: (cx.abstract_syntax, list(cx.transfer_syntaxes))
                             for cx in assoc.contexts}
            self.result = "requested"
            self._event(direction, "A-ASSOCIATE-RQ",
                        f"{assoc.calling_ae} calls {assoc.called_ae} with "
                        f"{len(assoc.contexts)} presentation context(s)",
                        max_pdu=assoc.user.max_pdu,
                        implementation=assoc.user.implementation_version_name)
            return
        self.answers = {cx.id: (cx.result, cx.transfer_syntaxes[0] if cx.transfer_syntaxes else "")
                        for cx in assoc.contexts}
        self.result = "accepted"
        accepted = sum(1 for result, _ in self.answers.values() if result == 0)
        self._event(direction, "A-ASSOCIATE-AC",
                    f"accepted {accepted} of {len(self.answers)} presentation context(s)",
                    max_pdu=assoc.user.max_pdu,
                    implementation=assoc.user.implementation_version_name)

    def transfer_syntax(self, context_id: int) -> str:
        result, syntax = self.answers.get(context_id, (0, ""))
        if syntax:
            return syntax
        proposed = self.proposed.get(context_id)
        return proposed[1][0] if proposed and proposed[1] else "1.2.840.10008.1.2.1"

    def _pdata(self, direction: str, body: bytes, when: float) -> None:
        half = self.halves[direction]
        for context_id, flags, data in pdu.pdvs(body):
            if not half.command and half.fields is None and not half.size:
                half.started, half.context = when, context_id
            if flags & 1:
                if half.fields is not None:
                    raise pdu.ProtocolError("a command fragment arrived before the dataset ended")
                if len(half.command) + len(data) > COMMAND_LIMIT:
                    raise pdu.ProtocolError(f"a command set over {COMMAND_LIMIT} bytes")
                half.command += data
                if flags & 2:
                    half.fields = decode_command(bytes(half.command))
                    half.command = bytearray()
                    if half.fields.get(0x0800, NO_DATASET) == NO_DATASET:
                        self._message(direction, half, when)
            else:
                if half.fields is None and self.healing:
                    continue  # the tail of a message whose start is not in the capture
                if half.fields is None:
                    raise pdu.ProtocolError("a dataset fragment arrived before its command set")
                half.size += len(data)
                room = PREFIX - len(half.prefix)
                if room > 0:
                    half.prefix += data[:room]
                if flags & 2:
                    self._message(direction, half, when)

    def _message(self, direction: str, half: _Half, when: float, cut: bool = False) -> None:
        fields = half.fields or {}
        self.halves[direction] = _Half()
        field = int(fields.get(0x0100, 0) or 0)
        name = command_name(field)
        msg: dict = {"from": direction, "command": name, "context": half.context,
                     "t": round(half.started - (self.started or half.started), 4)}
        sop_class = fields.get(0x0002) or fields.get(0x0003)
        if sop_class:
            msg["sop_class"] = sop_class
        for tag, key in ((0x1000, "sop_instance"), (0x0600, "move_destination"),
                         (0x0902, "error_comment")):
            if fields.get(tag):
                msg[key] = fields[tag]
        if cut:
            msg["cut_off"] = "the dataset never finished arriving"
        if half.size:
            msg["dataset_bytes"] = half.size
            syntax = self.transfer_syntax(half.context)
            if field & 0x8000:  # a match: read now, only its character set is kept
                msg["dataset"] = identifiers(bytes(half.prefix), syntax)
            else:  # read when the summary is made, off the path the bytes take
                msg["_header"], msg["_syntax"] = header(half.prefix, syntax), syntax
                self.held += len(msg["_header"])
                if self.held > HEADER_BUDGET:
                    self.resolve()
        if field & 0x8000:
            self._response(direction, fields, msg, when)
        else:
            msg["message_id"] = fields.get(0x0110)
            msg["_started"] = half.started
            if len(self.messages) < MAX_MESSAGES:
                self.messages.append(msg)
                self.pending[msg["message_id"]] = msg
            else:
                self.messages_dropped += 1
                self.held -= len(msg.pop("_header", b""))
            self._event(direction, name, self._label(msg), message_id=msg["message_id"])
            orphan = self.orphans.pop(msg["message_id"], None)
            if orphan is not None:
                self._response(*orphan, replay=True)

    def _response(self, direction: str, fields: dict, msg: dict, when: float,
                  replay: bool = False) -> None:
        status = fields.get(0x0900)
        responded = fields.get(0x0120)
        service = msg["command"][2:].split("-")[0].lower()
        request = self.pending.get(responded)
        text = meaning(service, status) if isinstance(status, int) else "no status"
        if not replay:
                self._event(direction, msg["command"], f"status {_hex(status)}: {text}",
                        message_id=responded)
        if request is None:
            if len(self.orphans) < 1000 and not (isinstance(status, int) and status in (0xFF00, 0xFF01)):
                self.orphans[responded] = (direction, fields, msg, when)
            return
        if isinstance(status, int) and status in (0xFF00, 0xFF01):
            request["matches"] = request.get("matches", 0) + 1
            if msg.get("dataset"):
                charsets = request.setdefault("match_charsets", [])
                charset = msg["dataset"].get("SpecificCharacterSet", "")
                if charset not in charsets and len(charsets) < 8:
                    charsets.append(charset)
                if msg["dataset"].get("non_ascii"):
                    request["matches_non_ascii"] = True
            return
        self.pending.pop(responded, None)
        request["status"] = _hex(status)
        request["status_meaning"] = text
        request["duration_ms"] = round((when - request.pop("_started", when)) * 1000, 1)
        for tag, key in ((0x1021, "completed"), (0x1022, "failed"), (0x1023, "warning")):
            if fields.get(tag) is not None:
                request[key] = fields[tag]
        if msg.get("error_comment"):
            request["error_comment"] = msg["error_comment"]

    def resolve(self) -> None:
        """Decode the identifiers of every request's dataset (kept as header bytes so far)."""
        for msg in self.messages:
            if "_header" in msg:
                msg["dataset"] = identifiers(msg.pop("_header"), msg.pop("_syntax"))
        self.held = 0

    @staticmethod
    def _label(msg: dict) -> str:
        parts = [msg["command"]]
        if msg.get("dataset_bytes"):
            parts.append(f"{msg['dataset_bytes']} bytes")
        return " ".join(parts)


def _hex(status) -> str:
    return f"0x{status:04X}" if isinstance(status, int) else "none"
