"""Cut PDUs out of a TCP byte stream as it arrives, one PDU at a time (never a whole study).

The header is checked by the wire codec before anything is kept, so a hostile stream costs at
most one PDU of the largest size DICOM allows. ``resync`` finds the next PDU boundary by its
structure: a capture that starts mid-association, or after a gap of lost segments.
"""

from __future__ import annotations

import re
import struct

from pacs_console.core.dicom.wire import pdu

LIMIT = pdu.MAX_MAX_PDU  # the largest P-DATA-TF any node may announce to the relay
SCAN_LIMIT = 4 << 20  # bytes searched for a PDU boundary before the stream is given up


_CANDIDATE = re.compile(rb"[\x01-\x07]\x00")  # a PDU type, then its reserved zero byte


def find_boundary(buf, pos: int) -> tuple[int | None, int]:
    """(where the first plausible PDU at or after ``pos`` starts, or None; where to look next
    time more bytes have come): candidates are found by a regex, not a loop per byte."""
    end = len(buf) - pdu.HEADER - 6
    if pos > end:
        return None, pos
    for match in _CANDIDATE.finditer(buf, pos, end + 2):
        at = match.start()
        if at > end:
            break
        if plausible(buf, at):
            return at, at
    return None, end + 1


def plausible(buf, pos: int) -> bool:
    """Whether a PDU header that the codec accepts, with a body shaped like its type, starts
    at ``pos`` (needs the header plus 6 bytes of body)."""
    if pos + pdu.HEADER + 6 > len(buf) or buf[pos + 1] != 0:
        return False
    try:
        kind, length = pdu.check_header(bytes(buf[pos:pos + pdu.HEADER]), LIMIT)
    except pdu.ProtocolError:
        return False
    body = pos + pdu.HEADER
    if kind in (pdu.ASSOCIATE_RQ, pdu.ASSOCIATE_AC):
        return length >= 68 and buf[body] == 0 and buf[body + 1] == 1
    if kind == pdu.P_DATA_TF:
        pdv = struct.unpack_from(">I", buf, body)[0]
        return 2 <= pdv <= length - 4 and buf[body + 4] % 2 == 1 and buf[body + 5] <= 3
    return buf[body] == 0  # RJ, release and abort: a reserved zero byte first


class PduStream:
    """Feed bytes, get ``(type, body)`` of each whole PDU; ``error`` once the stream is broken."""

    def __init__(self, *, resync: bool = False) -> None:
        self.buf = bytearray()
        self.resyncing = resync
        self.healing = resync  # a capture: a false boundary sends it back to looking
        self.resyncs = 0
        self.error: pdu.ProtocolError | None = None
        self.skipped = 0  # bytes dropped while looking for a boundary
        self.total = 0
        self.need = 0  # bytes the PDU begun in buf needs in all: nothing to do before then

    def gap(self) -> None:
        """Bytes were lost (a capture gap) or a boundary was false: drop what is half read
        and look for the next boundary."""
        self.buf.clear()
        self.need = 0
        self.resyncing = self.error is None
        self.resyncs += 1

    def feed(self, data) -> list[tuple[int, bytes]]:
        self.total += len(data)
        if self.error is not None:
            return []
        self.buf += data
        if len(self.buf) < self.need:  # the middle of a big P-DATA-TF: its header is read
            return []
        self.need = 0
        out: list[tuple[int, bytes]] = []
        pos, buf = 0, self.buf
        while True:
            if self.resyncing and not self._find(pos):
                return out
            if self.resyncing:
                pos, self.resyncing = self._found, False
            if len(buf) - pos < pdu.HEADER:
                break
            try:
                kind, length = pdu.check_header(bytes(buf[pos:pos + pdu.HEADER]), LIMIT)
            except pdu.ProtocolError as exc:
                if self.healing and self.skipped <= SCAN_LIMIT:
                    self.resyncs += 1
                    self.resyncing, pos = True, pos + 1
                    continue
                self.error = exc
                self.buf = bytearray()
                return out
            if len(buf) - pos - pdu.HEADER < length:
                self.need = pdu.HEADER + length
                break
            start = pos + pdu.HEADER
            out.append((kind, bytes(buf[start:start + length])))
            pos = start + length
        if pos:
            del buf[:pos]
        return out

    def _find(self, start: int) -> bool:
        found, pos = find_boundary(self.buf, start)
        if found is not None:
            self._found = found
            self.skipped += found - start
            return True
        self.skipped += pos - start
        del self.buf[:pos]
        if self.skipped > SCAN_LIMIT:
            self.error = pdu.ProtocolError(f"no PDU boundary in {self.skipped} bytes")
            self.buf = bytearray()
        return False
