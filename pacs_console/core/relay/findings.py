"""Diagnose a decoded association in plain words, and its summary for people and scripts.

Reuses the console's own diagnoses (rejections, aborts, DIMSE statuses) and adds what only a
view of both sides shows: contexts the PACS refused that the modality needed, stores never
answered, worklist queries that cannot match, objects without the keys a PACS matches on,
and text whose bytes do not fit the declared character set. The summary is redacted by the
one PHI module: patient names and IDs never leave in it.
"""

from __future__ import annotations

from pacs_console.core import phi
from pacs_console.core.dicom.diagnosis import diagnose
from pacs_console.core.dicom.diagnosis.dimse_status import category, describe_status
from pacs_console.core.errors import Diagnosis
from pacs_console.core.relay.conversation import AC, RQ, Conversation

WORKLIST = "1.2.840.10008.5.1.4.31"
_SERVICES = {"C-STORE": "store", "C-FIND": "find", "C-MOVE": "move", "C-GET": "get",
             "C-ECHO": "echo"}


def _uid_name(uid: str) -> str:
    try:
        from pydicom.uid import UID

        name = UID(uid).name
        return name if name and name != uid else uid
    except Exception:  # noqa: BLE001 - a hostile UID is shown as it is
        return uid


def diagnose_conversation(conv: Conversation) -> list[Diagnosis]:
    conv.resolve()
    found: list[Diagnosis] = []
    if conv.rejection is not None:
        result, source, reason = conv.rejection
        found.append(diagnose.diagnose_rejection(result, source, reason, conv.called_ae,
                                                 conv.calling_ae))
    found += _refused(conv)
    if conv.aborted_by is not None:
        direction, source, reason = conv.aborted_by
        who = "the modality (requestor)" if direction == RQ else "the PACS (acceptor)"
        base = diagnose.diagnose_abort(f"({who} sent A-ABORT, source {source}, reason {reason})")
        done = sum(1 for m in conv.messages if m.get("status"))
        found.append(Diagnosis(base.code, base.what, base.causes, base.actions,
                               {"aborted by": who, "messages completed before": str(done)}))
    found += _statuses(conv)
    found += _unanswered(conv)
    found += _worklist(conv)
    found += _stored_keys(conv)
    found += _charsets(conv)
    if conv.result == "closed without release" and conv.aborted_by is None:
        found.append(Diagnosis(
            "closed-without-release", "The connection closed without an A-RELEASE",
            ("one side crashed, timed out or was stopped", "a firewall cut an idle connection"),
            ("check both nodes' logs at this time",), {}))
    return found + conv.problems


def _refused(conv: Conversation) -> list[Diagnosis]:
    if conv.result != "accepted" and conv.result not in ("released", "releasing",
                                                          "closed without release", "aborted"):
        return []
    if not conv.answers:
        return []
    accepted = {conv.proposed.get(i, ("", []))[0] for i, (r, _) in conv.answers.items() if r == 0}
    missing: dict[str, str] = {}
    for cid, (result, _) in conv.answers.items():
        abstract = conv.proposed.get(cid, ("", []))[0]
        if result != 0 and abstract and abstract not in accepted:
            missing[abstract] = {1: "user rejected", 2: "no reason", 3: "SOP class not supported",
                                 4: "transfer syntaxes not supported"}.get(result, str(result))
    if not missing:
        return []
    if not accepted:
        return [diagnose.diagnose_no_context([_uid_name(a) for a in missing], list(missing.values()))]
    return [Diagnosis(
        "context-refused",
        f"The PACS refused {len(missing)} kind(s) of object the modality proposed: "
        + ", ".join(_uid_name(a) for a in missing),
        ("the PACS does not accept this SOP class, or none of the offered transfer syntaxes",),
        ("enable the SOP class or transfer syntax on the PACS",
         "or configure the modality to send a transfer syntax the PACS accepts"),
        {_uid_name(a): why for a, why in missing.items()})]


