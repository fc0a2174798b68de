"""DIMSE status codes: what each means for a service, and a diagnosis with a remedy on failure."""

from __future__ import annotations

from pacs_console.core.errors import Diagnosis

SUCCESS, PENDING, PENDING_WARNING, CANCEL = 0x0000, 0xFF00, 0xFF01, 0xFE00

# code -> (meaning, likely causes, what to try); None causes = not a failure.
_SPECIFIC: dict[int, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    0xA801: ("Move destination unknown",
             ("the destination AE title is not configured on the node as a DICOM peer",),
             ("add the destination AE title with its IP address and port on the node",
              "check the AE title's spelling and case")),
    0xA701: ("Out of resources: unable to calculate the number of matches",
             ("the node's database or disk is overloaded", "the query is too broad"),
             ("narrow the query (date range, patient ID)", "check the node's disk and database")),
    0xA702: ("Out of resources: unable to perform sub-operations",
             ("the node could not open an association to the destination",
              "the destination refused the node's storage associations or transfer syntaxes",
              "for C-GET: the requestor did not offer the storage SOP class with the SCP role"),
             ("check that the destination listens and is reachable from the node",
              "for C-GET, propose the storage contexts of the data with the SCP role")),
    0xA700: ("Out of resources",
             ("the receiver's disk is full", "the receiver hit a licence or memory limit"),
             ("free disk space on the receiving node", "check its licence and log")),
    0xA900: ("Identifier does not match SOP class",
             ("the query keys do not suit the query level or information model",
              "a hierarchical query without the unique key of the level above"),
             ("add StudyInstanceUID for SERIES level (and SeriesInstanceUID for IMAGE level)",
              "use the Study Root model")),
    0xA901: ("Data set does not match SOP class", ("the object misses attributes the class requires",),
             ("validate the file (dciodvfy)", "send it under the right SOP class")),
    0xC000: ("Unable to process", ("the node failed internally on this request",),
             ("check the node's log for this time", "retry with a narrower request")),
    0xC001: ("Unable to process: more than one match for a unique key", (), ()),
    0x0110: ("Processing failure", ("the node failed internally",), ("check the node's log",)),
    0x0122: ("SOP class not supported",
             ("the node does not implement this service or storage class",),
             ("run a capability probe", "convert or send to a node that supports the class")),
    0x0124: ("Not authorised", ("the node's access rules refuse this AE or user for the operation",),
             ("ask the PACS administrator to grant this AE the right",)),
    0x0211: ("Unrecognised operation", ("the node does not implement this DIMSE operation",),
             ("use another service (C-GET instead of C-MOVE, or the reverse)",)),
    0x0212: ("Mistyped argument", ("a malformed request",), ("report the request to the vendor",)),
    0x0213: ("Resource limitation", ("the node is overloaded",), ("retry later",)),
    0x0117: ("Invalid object instance", ("a malformed SOP instance UID",), ("check the file",)),
    0x0111: ("Duplicate SOP instance", ("the instance already exists on the node",), ()),
    0xFE00: ("Cancelled", (), ()),
    0xB000: ("Warning: coercion of data elements, or some sub-operations failed", (), ()),
    0xB006: ("Warning: elements discarded", (), ()),
    0xB007: ("Warning: data set does not match SOP class", (), ()),
    0x0001: ("Warning: requested optional attributes are not supported", (), ()),
    0x0107: ("Warning: attribute list error", (), ()),
    0x0116: ("Warning: attribute value out of range", (), ()),
}


def category(status: int) -> str:
    """success, pending, cancel, warning or failure (PS3.7 Annex C)."""
    if status == SUCCESS:
        return "success"
    if status in (PENDING, PENDING_WARNING):
        return "pending"
    if status == CANCEL:
        return "cancel"
    if status in (0x0001, 0x0107, 0x0116) or 0xB000 <= status <= 0xBFFF:
        return "warning"
    return "failure"


def meaning(service: str, status: int) -> str:
    if status == SUCCESS:
        return "Success"
    if status in (PENDING, PENDING_WARNING):
        return ("Pending: more matches follow" + (" (optional keys unsupported)" if status == 0xFF01 else "")
                if service == "find" else "Pending: sub-operations continuing")
    if status == 0xB000 and service in ("move", "get"):
        return "Warning: sub-operations completed with one or more failures or warnings"
    if status == 0xB000 and service == "store":
        return "Warning: coercion of data elements"
    if status in _SPECIFIC:
        return _SPECIFIC[status][0]
    if 0xA700 <= status <= 0xA7FF:
        return "Refused: out of resources"
    if 0xA900 <= status <= 0xA9FF:
        return "Error: data set or identifier does not match SOP class"
    if 0xC000 <= status <= 0xCFFF:
        return "Error: cannot understand / unable to process"
    if 0xB000 <= status <= 0xBFFF:
        return "Warning"
    return "Unknown status"


def describe_status(service: str, status: int, *, local_ae: str = "",
                    addresses: tuple[str, ...] = (), port: int | None = None) -> tuple[str, Diagnosis | None]:
    """(meaning, diagnosis); the diagnosis is None for success, pending and cancel.

    ``service`` is echo, find, move, get or store. ``local_ae``/``addresses``/``port`` make the
    0xA801 advice concrete: the AE, IP and port the PACS must have configured.
    """
    service = service.lower()
    text = meaning(service, status)
    kind = category(status)
    code = f"0x{status:04X}"
    evidence = {"status": f"{code} ({text})", "service": f"C-{service.upper()}"}
    if kind in ("success", "pending", "cancel"):
        return text, None
    if kind == "warning":
        causes = ("the node accepted the request but changed or dropped something",)
        actions = ("check the per-instance statuses and the node's log",)
        if service in ("move", "get"):
            causes = ("some instances could not be delivered or stored",)
            actions = ("see the failed instance list", "check the destination's free space and "
                       "accepted transfer syntaxes")
        return text, Diagnosis(f"dimse-warning-{status:04x}", f"C-{service.upper()} warning {code}: {text}",
                               causes, actions, evidence)
    if status == 0xA801:
        where = ", ".join(addresses) or "this laptop's IP address"
        who = repr(local_ae) if local_ae else "the destination AE"
        actions = (f"on the PACS, add AE {who} with IP {where} and port "
                   f"{port if port else 'of the Storage SCP'} as a DICOM peer (move destination)",
                   "check the AE title's spelling and case", "or use C-GET, which needs no destination")
        return text, Diagnosis(
            "move-destination-unknown",
            f"C-{service.upper()} failed {code}: the PACS does not know the destination {who}",
            (f"{who} is not configured on the PACS as a move destination",), actions, evidence)
    if status in _SPECIFIC:
        _, causes, actions = _SPECIFIC[status]
    elif 0xA700 <= status <= 0xA7FF:
        causes, actions = _SPECIFIC[0xA700][1:]
    elif 0xA900 <= status <= 0xA9FF:
        causes, actions = _SPECIFIC[0xA900][1:]
    elif 0xC000 <= status <= 0xCFFF:
        causes = ("the node could not process the request (decoding, database or internal error)",
                  "for C-STORE: the node cannot understand or store this object")
        actions = ("check the node's log at this time", "try another transfer syntax or object")
    else:
        causes, actions = ("an unusual status from the node",), ("check the node's log",)
    return text, Diagnosis(f"dimse-failure-{status:04x}", f"C-{service.upper()} failed {code}: {text}",
                           tuple(causes) or ("see the node's log",), tuple(actions), evidence)
