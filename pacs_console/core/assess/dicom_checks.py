"""DICOM access control: any called AE, any calling AE, C-FIND/C-STORE from an unknown AE, C-MOVE
to a destination the node was not given, default AE titles. Over the lean Upper Layer: every PDU
read goes through ``dicom.wire.pdu``'s bounded reader."""

from __future__ import annotations

import contextlib
import re
import struct
import uuid

from pacs_console.core.assess.move_listener import MoveListener, local_address
from pacs_console.core.dicom.wire import pdu, ul
from pacs_console.core.dicom.wire.params import Timeouts
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.dicom.wire.tls import TlsConfig
from pacs_console.core.discovery.aetitles import DICTIONARY
from pacs_console.core.discovery.probe import PROBE_AE
from pacs_console.core.errors import ConsoleError

VERIFICATION = "1.2.840.10008.1.1"
STUDY_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
CR_STORAGE = "1.2.840.10008.5.1.4.1.1.1"
IMPLICIT, EXPLICIT = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"
SYNTAXES = [EXPLICIT, IMPLICIT]
NO_SUCH_DEST = "PCA-NO-SUCH-DEST"
FIND_CAP = 100  # answers counted before the query is cancelled
ANSWER_LIMIT = 64 << 10  # one study-level answer with one key is tiny; more is refused
PENDING = (0xFF00, 0xFF01)
C_FIND, C_MOVE, C_STORE, C_CANCEL = 0x0020, 0x0021, 0x0001, 0x0FFF
_LONG_VRS = (b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR",
             b"UT", b"UV")
_UID = re.compile(r"[0-9]+(\.[0-9]+){1,40}")
WELL_KNOWN = frozenset(DICTIONARY)  # the titles a guesser (nmap dicom-brute, ours) tries first


def _element(group: int, element: int, vr: str, value: bytes, explicit: bool) -> bytes:
    if len(value) % 2:
        value += b"\x00" if vr == "UI" else b" "
    if explicit:
        return struct.pack("<HH2sH", group, element, vr.encode(), len(value)) + value
    return struct.pack("<HHI", group, element, len(value)) + value


def identifier(explicit: bool, study_uid: str = "") -> bytes:
    """QueryRetrieveLevel STUDY and StudyInstanceUID (empty: return key): nothing else."""
    return (_element(0x0008, 0x0052, "CS", b"STUDY", explicit)
            + _element(0x0020, 0x000D, "UI", study_uid.encode(), explicit))


def _target(service, called: str, calling: str, timeout: float) -> Target:
    tls = TlsConfig(verify=False) if service.kind == "dicom-tls" else None
    return Target(service.host, service.port, called, calling,
                  Timeouts(connect=timeout, acse=timeout, dimse=timeout, network=timeout), tls=tls)


def _open(run, service, called: str, calling: str, contexts):
    """``(LeanAssociation, "")`` or ``(None, why)``; a rejection's diagnosis code is the why."""
    run.pace()
    target = _target(service, called, calling, run.options.timeout)
    try:
        assoc = ul.open_lean(target, [(sop, list(SYNTAXES)) for sop in contexts])
    except ConsoleError as exc:
        return None, exc.diagnosis.code
    except ul.Fallback as exc:
        return None, f"no association ({str(exc)[:120]})"
    assoc.message_limit = ANSWER_LIMIT
    run.identity(service, assoc.implementation_class_uid, assoc.implementation_version_name)
    return assoc, ""


def _status(fields: dict) -> int:
    """The Status element; a malformed one (not a 2-byte US) counts as a failure."""
    value = fields.get(0x0900, 0xC000)
    return value if isinstance(value, int) else 0xC000


def _count_find(assoc, timeout: float) -> tuple[int, int | None]:
    """Answers to a universal study-level C-FIND, counted and dropped; (count, final status)."""
    cx = assoc.context_for(STUDY_FIND)
    explicit = cx.transfer_syntax == EXPLICIT
    assoc.send(cx.context_id, pdu.encode_command({0x0002: STUDY_FIND, 0x0100: C_FIND, 0x0110: 1,
                                                 0x0700: 0, 0x0800: 0}), identifier(explicit))
    count = 0
    while True:
        _, fields, data = assoc.receive(timeout)
        del data  # never kept, never read: only whether an answer came
        status = _status(fields)
        if status not in PENDING:
            return count, status
        count += 1
        if count >= FIND_CAP:
            assoc.send(cx.context_id, pdu.encode_command({0x0100: C_CANCEL, 0x0120: 1,
                                                         0x0800: ul.NO_DATASET}))
            return count, None


