"""C-MOVE and C-GET responses on whichever wire path serves them: the entry points
``ops.retrieve`` calls.

A C-MOVE's sub-operations arrive on associations of their own (at the console's lean Storage
SCP), so its request goes over the lean Upper Layer; whatever that hands back before the
request is sent (``ul.Fallback``) goes through pynetdicom. A C-GET receives its C-STOREs on
the same association, which pynetdicom's requestor serves. Either way the operation reads the
same ``Response`` values; closing the generator early sends C-CANCEL.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import field

from pacs_console.core.dicom.diagnosis.dimse_status import PENDING, PENDING_WARNING
from pacs_console.core.dicom.wire import lean_query, pdu, ul
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError
from pacs_console.core.records import record

C_MOVE_RQ, C_MOVE_RSP = 0x0021, 0x8021
# Command elements of the sub-operation counts (PS3.7 C.4.2.1.5) -> RetrieveResult fields.
COUNTS = {0x1020: "remaining", 0x1021: "completed", 0x1022: "failed", 0x1023: "warning"}
_KEYWORDS = {"remaining": "NumberOfRemainingSuboperations",
             "completed": "NumberOfCompletedSuboperations",
             "failed": "NumberOfFailedSuboperations", "warning": "NumberOfWarningSuboperations"}


@record(frozen=True)
class Response:
    """One C-MOVE/C-GET response: its status (None: none came, the association was lost or
    timed out), the sub-operation counts it carried, and a final one's failed instances."""

    code: int | None
    counts: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    aborted: bool = False

    @property
    def pending(self) -> bool:
        return self.code in (PENDING, PENDING_WARNING)


def move_responses(target: Target, sop_class: str, identifier: dict, destination: str,
                   result) -> Generator[Response, None, None]:
    """C-MOVE ``identifier`` (an ``identifiers`` tree) to ``destination``; ``result`` gets the
    association report. Raises ``ConsoleError`` when no association can be had."""
    if (yield from _move_lean(target, sop_class, identifier, destination, result)):
        return
    yield from _pynetdicom(target, sop_class, [sop_class], identifier, result,
                           lambda assoc, ds: assoc.send_c_move(ds, destination, sop_class,
                                                               msg_id=1))


def get_responses(target: Target, sop_class: str, identifier: dict, contexts: list,
                  roles: list, on_store: Callable, result) -> Generator[Response, None, None]:
    """C-GET ``identifier``; each instance it brings is handed to ``on_store`` (pynetdicom's
    C-STORE event, answered with the status it returns)."""
    from pynetdicom import evt

    yield from _pynetdicom(target, sop_class, contexts, identifier, result,
                           lambda assoc, ds: assoc.send_c_get(ds, sop_class, msg_id=1),
                           roles=roles, handlers=[(evt.EVT_C_STORE, on_store)])


def _move_lean(target: Target, sop_class: str, identifier: dict, destination: str,
               result) -> Generator[Response, None, bool]:
    timing: dict = {}
    try:
        assoc = ul.open_lean(target, [(sop_class, [lean_query.EXPLICIT_VR_LE,
                                                   lean_query.IMPLICIT_VR_LE])], timing)
    except ul.Fallback:
        return False
    finished = False
    cx = assoc.context_for(sop_class)
    try:
        implicit = cx.transfer_syntax == lean_query.IMPLICIT_VR_LE
        result.association = assoc.report(timing)
        command = pdu.encode_command({0x0002: sop_class, 0x0100: C_MOVE_RQ, 0x0110: 1,
                                     0x0600: destination.strip(), 0x0700: 0, 0x0800: 0})
        assoc.send(cx.context_id, command, lean_query.identifier_bytes(identifier, implicit))
        while True:
            try:
                _, fields, data = assoc.receive(target.timeouts.dimse)
            except ul.Lost as lost:
                finished = True
                if lost.protocol:  # a malformed PDU: aborted already
                    raise ConsoleError(pdu.ProtocolError(str(lost)).diagnosis) from None
                assoc.abort()
                yield Response(None, aborted=lost.aborted or not lost.timed_out)
                return True
            if fields.get(0x0100) != C_MOVE_RSP or fields.get(0x0120, 1) != 1:
                finished = True
                assoc.abort()
                yield Response(None, aborted=True)
                return True
            response = Response(int(fields.get(0x0900, 0xC000)),
                                {name: int(fields[tag]) for tag, name in COUNTS.items()
                                 if isinstance(fields.get(tag), int)})
            if not response.pending:
                finished = True
                failed = lean_query.decode_row(data, implicit).get(
                    "FailedSOPInstanceUIDList", "") if data else ""
                response = Response(response.code, response.counts,
                                    [uid for uid in failed.split("\\") if uid])
            yield response
            if finished:
                return True
    finally:
        if not finished and not assoc.released:
            lean_query.cancel(assoc, cx.context_id)
        assoc.release()


def _pynetdicom(target: Target, sop_class: str, contexts: list, identifier: dict, result,
                start: Callable, *, roles=(), handlers=()) -> Generator[Response, None, None]:
    from pacs_console.core.dicom.identifiers import to_dataset
    from pacs_console.core.dicom.wire import association as assoc_mod

    timing: dict = {}
    assoc = assoc_mod.connect(target, contexts, roles=roles, handlers=handlers, timing=timing)
    finished, responses = False, None
    try:
        result.association = assoc_mod.association_report(assoc, timing)
        assoc_mod.require_context(assoc, sop_class)
        responses = start(assoc, to_dataset(identifier))
        for status, found in responses:
            if not status:
                finished = True
                yield Response(None, aborted=assoc.is_aborted)
                return
            response = Response(int(status.Status), {
                name: int(status.get(keyword)) for name, keyword in _KEYWORDS.items()
                if status.get(keyword) is not None})
            if not response.pending:
                finished = True
                response = Response(response.code, response.counts, _failed_list(found))
            yield response
            if finished:
                return
    finally:
        if not finished and responses is not None and assoc.is_established:
            _cancel(assoc, responses, sop_class)
        assoc_mod.release(assoc)


def _failed_list(identifier) -> list[str]:
    from pydicom.multival import MultiValue

    value = identifier.get("FailedSOPInstanceUIDList") if identifier is not None else None
    if value is None:
        return []
    values = list(value) if isinstance(value, MultiValue | list) else [value]
    return [str(v) for v in values if str(v)]


def _cancel(assoc, responses, sop_class: str, grace: float = 2.0) -> None:
    import time

    try:
        assoc.send_c_cancel(1, query_model=sop_class)
        assoc.dimse_timeout = grace
        deadline = time.monotonic() + grace
        for status, _ in responses:
            if not status or int(status.Status) not in (PENDING, PENDING_WARNING):
                break
            if time.monotonic() > deadline:
                break
    except Exception:  # noqa: BLE001 - a peer that will not cancel is aborted by release()
        pass
