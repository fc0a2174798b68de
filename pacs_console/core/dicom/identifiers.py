"""C-FIND and retrieve identifiers, both ways: building them from the engineer's keys and
reading answers back into flat keyword -> text rows.

Shared by ``query`` (the operation), ``wire.lean_query`` (its fast wire path) and ``retrieve``, so
none of them reaches into another's private names and no two import each other.

An identifier is first a plain tree (``identifier_tree``: tag -> (VR, text, or a sequence's
first item as another tree)), which the lean wire path encodes without pydicom; ``to_dataset``
makes the pydicom Dataset the pynetdicom path sends. pydicom loads only for the latter.
"""

from __future__ import annotations

from pacs_console.core.dicom.charsets import decode_undeclared, encoding_of
from pacs_console.core.dicom.keywords import tag_and_vr
from pacs_console.core.errors import ConsoleError, Diagnosis

TYPE_CHECKING = False  # typing itself costs a command line ~3 ms to import
if TYPE_CHECKING:
    from pydicom import Dataset

# tag -> (VR, value): text, or for a sequence None (empty) or its one item as another tree.
Tree = dict[int, tuple[str, "str | Tree | None"]]

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


def resolve(keyword: str) -> tuple[int, str]:
    """(tag, VR) of a keyword or a hex tag like 00100020 / (0010,0020); a private tag is LO."""
    found = tag_and_vr(keyword)
    if found is not None:
        return found
    text = keyword.strip("()").replace(",", "")
    try:
        tag = int(text, 16)
    except ValueError:
        raise ConsoleError(Diagnosis(
            "bad-query-key", f"{keyword!r} is not a DICOM keyword or tag",
            ("a typing mistake in a free query key",),
            ("use a DICOM keyword such as PatientID, or a tag such as 0010,0020",),
            {"key": keyword})) from None
    from pacs_console.core.dicom.keywords import keyword_and_vr

    return tag, keyword_and_vr(tag)[1] or "LO"


def set_key(tree: Tree, keyword: str, value: str) -> None:
    """Set a keyword, a dotted path into a sequence's first item, or a hex tag like 00100020."""
    if "." in keyword:
        seq_kw, rest = keyword.split(".", 1)
        tag, _ = resolve(seq_kw)
        item = tree.get(tag, ("SQ", None))[1]
        if not isinstance(item, dict):
            item = {}
            tree[tag] = ("SQ", item)
        set_key(item, rest, value)
        return
    tag, vr = resolve(keyword)
    if vr == "SQ":
        tree[tag] = (vr, {} if value in ("", None) else None)
    else:
        tree[tag] = (vr, value)


def identifier_tree(level: str, keys: dict[str, str], model: str = "study",
                    extra: dict | None = None, returns: list[str] | None = None) -> Tree:
    """The C-FIND identifier: default return keys for the level (or only ``returns``), then
    the matching keys."""
    level = level.upper()
    worklist = model == "worklist"
    tree: Tree = {}
    # Always UTF-8: peers that honour the query's character set (Orthanc does) then answer in
    # UTF-8 too, and Ghanaian names keep their ɛ and ɔ instead of coming back as Latin-1 '?'.
    tree[0x00080005] = ("CS", "ISO_IR 192")
    if not worklist:
        if level not in LEVELS:
            raise ConsoleError(Diagnosis(
                "bad-query-level", f"{level!r} is not a query level", (),
                (f"use one of {', '.join(LEVELS)}",)))
        tree[0x00080052] = ("CS", level)
    for keyword in RETURN_KEYS["WORKLIST" if worklist else level] if returns is None else returns:
        set_key(tree, keyword, "")
    if worklist:
        for keyword in SPS_KEYS:
            set_key(tree, f"{SPS}.{keyword}", "")
    for name, value in {**(keys or {}), **(extra or {})}.items():
        if value is None:
            continue
        set_key(tree, keyword_for(name, level, worklist), str(value))
    return tree


def to_dataset(tree: Tree) -> Dataset:
    """The tree as a pydicom Dataset (the character set first: PN values encode with it)."""
    from pydicom import Dataset
    from pydicom.sequence import Sequence as DicomSequence

    ds = Dataset()
    for tag in sorted(tree, key=lambda t: t != 0x00080005):
        vr, value = tree[tag]
        if vr == "SQ":
            ds.add_new(tag, vr, DicomSequence([] if value is None else [to_dataset(value)]))
        else:
            ds.add_new(tag, vr, value)
    return ds


def build_identifier(level: str, keys: dict[str, str], model: str = "study",
                     extra: dict | None = None) -> Dataset:
    """``identifier_tree`` as a pydicom Dataset."""
    return to_dataset(identifier_tree(level, keys, model, extra))


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
    from pydicom.multival import MultiValue

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
    from pydicom.datadict import keyword_for_tag

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
    from pacs_console.core.dicom.keywords import keyword_and_vr

    return keyword_and_vr(int(tag))[1]