def _test_image(explicit: bool) -> tuple[str, bytes]:
    """One generated 64x64 CR image, marked as test data: (SOP instance UID, dataset bytes)."""
    from pynetdicom.dsutils import encode

    from pacs_console.core.dicom.synth.studies import generate_study

    ds = generate_study("CR", images=1, series=1, size=64)[0]
    ds.PatientName = "PCA^ASSESSMENT TEST IMAGE"
    ds.PatientID = "PCA-TEST-IMAGE"
    ds.PatientBirthDate = ""
    ds.StudyDescription = "TEST DATA - PACS Console security assessment, delete me"
    ds.SeriesDescription = "TEST DATA"
    ds.ImageComments = "Test image sent by a security assessment; not a patient"
    ds.PatientIdentityRemoved = "YES"
    ds.BurnedInAnnotation = "NO"
    return str(ds.SOPInstanceUID), encode(ds, not explicit, True)


def _store(assoc, timeout: float) -> int:
    cx = assoc.context_for(CR_STORAGE)
    explicit = cx.transfer_syntax == EXPLICIT
    sop_uid, data = _test_image(explicit)
    assoc.send(cx.context_id, pdu.encode_command({0x0002: CR_STORAGE, 0x0100: C_STORE,
                                                 0x0110: 2, 0x0700: 0, 0x0800: 0,
                                                 0x1000: sop_uid}), data)
    _, fields, _ = assoc.receive(timeout)
    return _status(fields)


def _count(fields: dict, element: int) -> int:
    value = fields.get(element, 0)
    return value if isinstance(value, int) else 0


def _move(assoc, timeout: float, study: str) -> tuple[int, int, int, int]:
    """C-MOVE of ``study`` to a destination nobody configured: (final status, pendings,
    failed sub-operations, sub-operations completed or with warnings), the counts as the final
    answer gives them (PS3.4 C.4.2.1.4: 0000,1021-1023)."""
    cx = assoc.context_for(STUDY_MOVE)
    explicit = cx.transfer_syntax == EXPLICIT
    assoc.send(cx.context_id, pdu.encode_command({0x0002: STUDY_MOVE, 0x0100: C_MOVE,
                                                 0x0110: 3, 0x0600: NO_SUCH_DEST, 0x0700: 0,
                                                 0x0800: 0}), identifier(explicit, study))
    pending = 0
    while True:
        _, fields, _ = assoc.receive(timeout)
        status = _status(fields)
        if status not in PENDING:
            return (status, pending, _count(fields, 0x1022),
                    _count(fields, 0x1021) + _count(fields, 0x1023))
        pending += 1
        if pending > 1000:
            raise ul.Lost("endless pending C-MOVE answers", protocol=True)


def assess(run, service) -> None:
    """All DICOM access checks on one DICOM (or DICOM-TLS) port."""
    options = run.options
    any_called = service.any_ae
    assoc, _ = _open(run, service, PROBE_AE, options.calling_ae, [VERIFICATION])
    if assoc is not None:
        assoc.release()
        any_called = True
    if any_called:
        run.add("dicom-any-called-ae", service,
                f"A-ASSOCIATE-RQ to called AE {PROBE_AE!r} (a title no node uses) was accepted")
    called = service.ae_title or (PROBE_AE if any_called else "")
    if service.ae_title and service.ae_title.strip().upper() in WELL_KNOWN:
        run.add("dicom-default-ae", service,
                f"AE title {service.ae_title!r} is in the list of well-known default titles")
    if not called:
        for check in ("dicom-any-calling-ae", "dicom-find-open", "dicom-store-open",
                      "dicom-move-anywhere"):
            run.skip(check, service, "the node's called AE title is unknown (add it to the "
                     "address book, or scan with --guess-ae)")
        return
    _unknown_caller(run, service, called)
    _move_check(run, service, called)


