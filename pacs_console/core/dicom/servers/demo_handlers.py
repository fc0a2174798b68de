"""DIMSE event handlers of the demo PACS: echo, find, move, get and store, never touching a GUI."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from typing import Protocol

from pydicom import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import build_context, evt
from pynetdicom.sop_class import (
    ModalityWorklistInformationFind,
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    Verification,
)

from pacs_console.core.dicom.servers import matching


class DemoPacs(Protocol):
    """What the handlers use of ``demo.DemoPacs`` (a protocol, so this module never imports
    the server that imports it)."""

    ae_title: str

    @property
    def datasets(self) -> list: ...

    @property
    def worklist(self) -> list: ...

    def record(self, **fields) -> None: ...

    def receive(self, ds: Dataset) -> None: ...

    def resolve(self, ae_title: str): ...

LOG = logging.getLogger(__name__)
PENDING, CANCEL = 0xFF00, 0xFE00
UNABLE_TO_PROCESS, WRONG_IDENTIFIER = 0xC000, 0xA900
MAX_CONTEXTS = 128  # PS3.8: at most 128 presentation contexts in one association
_PATIENT_ROOT = {PatientRootQueryRetrieveInformationModelFind,
                 PatientRootQueryRetrieveInformationModelMove,
                 PatientRootQueryRetrieveInformationModelGet}
_UNCOMPRESSED = {ExplicitVRLittleEndian, ImplicitVRLittleEndian}


def _calling(event: evt.Event) -> str:
    return str(event.assoc.requestor.ae_title).strip()


def _root(event: evt.Event) -> str:
    return "PATIENT" if event.request.AffectedSOPClassUID in _PATIENT_ROOT else "STUDY"


def _level(identifier: Dataset) -> str:
    return str(identifier.get("QueryRetrieveLevel", "") or "")


def on_echo(event: evt.Event, pacs: DemoPacs) -> int:
    """C-ECHO: always success, recorded for the activity view."""
    pacs.record(event="echo", calling_ae=_calling(event),
                address=event.assoc.requestor.address)
    return 0x0000


def on_store(event: evt.Event, pacs: DemoPacs) -> int:
    """C-STORE: keep the dataset (and its transfer syntax) on disk, its header in memory."""
    try:
        ds = event.dataset
        ds.file_meta = event.file_meta
        uid = str(ds.SOPInstanceUID)
    except Exception:  # a malformed dataset is the peer's bug; answer instead of aborting
        LOG.exception("demo PACS could not decode a C-STORE dataset")
        return 0xC210  # Cannot understand
    try:
        pacs.receive(ds)
    except OSError as exc:
        LOG.error("demo PACS cannot keep a received instance: %s", exc)
        return 0xA700  # Out of resources
    except Exception:  # noqa: BLE001 - a dataset that cannot be written is the peer's bug
        LOG.exception("demo PACS could not store a C-STORE dataset")
        return 0xC210
    pacs.record(event="store", calling_ae=_calling(event), sop_instance_uid=uid,
                sop_class_uid=str(ds.get("SOPClassUID", "")),
                transfer_syntax=str(ds.file_meta.TransferSyntaxUID),
                study_instance_uid=str(ds.get("StudyInstanceUID", "")))
    return 0x0000


def on_find(event: evt.Event, pacs: DemoPacs) -> Iterator[tuple[int, Dataset | None]]:
    """C-FIND for Patient Root, Study Root and Modality Worklist."""
    identifier = event.identifier
    worklist = event.request.AffectedSOPClassUID == ModalityWorklistInformationFind
    model = "WORKLIST" if worklist else _root(event)
    count, status = 0, 0x0000
    try:
        if worklist:
            results = (matching.build_response(identifier, item) for item in pacs.worklist
                       if matching.match_dataset(identifier, item))
        else:
            results = matching.find(identifier, pacs.datasets, model,
                                    retrieve_ae_title=pacs.ae_title)
        for response in results:
            if event.is_cancelled:
                status = CANCEL
                yield CANCEL, None
                return
            count += 1
            yield PENDING, response
    except matching.QueryError as exc:
        LOG.info("demo PACS C-FIND refused: %s", exc)
        status = WRONG_IDENTIFIER
        yield WRONG_IDENTIFIER, None
    finally:
        pacs.record(event="find", calling_ae=_calling(event), model=model,
                    level=_level(identifier), matches=count, status=status)


def _select(event: evt.Event, pacs: DemoPacs) -> list[Dataset]:
    return matching.select_instances(event.identifier, pacs.datasets, _root(event))


def storage_contexts(datasets: list[Dataset]) -> list:
    """One presentation context per (SOP class, transfer syntax) the datasets need.

    Every class also gets both uncompressed little-endian syntaxes, each in its own context:
    a destination that takes neither the stored compression nor Explicit VR still accepts
    the data, converted by ``deliverable`` (or by pynetdicom between uncompressed syntaxes).
    """
    pairs: dict[tuple[str, str], None] = {}
    for ds in datasets:
        sop = str(ds.SOPClassUID)
        ts = str(ds.file_meta.TransferSyntaxUID)
        for syntax in [ts, *sorted(_UNCOMPRESSED - {ts})]:
            pairs.setdefault((sop, syntax), None)
    contexts = [build_context(sop, ts) for sop, ts in pairs]
    if len(contexts) > MAX_CONTEXTS:
        LOG.warning("C-MOVE needs %d presentation contexts; proposing the first %d",
                    len(contexts), MAX_CONTEXTS)
    return contexts[:MAX_CONTEXTS]


def deliverable(ds: Dataset, accepted: set[tuple[str, str]]) -> Dataset:
    """``ds`` in a transfer syntax the receiving side accepted: as stored when it took that,
    else decoded (compressed) or inflated (Deflated) to uncompressed little endian. The copy
    keeps every identifier, the SOP Instance UID included; the stored instance is untouched."""
    sop, ts = str(ds.SOPClassUID), UID(str(ds.file_meta.TransferSyntaxUID))
    if (sop, ts) in accepted or not (ts.is_compressed or ts.is_deflated) or not any(
            (sop, plain) in accepted for plain in _UNCOMPRESSED):
        # As stored: pynetdicom itself converts between uncompressed syntaxes, and with no
        # usable context it reports the failure.
        return ds
    out = copy.deepcopy(ds)
    if ts.is_compressed:
        out.decompress(generate_instance_uid=False)
    else:  # Deflated: held inflated in memory, only the label changes
        out.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    if (sop, ExplicitVRLittleEndian) not in accepted:
        out.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    return out


def _accepted(contexts) -> set[tuple[str, str]]:
    return {(str(cx.abstract_syntax), str(cx.transfer_syntax[0])) for cx in contexts}


def on_requested(event: evt.Event) -> None:
    """Before negotiation: order each supported context's syntaxes as the proposer did, so
    the proposer's first choice (RLE before Explicit VR, say) is the one accepted."""
    assoc = event.assoc
    wanted: dict[str, list[str]] = {}
    for cx in assoc.requestor.requested_contexts:
        wanted.setdefault(str(cx.abstract_syntax), [str(ts) for ts in cx.transfer_syntax])
    contexts = []
    for cx in assoc.acceptor.supported_contexts:
        order = wanted.get(str(cx.abstract_syntax))
        if order:
            rank = {ts: n for n, ts in enumerate(order)}
            ours = sorted(cx.transfer_syntax, key=lambda ts: rank.get(str(ts), len(rank)))
            again = build_context(cx.abstract_syntax, ours)
            again.scu_role, again.scp_role = cx.scu_role, cx.scp_role
            contexts.append(again)
        else:
            contexts.append(cx)
    assoc.acceptor.supported_contexts = contexts