def _statuses(conv: Conversation) -> list[Diagnosis]:
    seen: dict[str, Diagnosis] = {}
    counts: dict[str, int] = {}
    for msg in conv.messages:
        status = msg.get("status", "none")
        if status == "none" or not status.startswith("0x"):
            continue
        code = int(status, 16)
        if category(code) not in ("failure", "warning"):
            continue
        service = _SERVICES.get(msg["command"][:-3], "store")
        _, diag = describe_status(service, code, local_ae=msg.get("move_destination", ""))
        if diag is not None:
            counts[diag.code] = counts.get(diag.code, 0) + 1
            seen.setdefault(diag.code, diag)
    out = []
    for code, diag in seen.items():
        evidence = dict(diag.evidence, messages=str(counts[code]))
        out.append(Diagnosis(diag.code, diag.what, diag.causes, diag.actions, evidence))
    return out


def _unanswered(conv: Conversation) -> list[Diagnosis]:
    stores = [m for m in conv.messages if m["command"] == "C-STORE-RQ" and "status" not in m]
    others = [m for m in conv.messages if m["command"] != "C-STORE-RQ" and "status" not in m
              and m["command"] != "C-CANCEL-RQ"]
    out = []
    if stores:
        out.append(Diagnosis(
            "store-no-response",
            f"{len(stores)} C-STORE request(s) never got a response from the PACS",
            ("the PACS hung or crashed while storing", "the association was cut mid-transfer"),
            ("check the PACS log at this time", "resend those images and compare counts"),
            {"unanswered": str(len(stores)), "how it ended": conv.result,
             "cut off mid-dataset": str(sum(1 for m in stores if m.get("cut_off")))}))
    if others:
        out.append(Diagnosis(
            "request-no-response",
            f"{len(others)} request(s) never got a final response: "
            + ", ".join(sorted({m['command'] for m in others})),
            ("the node is still working or hung", "the association was cut"),
            ("check the node's log at this time",), {"how it ended": conv.result}))
    return out


def _worklist(conv: Conversation) -> list[Diagnosis]:
    out = []
    for msg in conv.messages:
        if msg["command"] != "C-FIND-RQ" or msg.get("sop_class") != WORKLIST:
            continue
        if msg.get("status") != "0x0000" or msg.get("matches"):
            continue
        step = (msg.get("dataset") or {}).get("ScheduledProcedureStep", {})
        keys = {k: v for k, v in step.items() if v and v.strip("*?")}
        evidence = {k: v for k, v in keys.items()}
        causes = []
        station = keys.get("ScheduledStationAETitle")
        if station:
            causes.append(f"no scheduled step is booked for station AE {station!r} (the RIS "
                          "books steps on another AE title, or the modality's AE differs)")
            if conv.calling_ae and station != conv.calling_ae:
                causes.append(f"the station key {station!r} is not even the modality's own "
                              f"AE {conv.calling_ae!r}")
        if keys.get("ScheduledProcedureStepStartDate"):
            causes.append("no step is scheduled on the requested date (a wrong clock or date range)")
        if keys.get("Modality"):
            causes.append(f"no step is scheduled for modality {keys['Modality']!r}")
        if not causes:
            causes.append("the worklist has no scheduled steps at all")
        out.append(Diagnosis(
            "worklist-no-match", "The modality's worklist query matched nothing",
            tuple(causes),
            ("compare the station AE title, modality and date on the RIS with the modality's "
             "query", "query the worklist from the console with fewer keys"), evidence))
    return out


def _stored_keys(conv: Conversation) -> list[Diagnosis]:
    no_study = no_accession = total = 0
    for msg in conv.messages:
        if msg["command"] != "C-STORE-RQ" or not isinstance(msg.get("dataset"), dict):
            continue
        data = msg["dataset"]
        if "problem" in data:
            continue
        total += 1
        no_study += not data.get("StudyInstanceUID")
        no_accession += not data.get("AccessionNumber")
    out = []
    if no_study:
        out.append(Diagnosis(
            "store-without-study-uid", f"{no_study} of {total} stored object(s) have no Study Instance UID",
            ("the modality builds objects without the key every PACS files studies under",),
            ("fix the modality's export settings; the PACS may reject or misfile these",),
            {"objects": str(no_study)}))
    if no_accession:
        out.append(Diagnosis(
            "store-without-accession",
            f"{no_accession} of {total} stored object(s) arrived without an accession number",
            ("the study was not started from the worklist, so the RIS order is not linked",
             "the modality does not copy the worklist's accession number into the images"),
            ("start exams from the worklist on the modality",
             "check the modality's worklist-to-image attribute mapping"),
            {"objects": str(no_accession)}))
    return out