def _unknown_caller(run, service, called: str) -> None:
    """Association, C-FIND and (opt-in) C-STORE as an unknown calling AE; each on its own
    association, since a node that refuses one operation may abort the association."""
    options = run.options
    assoc, _ = _open(run, service, called, options.unknown_ae, [VERIFICATION, STUDY_FIND])
    if assoc is None:
        return  # refused: unknown callers get nothing, the secure answer
    run.add("dicom-any-calling-ae", service,
            f"an association from unknown calling AE {options.unknown_ae!r} to {called!r} was "
            "accepted")
    try:
        if assoc.context_for(STUDY_FIND):
            count, status = _count_find(assoc, options.timeout)
            if count:
                more = "+" if status is None else ""
                run.add("dicom-find-open", service,
                        f"a universal study-level C-FIND from {options.unknown_ae!r} was "
                        f"answered with {count}{more} studies (counted only, content discarded "
                        "unread)")
        assoc.release()
    except ul.Lost as lost:
        run.skip("dicom-find-open", service, f"the association ended: {lost}")
        assoc.abort()
    if not options.allow_store_test:
        run.skip("dicom-store-open", service, "storage acceptance not tested: it needs "
                 "--allow-store-test (one test image is stored)")
        return
    assoc, _ = _open(run, service, called, options.unknown_ae, [CR_STORAGE])
    if assoc is None:
        return  # storage from unknown callers refused (or CR Image Storage not accepted)
    try:
        status = _store(assoc, options.timeout)
        assoc.release()
    except ul.Lost as lost:
        assoc.abort()
        run.skip("dicom-store-open", service, f"the association ended: {lost}")
        return
    if status == 0 or 0xB000 <= status <= 0xBFFF:
        run.add("dicom-store-open", service,
                f"C-STORE of one test image (patient 'PCA^ASSESSMENT TEST IMAGE') from "
                f"{options.unknown_ae!r} answered status 0x{status:04X}: stored; delete the "
                "test study")


def study_uid(data: bytes | None, explicit: bool) -> str:
    """StudyInstanceUID (0020,000D) from a C-FIND answer identifier, or "" (bounded walk of
    little-endian elements; anything odd ends the walk)."""
    if not data:
        return ""
    at, end = 0, min(len(data), ANSWER_LIMIT)
    while at + 8 <= end:
        group, element = struct.unpack_from("<HH", data, at)
        if explicit:
            vr = data[at + 4:at + 6]
            if vr in _LONG_VRS:
                if at + 12 > end:
                    return ""
                length, at = struct.unpack_from("<I", data, at + 8)[0], at + 12
            else:
                length, at = struct.unpack_from("<H", data, at + 6)[0], at + 8
        else:
            length, at = struct.unpack_from("<I", data, at + 4)[0], at + 8
        if length == 0xFFFFFFFF or at + length > end:
            return ""
        if (group, element) == (0x0020, 0x000D):
            value = data[at:at + length].rstrip(b"\x00 ").decode("ascii", "replace")
            return value if len(value) <= 64 and _UID.fullmatch(value) else ""
        at += length
    return ""


def _first_study(run, service, called: str) -> str:
    """One StudyInstanceUID the node holds, asked as this console (kept in memory for the
    move request only, never reported); "" when none comes."""
    assoc, _ = _open(run, service, called, run.options.calling_ae, [STUDY_FIND])
    if assoc is None:
        return ""
    uid = ""
    try:
        cx = assoc.context_for(STUDY_FIND)
        if cx is not None:
            explicit = cx.transfer_syntax == EXPLICIT
            assoc.send(cx.context_id, pdu.encode_command({
                0x0002: STUDY_FIND, 0x0100: C_FIND, 0x0110: 4, 0x0700: 0, 0x0800: 0}),
                identifier(explicit))
            _, fields, data = assoc.receive(run.options.timeout)
            if _status(fields) in PENDING:
                uid = study_uid(data, explicit)
                assoc.send(cx.context_id, pdu.encode_command({0x0100: C_CANCEL, 0x0120: 4,
                                                             0x0800: ul.NO_DATASET}))
        assoc.release()
    except ul.Lost:
        assoc.abort()
    return uid


