"""A relay trace or a capture as incident evidence: the decoded timeline as JSON with patient
data redacted, never the raw bytes (they carry the datasets that passed, names and all)."""

from __future__ import annotations

import json
from pathlib import Path

from pacs_console.core import phi
from pacs_console.core.relay.capture import read_any
from pacs_console.core.relay.pcapread import PCAP_MAGICS, PCAPNG_MAGIC
from pacs_console.core.relay.tracefile import MAGIC

FORMAT = "pacs-console-trace-timeline/1"
NOTE = ("the decoded timeline with patient data redacted; the raw trace holds patient data "
        "and stays on this laptop")


def is_trace_or_capture(path: Path) -> bool:
    """A relay trace, pcap or pcapng file, told by its first bytes (False when unreadable)."""
    try:
        with open(path, "rb") as fp:
            head = fp.read(len(MAGIC))
    except OSError:
        return False
    return head.startswith(MAGIC) or head[:4] in (PCAPNG_MAGIC, *PCAP_MAGICS)


def timeline_name(source_name: str) -> str:
    stem = Path(source_name).stem or "trace"
    return f"{phi.redact_text(stem)}.timeline.json"


def timeline_json(source_name: str, kind: str, reports: list[dict],
                  problems: list[str]) -> bytes:
    """The document attached: conversations redacted again here, whoever decoded them."""
    return json.dumps({"format": FORMAT, "source": phi.redact_text(Path(source_name).name),
                       "kind": kind, "note": NOTE, "associations": phi.redact_json(reports),
                       "problems": phi.redact_json(list(problems))},
                      indent=1, default=str, ensure_ascii=False).encode("utf-8")


def timeline_of(path: Path) -> bytes:
    """The redacted timeline of a trace or capture file (CaptureError, OSError if unreadable)."""
    kind, reports, problems = read_any(Path(path))
    return timeline_json(Path(path).name, kind, reports, problems)