def _charsets(conv: Conversation) -> list[Diagnosis]:
    undeclared, declared, unknown = [], set(), set()
    for msg in conv.messages:
        data = msg.get("dataset") if isinstance(msg.get("dataset"), dict) else {}
        charset = data.get("SpecificCharacterSet", "")
        if any("encoding" in w for w in data.get("warnings", [])):
            unknown.add(charset)
        if data.get("non_ascii"):
            declared.add(charset)
            if not charset or charset == "ISO_IR 6":
                undeclared.append(msg["command"])
        for other in msg.get("match_charsets", []):
            if msg.get("matches_non_ascii") and other != charset:
                declared.add(other)
                declared.add(charset)
    out = []
    if undeclared:
        out.append(Diagnosis(
            "charset-undeclared",
            f"{len(undeclared)} message(s) carry accented or non-Latin text without declaring "
            "a character set",
            ("the sender writes names in its local encoding but leaves Specific Character Set "
             "empty, so the receiver shows mojibake",),
            ("set the sender's character set (e.g. ISO_IR 100 or ISO_IR 192)",),
            {"messages": ", ".join(sorted(set(undeclared)))}))
    if unknown:
        out.append(Diagnosis(
            "charset-unknown", "A dataset declares a character set no DICOM reader knows",
            ("a misspelt Specific Character Set on the sender (e.g. 'ISO_IR100' for "
             "'ISO_IR 100')",), ("correct the character set in the sender's configuration",),
            {"declared": ", ".join(sorted(unknown))}))
    if len(declared) > 1:
        out.append(Diagnosis(
            "charset-mismatch", "The two sides use different character sets for non-ASCII text",
            ("one node sends UTF-8 and the other expects Latin-1 (or the reverse)",),
            ("align the character set on both nodes",),
            {"character sets": ", ".join(sorted(c or "(none)" for c in declared))}))
    return out


def summary(conv: Conversation) -> dict:
    """The association for JSON and the view, patient data redacted (in what a peer or a
    dataset put there: the messages, the findings and the timeline; the contexts, addresses
    and counts are the protocol's own)."""
    conv.resolve()
    messages = [{k: v for k, v in m.items() if not k.startswith("_")} for m in conv.messages]
    duration = max(0.0, (conv.ended or 0.0) - (conv.started or 0.0))
    total = conv.bytes[RQ] + conv.bytes[AC]
    data = {
        "client": conv.client, "server": conv.server,
        "calling_ae": conv.calling_ae, "called_ae": conv.called_ae, "result": conv.result,
        "started": conv.started, "duration_s": round(duration, 3),
        "bytes": {"from_requestor": conv.bytes[RQ], "from_acceptor": conv.bytes[AC]},
        "throughput_mb_s": round(total / duration / 1e6, 2) if duration > 0 else None,
        "contexts": [{"id": cid, "abstract_syntax": abstract, "name": _uid_name(abstract),
                      "proposed": syntaxes,
                      "result": conv.answers.get(cid, (None, ""))[0],
                      "transfer_syntax": conv.answers.get(cid, (None, ""))[1]}
                     for cid, (abstract, syntaxes) in conv.proposed.items()],
        "messages": phi.redact_json(messages), "messages_not_kept": conv.messages_dropped,
        "timeline": phi.redact_json(conv.events), "events_not_kept": conv.events_dropped,
        "mid_association": conv.mid_association, "tls": dict(conv.tls),
        "diagnosis": phi.redact_json([d.to_dict() for d in diagnose_conversation(conv)]),
    }
    return data
