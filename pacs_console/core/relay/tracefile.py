"""The relay's own trace: one file per session with every byte and the decoded timeline.

A magic line, then records of ``type, association, time, length`` (``>BIdI``) and a payload:
OPEN (JSON: client and server), DATA from the requestor or the acceptor (the bytes as they
passed), END (JSON: the association's redacted summary). The raw bytes carry patient data:
the file stays in the local store and is never bundled unless de-identified. Reading replays
the bytes through the same decoder as the relay, so a trace reads like the live session.
"""

from __future__ import annotations

import json
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from pacs_console.core.relay.conversation import AC, RQ, Conversation
from pacs_console.core.relay.findings import summary

MAGIC = b"PACS-CONSOLE-RELAY-TRACE 1\n"
RECORD = struct.Struct(">BIdI")
OPEN, DATA_RQ, DATA_AC, END = 1, 2, 3, 4
RECORD_LIMIT = 16 << 20  # no record the writer makes is larger


class TraceError(ValueError):
    """The file is not a relay trace, or is damaged where it cannot be read past."""


class TraceWriter:
    """Thread-safe appender; flushed at every association's start and end and at least every
    half second, so a crash keeps nearly all that passed without a flush per chunk."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fp = open(self.path, "wb")  # noqa: SIM115 - kept open for the session
        self.fp.write(MAGIC)
        self.lock = threading.Lock()
        self.flushed = time.monotonic()

    def _write(self, kind: int, assoc_id: int, payload: bytes) -> None:
        with self.lock:
            if self.fp.closed:
                return
            self.fp.write(RECORD.pack(kind, assoc_id, time.time(), len(payload)))
            self.fp.write(payload)
            now = time.monotonic()
            if kind in (OPEN, END) or now - self.flushed > 0.5:
                self.fp.flush()
                self.flushed = now

    def open(self, assoc_id: int, client: str, server: str) -> None:
        self._write(OPEN, assoc_id, json.dumps({"client": client, "server": server}).encode())

    def data(self, assoc_id: int, direction: str, data: bytes) -> None:
        self._write(DATA_RQ if direction == RQ else DATA_AC, assoc_id, data)

    def close(self, assoc_id: int, report: dict) -> None:
        self._write(END, assoc_id, json.dumps(report, default=str).encode())

    def finish(self) -> None:
        with self.lock:
            self.fp.close()


def is_trace(head: bytes) -> bool:
    return head.startswith(MAGIC)


def records(path: Path) -> Iterator[tuple[int, int, float, bytes]]:
    """(type, association, time, payload) of each record; TraceError on a damaged file."""
    with open(path, "rb") as fp:
        if fp.read(len(MAGIC)) != MAGIC:
            raise TraceError("not a PACS Console relay trace")
        while True:
            header = fp.read(RECORD.size)
            if not header:
                return
            if len(header) < RECORD.size:
                raise TraceError("the trace ends inside a record header (cut short)")
            kind, assoc_id, when, length = RECORD.unpack(header)
            if kind not in (OPEN, DATA_RQ, DATA_AC, END) or length > RECORD_LIMIT:
                raise TraceError(f"a damaged record (type {kind}, {length} bytes)")
            payload = fp.read(length)
            if len(payload) < length:
                raise TraceError("the trace ends inside a record (cut short)")
            yield kind, assoc_id, when, payload


def read_trace(path: Path) -> tuple[list[dict], list[str]]:
    """(association summaries, problems): the bytes decoded again, in the order they ended."""
    live: dict[int, Conversation] = {}
    out: list[dict] = []
    problems: list[str] = []
    try:
        for kind, assoc_id, when, payload in records(path):
            if kind == OPEN:
                try:
                    info = json.loads(payload)
                except ValueError:
                    info = {}
                info = info if isinstance(info, dict) else {}
                live[assoc_id] = Conversation(str(info.get("client", "")), str(info.get("server", "")))
            elif kind in (DATA_RQ, DATA_AC):
                conv = live.setdefault(assoc_id, Conversation(resync=True))
                conv.feed(RQ if kind == DATA_RQ else AC, payload, when)
            elif kind == END and assoc_id in live:
                out.append(_done(live.pop(assoc_id), assoc_id, when))
    except TraceError as exc:
        problems.append(str(exc))
    for assoc_id, conv in live.items():
        out.append(_done(conv, assoc_id, conv.ended))
    return out, problems


def _done(conv: Conversation, assoc_id: int, when: float | None) -> dict:
    conv.close("end of the trace" if when is None else "connection closed", when=when)
    report = summary(conv)
    report["id"] = assoc_id
    return report
