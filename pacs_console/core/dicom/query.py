"""C-FIND at patient, study, series and image level (Patient/Study Root) and Modality Worklist."""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass, field

from pydicom import Dataset
from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence
from pynetdicom.sop_class import (
    ModalityWorklistInformationFind,
    PatientRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelFind,
)

from pacs_console.core.dicom import association as assoc_mod
from pacs_console.core.dicom.charsets import (
    CHARSETS,
    codec_note,
    decode_undeclared,
    fallback_codecs,
)
from pacs_console.core.dicom.charsets import encoding_of as _encoding
from pacs_console.core.dicom.dimse_status import (
    PENDING,
    PENDING_WARNING,
    category,
    describe_status,
)
from pacs_console.core.dicom.query_lean import find_lean
from pacs_console.core.dicom.results import make_evidence
from pacs_console.core.dicom.target import Target
from pacs_console.core.errors import ConsoleError, Diagnosis

FIND_MODELS = {"study": StudyRootQueryRetrieveInformationModelFind,
               "patient": PatientRootQueryRetrieveInformationModelFind,
               "worklist": ModalityWorklistInformationFind}
LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")
SPS = "ScheduledProcedureStepSequence"
_PATIENT = ["PatientName", "PatientID", "PatientBirthDate", "PatientSex"]
_STUDY = ["StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "StudyID",
          "StudyDescription", "ModalitiesInStudy", "ReferringPhysicianName",
          "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"]
RETURN_KEYS = {
    "PATIENT": [*_PATIENT, "NumberOfPatientRelatedStudies"],
    "STUDY": _PATIENT + _STUDY,
    "SERIES": ["StudyInstanceUID", "SeriesInstanceUID", "Modality", "SeriesNumber",
               "SeriesDescription", "SeriesDate", "BodyPartExamined",
               "NumberOfSeriesRelatedInstances"],
    "IMAGE": ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID",
              "InstanceNumber"],
    "WORKLIST": [*_PATIENT, "AccessionNumber", "StudyInstanceUID", "RequestedProcedureID",
                 "RequestedProcedureDescription", "ReferringPhysicianName"],
}
SPS_KEYS = ["Modality", "ScheduledStationAETitle", "ScheduledStationName",
            "ScheduledProcedureStepStartDate", "ScheduledProcedureStepStartTime",
            "ScheduledPerformingPhysicianName", "ScheduledProcedureStepDescription",
            "ScheduledProcedureStepID"]
_ALIASES = {"name": "PatientName", "patient_name": "PatientName", "patient_id": "PatientID",
            "id": "PatientID", "birth_date": "PatientBirthDate", "accession": "AccessionNumber",
            "study_uid": "StudyInstanceUID", "series_uid": "SeriesInstanceUID",
            "sop_uid": "SOPInstanceUID"}
_SKIP = {"SpecificCharacterSet", "QueryRetrieveLevel"}