def _move_check(run, service, called: str) -> None:
    options = run.options
    study = _first_study(run, service, called) if options.allow_move_test else ""
    assoc, why = _open(run, service, called, options.calling_ae, [STUDY_MOVE])
    if assoc is None:
        run.skip("dicom-move-anywhere", service,
                 f"no Study Root C-MOVE association as {options.calling_ae!r}: {why}")
        return
    ear = None
    address = local_address(assoc.sock)
    try:
        ear = MoveListener(address, options.move_listen_port, options.timeout) if address \
            else None
    except OSError:
        ear = None  # no listener: only the answer's status can be judged
    try:
        with ear if ear is not None else contextlib.nullcontext():
            status, pending, failed, sent = _move(assoc, options.timeout,
                                                  study or f"2.25.{uuid.uuid4().int}")
            assoc.release()
            if ear is not None and not ear.seen and status != 0xA801 and (study or pending):
                ear.wait(min(0.5, options.timeout))  # a node may connect after its answer
    except ul.Lost as lost:
        assoc.abort()
        if not _heard(run, service, ear, study):
            run.skip("dicom-move-anywhere", service, f"the association ended: {lost}")
        return
    if _heard(run, service, ear, study):
        return
    what = "an existing study" if study else "a study that does not exist"
    if status == 0xA801:
        if not study:
            why = ("this console's C-FIND found no study to move, so a node that checks the "
                   "destination only after matching is not caught" if options.allow_move_test
                   else "moving an existing one (--allow-move-test) would also catch a node "
                   "that checks the destination only after matching")
            run.skip("dicom-move-anywhere", service, "the unknown destination was refused "
                     f"(0xA801) for a study that does not exist; {why}")
        return  # move destination unknown: refused, the secure answer
    if failed and not sent and status != 0:
        _tried_elsewhere(run, service, ear, what, status, failed)
    elif status == 0 or pending or 0xB000 <= status <= 0xBFFF:
        run.add("dicom-move-anywhere", service,
                f"C-MOVE of {what} to destination AE {NO_SUCH_DEST!r} (configured nowhere) "
                f"answered 0x{status:04X} after {pending} pending: the node did not refuse "
                "the unknown destination (0xA801)" + (
                    f", and nothing reached this console's listener {ear.address}:{ear.port}: "
                    "it resolved the title to some other address" if ear and study else ""))
    elif not study:
        run.skip("dicom-move-anywhere", service,
                 f"C-MOVE refused with 0x{status:04X}, not 'destination unknown' (0xA801): "
                 "the node refused this console before checking the destination")
    # else: this console may query and move here (it found the study), the move of an existing
    # study failed, and nothing reached the listener: the destination was refused (Orthanc says
    # 0xC000 'Unknown modality for AET' rather than 0xA801).


def _tried_elsewhere(run, service, ear, what: str, status: int, failed: int) -> None:
    """A failure that counts failed sub-operations: the node took the unknown destination and
    tried to send there. A refusal has no sub-operation to fail (0xA801, counts 0 or absent);
    the listener heard nothing, so the address it tried is not this console's."""
    where = f" (this console's listener {ear.address}:{ear.port} heard nothing)" if ear else ""
    run.add("dicom-move-anywhere", service,
            f"C-MOVE of {what} to destination AE {NO_SUCH_DEST!r} (configured nowhere) answered "
            f"0x{status:04X} with {failed} failed sub-operation(s): the node did not refuse the "
            "unknown destination (a refusal is 0xA801 with no sub-operation) but resolved the "
            f"title to some other address and tried to send the images there{where}; that "
            "address did not take them this time")


def _heard(run, service, ear, study: str) -> bool:
    """Flag the move when the node opened an association to our listener for it."""
    if ear is None:
        return False
    ours = [a for a in ear.seen if a.called_ae == NO_SUCH_DEST or a.address == service.host]
    if not ours:
        return False
    what = "an existing study" if study else "a study that does not exist"
    run.add("dicom-move-anywhere", service,
            f"during a C-MOVE of {what} to destination AE {NO_SUCH_DEST!r} (configured "
            f"nowhere), {ours[0].text()} to this console's listener {ear.address}:{ear.port}, "
            "an address the node was never given for that title; refused (A-ASSOCIATE-RJ), "
            "no image received")
    return True
