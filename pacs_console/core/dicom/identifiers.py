"""C-FIND and retrieve identifiers, both ways: building them from the engineer's keys and
reading answers back into flat keyword -> text rows.

Shared by ``query`` (the operation), ``wire.lean_query`` (its fast wire path) and ``retrieve``, so
none of them reaches into another's private names and no two import each other.
"""

from __future__ import annotations

from pydicom import Dataset
from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence

from pacs_console.core.dicom.charsets import decode_undeclared, encoding_of
from pacs_console.core.errors import ConsoleError, Diagnosis

LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")
SPS = "ScheduledProcedureStepSequence"
PATIENT_KEYS = ["PatientName", "PatientID", "PatientBirthDate", "PatientSex"]
STUDY_KEYS = ["StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "StudyID",
          "StudyDescription", "ModalitiesInStudy", "ReferringPhysicianName",
          "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"]
RETURN_KEYS = {
    "PATIENT": [*PATIENT_KEYS, "NumberOfPatientRelatedStudies"],
    "STUDY": PATIENT_KEYS + STUDY_KEYS,
    "SERIES": ["StudyInstanceUID", "SeriesInstanceUID", "Modality", "SeriesNumber",
               "SeriesDescription", "SeriesDate", "BodyPartExamined",
               "NumberOfSeriesRelatedInstances"],
    "IMAGE": ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID",
              "InstanceNumber"],
    "WORKLIST": [*PATIENT_KEYS, "AccessionNumber", "StudyInstanceUID", "RequestedProcedureID",
                 "RequestedProcedureDescription", "ReferringPhysicianName"],
}
SPS_KEYS = ["Modality", "ScheduledStationAETitle", "ScheduledStationName",
            "ScheduledProcedureStepStartDate", "ScheduledProcedureStepStartTime",
            "ScheduledPerformingPhysicianName", "ScheduledProcedureStepDescription",
            "ScheduledProcedureStepID"]
ALIASES = {"name": "PatientName", "patient_name": "PatientName", "patient_id": "PatientID",
            "id": "PatientID", "birth_date": "PatientBirthDate", "accession": "AccessionNumber",
            "study_uid": "StudyInstanceUID", "series_uid": "SeriesInstanceUID",
            "sop_uid": "SOPInstanceUID"}
# The columns a person sees for each level's matches (CLI table and the Query tab).
MATCH_COLUMNS = {
    "PATIENT": ("PatientID", "PatientName", "PatientBirthDate", "NumberOfPatientRelatedStudies"),
    "STUDY": ("StudyDate", "PatientID", "PatientName", "AccessionNumber", "ModalitiesInStudy",
              "StudyDescription", "NumberOfStudyRelatedInstances"),
    "SERIES": ("SeriesNumber", "Modality", "SeriesDescription", "NumberOfSeriesRelatedInstances",
               "SeriesInstanceUID"),
    "IMAGE": ("InstanceNumber", "SOPInstanceUID", "SOPClassUID"),
    "WORKLIST": ("ScheduledProcedureStepStartDate", "ScheduledProcedureStepStartTime", "Modality",
                 "ScheduledStationAETitle", "PatientID", "PatientName", "AccessionNumber",
                 "RequestedProcedureDescription"),
}
SKIP = {"SpecificCharacterSet", "QueryRetrieveLevel"}


def set_key(ds: Dataset, keyword: str, value: str) -> None:
    """Set a keyword, a dotted path into a sequence's first item, or a hex tag like 00100020."""
    if "." in keyword:
        seq_kw, rest = keyword.split(".", 1)
        if seq_kw not in ds or not ds[seq_kw].value:
            setattr(ds, seq_kw, DicomSequence([Dataset()]))
        set_key(ds[seq_kw].value[0], rest, value)
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
        set_key(ds, keyword, "")
    if worklist:
        for keyword in SPS_KEYS:
            set_key(ds, f"{SPS}.{keyword}", "")
    for name, value in {**(keys or {}), **(extra or {})}.items():
        if value is None:
            continue
        set_key(ds, keyword_for(name, level, worklist), str(value))
    return ds


def keyword_for(name: str, level: str, worklist: bool) -> str:
    key = name.strip()
    lower = key.lower()
    if lower in ALIASES:
        return ALIASES[lower]
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


TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST",
                       "TM", "UC", "UI", "UR", "UT"})


def text_of(elem, ds: Dataset, encoding: str | None, undeclared=None) -> str:
    value = elem.value
    # Raw bytes straight from the wire: decoding them ourselves skips pydicom's per-element
    # conversion, which was most of the time a 5,000-match C-FIND spends in Python.
    if isinstance(value, bytes) and encoding is not None and elem.VR in TEXT_VRS:
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
    encoding = encoding_of(ds)
    if encoding == "" and inherited is not None:
        encoding = inherited  # a sequence item follows its parent's character set
    for elem in ds.elements():
        tag = elem.tag
        keyword = keyword_for_tag(tag) or f"{tag >> 16:04X}{tag & 0xFFFF:04X}"
        if keyword in SKIP:
            continue
        if elem.VR == "SQ" or (elem.VR is None and dictionary_vr_or_none(tag) == "SQ"):
            for item in ds[tag].value[:1]:
                for key, value in flatten(item, undeclared, encoding).items():
                    out.setdefault(key, value)
            continue
        out[keyword] = text_of(elem, ds, encoding, undeclared)
    return out


def dictionary_vr_or_none(tag) -> str | None:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return None