def on_move(event: evt.Event, pacs: DemoPacs) -> Iterator:
    """C-MOVE: destination (with only the contexts needed), then the count, then each dataset."""
    destination = str(event.move_destination).strip()
    address = pacs.resolve(destination)
    record = {"event": "move", "calling_ae": _calling(event), "destination": destination,
              "level": _level(event.identifier)}
    if address is None:
        pacs.record(**record, count=0, status=0xA801)
        yield None, None  # pynetdicom answers 0xA801 Move Destination unknown
        return
    try:
        selected = _select(event, pacs)
    except matching.QueryError as exc:
        LOG.info("demo PACS C-MOVE refused: %s", exc)
        pacs.record(**record, count=0, status=WRONG_IDENTIFIER)
        # pynetdicom only takes a failure status as a sub-operation result, which needs a
        # destination association first: a verification-only one, closed right after.
        yield address[0], address[1], {"contexts": [build_context(Verification)]}
        yield 1
        yield WRONG_IDENTIFIER, None
        return
    established: list = []  # the sub-association to the destination, once it is up
    yield address[0], address[1], {
        "contexts": storage_contexts(selected),
        "evt_handlers": [(evt.EVT_ESTABLISHED, lambda e: established.append(e.assoc))]}
    yield len(selected)
    accepted = _accepted(established[0].accepted_contexts) if established else set()
    yield from _send_each(event, pacs, record, selected, accepted)


def on_get(event: evt.Event, pacs: DemoPacs) -> Iterator:
    """C-GET: the count, then each dataset over the requestor's own association."""
    record = {"event": "get", "calling_ae": _calling(event), "level": _level(event.identifier)}
    try:
        selected = _select(event, pacs)
    except matching.QueryError as exc:
        LOG.info("demo PACS C-GET refused: %s", exc)
        pacs.record(**record, count=0, status=WRONG_IDENTIFIER)
        yield 1  # a failure status is only accepted in place of a sub-operation
        yield WRONG_IDENTIFIER, None
        return
    yield len(selected)
    accepted = _accepted(event.assoc.accepted_contexts)
    yield from _send_each(event, pacs, record, selected, accepted)


def _send_each(event: evt.Event, pacs: DemoPacs, record: dict, selected: list,
               accepted: set[tuple[str, str]]) -> Iterator:
    """The sub-operations of a C-MOVE or C-GET: each dataset as the peer accepted it, until the
    requestor cancels; the journal gets how many went and how it ended."""
    sent = 0
    for ds in selected:
        if event.is_cancelled:
            pacs.record(**record, count=sent, status=CANCEL)
            yield CANCEL, None
            return
        sent += 1
        yield PENDING, deliverable(ds, accepted)
    pacs.record(**record, count=sent, status=0x0000)


def handlers(pacs: DemoPacs) -> list[tuple]:
    """The (event, handler, args) bindings for ``ae.serve``."""
    return [
        (evt.EVT_REQUESTED, on_requested),
        (evt.EVT_C_ECHO, on_echo, [pacs]),
        (evt.EVT_C_STORE, on_store, [pacs]),
        (evt.EVT_C_FIND, on_find, [pacs]),
        (evt.EVT_C_MOVE, on_move, [pacs]),
        (evt.EVT_C_GET, on_get, [pacs]),
    ]