@dataclass
class FindResult:
    count: int = 0
    status: int | None = None
    duration_ms: float = 0.0
    diagnosis: Diagnosis | None = None
    association: dict | None = None
    matches_truncated: bool = False
    cancelled: bool = False
    target: Target | None = field(default=None, repr=False)
    parameters: dict = field(default_factory=dict)
    # Answers without Specific Character Set: what their non-ASCII text was read as.
    charset_assumed: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 0 or (self.cancelled and self.diagnosis is None)

    @property
    def outcome(self) -> str:
        if self.status is None and not self.cancelled:
            return "failed"
        if self.status is not None and category(self.status) == "failure":
            return "failed"
        return "warning" if self.diagnosis is not None else "ok"

    def to_dict(self) -> dict:
        return {"count": self.count, "status": self.status, "duration_ms": round(self.duration_ms, 3),
                "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
                "association": self.association, "matches_truncated": self.matches_truncated,
                "cancelled": self.cancelled, "charset_assumed": self.charset_assumed,
                "parameters": self.parameters}

    def summary(self) -> str:
        if self.status is None and self.diagnosis:
            return f"C-FIND failed: {self.diagnosis.what}"
        extra = " (truncated)" if self.matches_truncated else " (cancelled)" if self.cancelled else ""
        return f"C-FIND: {self.count} matches in {self.duration_ms:.0f} ms{extra}"

    def matched(self, limit: int | None) -> bool:
        """Count one match; True when ``limit`` is reached and the rest are to be cancelled."""
        self.count += 1
        self.matches_truncated = limit is not None and self.count >= limit
        return self.matches_truncated

    def final(self, code: int) -> None:
        """The final (non-pending) response status."""
        self.status, self.cancelled = code, code == 0xFE00
        _, self.diagnosis = describe_status("find", code)

    def evidence(self) -> dict:
        return make_evidence("find", self.target or "unknown", outcome=self.outcome,
                             parameters=self.parameters,
                             metrics={"count": self.count, "status": self.status,
                                      "truncated": self.matches_truncated},
                             diagnosis=self.diagnosis, association=self.association,
                             summary=self.summary(), duration_ms=self.duration_ms)


def _set(ds: Dataset, keyword: str, value: str) -> None:
    """Set a keyword, a dotted path into a sequence's first item, or a hex tag like 00100020."""
    if "." in keyword:
        seq_kw, rest = keyword.split(".", 1)
        if seq_kw not in ds or not ds[seq_kw].value:
            setattr(ds, seq_kw, DicomSequence([Dataset()]))
        _set(ds[seq_kw].value[0], rest, value)
        return
    tag = tag_for_keyword(keyword)
    if tag is None:
        text = keyword.strip("()").replace(",", "")
        try:
            tag = int(text, 16)
        except ValueError:
            raise ConsoleError(Diagnosis(
                "bad-query-key", f"{keyword!r} is not a DICOM keyword or tag",
                ("a typing mistake in a free query key",),
                ("use a DICOM keyword such as PatientID, or a tag such as 0010,0020",),
                {"key": keyword})) from None
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        vr = "LO"  # a private tag: LO holds any short text
    if vr == "SQ":
        ds.add_new(tag, vr, DicomSequence([Dataset()] if value in ("", None) else []))
    else:
        ds.add_new(tag, vr, value)


def build_identifier(level: str, keys: dict[str, str], model: str = "study",
                     extra: dict | None = None) -> Dataset:
    """The C-FIND identifier: default return keys for the level, then the matching keys."""
    level = level.upper()
    worklist = model == "worklist"
    ds = Dataset()
    # Always UTF-8: peers that honour the query's character set (Orthanc does) then answer in
    # UTF-8 too, and Ghanaian names keep their ɛ and ɔ instead of coming back as Latin-1 '?'.
    ds.SpecificCharacterSet = "ISO_IR 192"  # before the values: PN encodes with it
    if not worklist:
        if level not in LEVELS:
            raise ConsoleError(Diagnosis(
                "bad-query-level", f"{level!r} is not a query level", (),
                (f"use one of {', '.join(LEVELS)}",)))
        ds.QueryRetrieveLevel = level
    for keyword in RETURN_KEYS["WORKLIST" if worklist else level]:
        _set(ds, keyword, "")
    if worklist:
        for keyword in SPS_KEYS:
            _set(ds, f"{SPS}.{keyword}", "")
    for name, value in {**(keys or {}), **(extra or {})}.items():
        if value is None:
            continue
        _set(ds, _keyword(name, level, worklist), str(value))
    return ds


def _keyword(name: str, level: str, worklist: bool) -> str:
    key = name.strip()
    lower = key.lower()
    if lower in _ALIASES:
        return _ALIASES[lower]
    if lower in ("date", "study_date"):
        return f"{SPS}.ScheduledProcedureStepStartDate" if worklist else "StudyDate"
    if lower == "modality":
        if worklist:
            return f"{SPS}.Modality"
        return "Modality" if level in ("SERIES", "IMAGE") else "ModalitiesInStudy"
    if lower == "description":
        if worklist:
            return "RequestedProcedureDescription"
        return "SeriesDescription" if level in ("SERIES", "IMAGE") else "StudyDescription"
    if lower in ("station_ae", "station"):
        return f"{SPS}.ScheduledStationAETitle"
    return key


