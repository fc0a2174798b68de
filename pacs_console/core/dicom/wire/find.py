"""C-FIND on whichever wire path serves it: the one entry point ``ops.query`` calls.

The lean Upper Layer (``lean_query``) takes a plain query first; whatever it hands back before
the first match (``ul.Fallback``: TLS, a rejection it cannot read, a peer that only speaks
something else) is asked again through pynetdicom, whose richer state gives the precise
diagnosis. pynetdicom and pydicom load only on that second path.
"""

from __future__ import annotations

import time
from collections.abc import Generator

from pacs_console.core.dicom.charsets import fallback_codecs
from pacs_console.core.dicom.diagnosis.diagnose import lost_query
from pacs_console.core.dicom.diagnosis.dimse_status import PENDING, PENDING_WARNING
from pacs_console.core.dicom.wire.lean_query import find_lean, take
from pacs_console.core.dicom.wire.target import Target


def find_rows(target: Target, sop_class: str, identifier: dict, result, limit: int | None,
              sent=None, before_pynetdicom=None) -> Generator[dict[str, str], None, None]:
    """Yield each match of ``identifier`` (an ``identifiers.identifier_tree``) as a flat row;
    ``result`` (``ops.query.FindResult``) records the association, matches, the final status
    or a diagnosis. Closing early cancels (C-CANCEL). Raises ``ConsoleError`` when no
    association can be had. ``sent()``: called once the request is out (at most once).
    ``before_pynetdicom()``: called before pynetdicom asks (again), for what the caller has
    left until then (its log, which pynetdicom writes to)."""
    if sent is not None:
        sent = _once(sent)
    if (yield from find_lean(target, sop_class, identifier, result, limit, sent)):
        return
    if before_pynetdicom is not None:
        before_pynetdicom()
    yield from _find_pynetdicom(target, sop_class, identifier, result, limit, sent)


def _once(call):
    done = []

    def once() -> None:
        if not done:
            done.append(True)
            call()
    return once


def _find_pynetdicom(target: Target, sop_class: str, identifier: dict, result,
                     limit: int | None, sent=None) -> Generator[dict[str, str], None, None]:
    from pacs_console.core.dicom.charsets import declared_term
    from pacs_console.core.dicom.identifiers import flatten, to_dataset
    from pacs_console.core.dicom.wire import association as assoc_mod
    from pacs_console.core.errors import ConsoleError

    undeclared = (fallback_codecs(identifier), set())
    timing: dict = {}
    assoc = assoc_mod.connect(target, [sop_class], timing=timing)
    finished = False
    responses = None
    try:
        result.association = assoc_mod.association_report(assoc, timing)
        assoc_mod.require_context(assoc, sop_class)
        responses = assoc.send_c_find(to_dataset(identifier), sop_class, msg_id=1)
        if sent is not None:
            sent()
        last = time.perf_counter()
        for status, ds in responses:
            if not status:
                result.diagnosis = lost_query(assoc.is_aborted, target, result.count,
                                              time.perf_counter() - last)
                finished = True
                break
            last = time.perf_counter()
            state = yield from take(result, int(status.Status), limit, undeclared,
                                    lambda ds=ds: {**flatten(ds, undeclared),
                                                   **declared_term(ds)})
            if state != "more":
                finished = state == "final"
                break
    except ConsoleError as exc:
        result.diagnosis = exc.diagnosis
    finally:
        if not finished and responses is not None:
            result.cancelled = True
            _cancel(assoc, responses, sop_class, result)
        assoc_mod.release(assoc)


def _cancel(assoc, responses, sop_class: str, result, grace: float = 2.0) -> None:
    """C-CANCEL, then drain the remaining responses for a short while (abort if the peer won't stop)."""
    if not assoc.is_established:
        return
    try:
        assoc.send_c_cancel(1, query_model=sop_class)
    except Exception:  # noqa: BLE001 - a peer gone mid-cancel: abort below
        assoc.abort()
        return
    previous, assoc.dimse_timeout = assoc.dimse_timeout, grace
    deadline = time.monotonic() + grace
    try:
        for status, _ in responses:
            if not status or int(status.Status) not in (PENDING, PENDING_WARNING):
                if status:
                    result.status = int(status.Status)
                break
            if time.monotonic() > deadline:
                assoc.abort()
                break
    finally:
        assoc.dimse_timeout = previous