_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST",
                       "TM", "UC", "UI", "UR", "UT"})
_CHARSETS = CHARSETS  # query_lean's fast decoder reads the same table


def _text(elem, ds: Dataset, encoding: str | None, undeclared=None) -> str:
    value = elem.value
    # Raw bytes straight from the wire: decoding them ourselves skips pydicom's per-element
    # conversion, which was most of the time a 5,000-match C-FIND spends in Python.
    if isinstance(value, bytes) and encoding is not None and elem.VR in _TEXT_VRS:
        if encoding in ("", "ascii"):  # none declared (or ASCII declared, bytes say more)
            codecs, used = undeclared or (("utf-8", "latin-1"), set())
            return decode_undeclared(value, codecs, used)
        return value.decode(encoding, "replace").rstrip(" \x00")
    value = ds[elem.tag].value
    if value is None:
        return ""
    if isinstance(value, MultiValue | list):
        return "\\".join(str(v) for v in value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def flatten(ds: Dataset | None, undeclared: tuple | None = None,
            inherited: str | None = None) -> dict[str, str]:
    """A match as keyword -> text; first sequence items are flattened into their keywords.

    ``undeclared`` is (codecs to try, set of codecs used) for text when the answer declares
    no Specific Character Set (see ``fallback_codecs``)."""
    out: dict[str, str] = {}
    if ds is None:
        return out
    encoding = _encoding(ds)
    if encoding == "" and inherited is not None:
        encoding = inherited  # a sequence item follows its parent's character set
    for elem in ds.elements():
        tag = elem.tag
        keyword = keyword_for_tag(tag) or f"{tag >> 16:04X}{tag & 0xFFFF:04X}"
        if keyword in _SKIP:
            continue
        if elem.VR == "SQ" or (elem.VR is None and dictionary_vr_or_none(tag) == "SQ"):
            for item in ds[tag].value[:1]:
                for key, value in flatten(item, undeclared, encoding).items():
                    out.setdefault(key, value)
            continue
        out[keyword] = _text(elem, ds, encoding, undeclared)
    return out


def dictionary_vr_or_none(tag) -> str | None:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return None


def _is_broad(keys: dict, extra: dict | None) -> bool:
    values = [str(v) for v in {**(keys or {}), **(extra or {})}.values() if v is not None]
    return all(v.strip("*") == "" for v in values)


def no_match_hint(target: Target, broad: bool, association: dict | None) -> Diagnosis:
    product = ((association or {}).get("fingerprint") or {}).get("product", "")
    calling = target.calling_ae
    causes = [f"the node does not list this console's calling AE {calling!r} for queries: "
              "Orthanc, for one, answers C-FIND from an AE missing from its DicomModalities "
              "with an empty result instead of an error",
              "the node holds no data matching these keys"]
    if not broad:
        causes.reverse()
        causes.append("keys too narrow: use * and ? as wildcards, date ranges as YYYYMMDD-YYYYMMDD")
    code = "no-matches-unregistered-ae" if broad else "no-matches"
    return Diagnosis(
        code, "The query returned no matches" + (" although it asked for everything" if broad else ""),
        tuple(causes),
        (f"check that AE {calling!r} with this laptop's IP address is in the node's list of "
         "DICOM peers (Orthanc: DicomModalities) and allowed to query",
         "widen the query (patient name *, no date)"),
        {"calling AE": calling, "node product": product or "unknown"})


def find(target: Target, level: str, keys: dict[str, str], *, model: str = "study",
         extra: dict | None = None, limit: int | None = None
         ) -> Generator[dict[str, str], None, FindResult]:
    """Yield each match as it arrives; return a FindResult. Closing early sends C-CANCEL."""
    sop_class = FIND_MODELS[model]
    result = FindResult(target=target, parameters={"level": level.upper(), "model": model,
                                                   "keys": dict(keys or {}),
                                                   "extra": dict(extra or {}), "limit": limit})
    start = time.perf_counter()
    timing: dict = {}
    try:
        identifier = build_identifier(level, keys, model, extra)
        undeclared = (fallback_codecs(identifier), set())
        if (yield from find_lean(target, sop_class, identifier, result, limit)):
            if result.status == 0 and result.count == 0:
                result.diagnosis = no_match_hint(target, _is_broad(keys, extra),
                                                 result.association)
            result.duration_ms = (time.perf_counter() - start) * 1000
            return result
        assoc = assoc_mod.connect(target, [sop_class], timing=timing)
    except ConsoleError as exc:
        result.diagnosis = exc.diagnosis
        result.duration_ms = (time.perf_counter() - start) * 1000
        return result
    finished = False
    responses = None
    try:
        result.association = assoc_mod.association_report(assoc, timing)
        assoc_mod.require_context(assoc, sop_class)
        responses = assoc.send_c_find(identifier, sop_class, msg_id=1)
        last = time.perf_counter()
        for status, ds in responses:
            if not status:
                result.diagnosis = _lost(assoc.is_aborted, target, result.count,
                                         time.perf_counter() - last)
                finished = True
                break
            last = time.perf_counter()
            code = int(status.Status)
            if code in (PENDING, PENDING_WARNING):
                truncated = result.matched(limit)
                row = flatten(ds, undeclared)
                result.charset_assumed = codec_note(undeclared[1], undeclared[0])
                yield row
                if truncated:
                    break
                continue
            finished = True
            result.final(code)
            break
        if result.status == 0 and result.count == 0:
            result.diagnosis = no_match_hint(target, _is_broad(keys, extra), result.association)
    except ConsoleError as exc:
        result.diagnosis = exc.diagnosis
    finally:
        if not finished and responses is not None:
            result.cancelled = True
            _cancel(assoc, responses, result)
        assoc_mod.release(assoc)
        result.duration_ms = (time.perf_counter() - start) * 1000
    return result


def _lost(aborted: bool, target: Target, count: int, quiet_s: float) -> Diagnosis:
    """No response: an abort or a closed connection if it came well before the DIMSE timeout."""
    dimse = target.timeouts.dimse
    if aborted or quiet_s < dimse * 0.9:
        if count == 0:
            return Diagnosis(
                "no-matches-unregistered-ae",
                "The node ended the association instead of answering the query",
                (f"the node does not list this console's calling AE {target.calling_ae!r}: "
                 "Orthanc, for one, drops C-FIND from an AE missing from its DicomModalities",
                 "the node's query service crashed on this request"),
                (f"add AE {target.calling_ae!r} with this laptop's IP address to the node's "
                 "list of DICOM peers (Orthanc: DicomModalities) and allow it to query",
                 "check the node's log at this time"),
                {"calling AE": target.calling_ae, "after": f"{quiet_s:.2f} s"})
        diag = assoc_mod.diagnose.diagnose_abort(f"during C-FIND after {count} matches")
        return Diagnosis(diag.code, diag.what, diag.causes, diag.actions,
                         {"matches received": str(count)})
    return Diagnosis("dimse-timeout", f"No C-FIND response within {dimse:g} s",
                     ("the node is still searching (a very broad query on a large archive)",
                      "the node's query service hung"),
                     ("narrow the query", "raise the DIMSE timeout for this node"),
                     {"DIMSE timeout": f"{dimse:g} s", "matches received": str(count)})


def _cancel(assoc, responses, result: FindResult, grace: float = 2.0) -> None:
    """C-CANCEL, then drain the remaining responses for a short while (abort if the peer won't stop)."""
    if not assoc.is_established:
        return
    try:
        assoc.send_c_cancel(1, query_model=FIND_MODELS[result.parameters["model"]])
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
