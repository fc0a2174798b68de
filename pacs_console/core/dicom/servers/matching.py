"""C-FIND attribute matching (PS3.4 C.2.2.2), query-level records and response identifiers."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from pydicom import Dataset
from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.sequence import Sequence
from pydicom.tag import Tag

LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")
QR_LEVEL = Tag(0x0008, 0x0052)
CHARSET = Tag(0x0008, 0x0005)
_CONTROL_TAGS = {QR_LEVEL, CHARSET}
# VRs for which "*" and "?" are ordinary characters (PS3.4 C.2.2.2.4).
_NO_WILDCARD = {"DA", "TM", "DT", "SL", "SS", "US", "UL", "SV", "UV", "FL", "FD", "OB", "OW",
                "OD", "OF", "OL", "OV", "UN", "AT", "DS", "IS", "AS", "UI"}
_NUMERIC = {"SL", "SS", "US", "UL", "SV", "UV", "FL", "FD", "DS", "IS"}
# Range-matching templates: a partial value covers everything from its first to its last instant.
_RANGE_LOW = {"DA": "00000101", "TM": "000000.000000", "DT": "00000101000000.000000"}
_RANGE_HIGH = {"DA": "99991231", "TM": "235959.999999", "DT": "99991231235959.999999"}

PATIENT_KEYS = frozenset({
    "PatientName", "PatientID", "IssuerOfPatientID", "OtherPatientIDsSequence", "OtherPatientNames",
    "PatientBirthDate", "PatientBirthTime", "PatientSex", "EthnicGroup", "PatientComments",
    "NumberOfPatientRelatedStudies", "NumberOfPatientRelatedSeries",
    "NumberOfPatientRelatedInstances",
})
STUDY_KEYS = frozenset({
    "StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "StudyID", "StudyDescription",
    "ReferringPhysicianName", "ModalitiesInStudy", "SOPClassesInStudy", "PatientAge", "PatientSize",
    "PatientWeight", "NameOfPhysiciansReadingStudy", "AdmittingDiagnosesDescription",
    "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances", "ProcedureCodeSequence",
})
SERIES_KEYS = frozenset({
    "SeriesInstanceUID", "Modality", "SeriesNumber", "SeriesDescription", "SeriesDate", "SeriesTime",
    "BodyPartExamined", "ProtocolName", "Laterality", "StationName", "Manufacturer",
    "ManufacturerModelName", "InstitutionName", "InstitutionalDepartmentName", "OperatorsName",
    "PerformingPhysicianName", "PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime",
    "NumberOfSeriesRelatedInstances", "FrameOfReferenceUID",
})
# Keys every level can answer, filled in by the archive rather than read from the instances.
ANY_LEVEL_KEYS = frozenset({"RetrieveAETitle", "InstanceAvailability", "QueryRetrieveLevel",
                            "SpecificCharacterSet"})
_LEVEL_UID = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID",
              "IMAGE": "SOPInstanceUID"}


class QueryError(ValueError):
    """The identifier cannot be answered: missing or wrong QueryRetrieveLevel for the model."""


def level_of(keyword: str) -> int:
    """Index in LEVELS of the entity an attribute belongs to (unknown ones are image level)."""
    if keyword in PATIENT_KEYS:
        return 0
    if keyword in STUDY_KEYS:
        return 1
    if keyword in SERIES_KEYS:
        return 2
    return 3


def is_universal(elem: DataElement) -> bool:
    """Empty value, a lone "*", or a sequence whose item holds only universal keys."""
    if elem.VR == "SQ":
        return not elem.value or all(is_universal(e) for item in elem.value for e in item)
    values = _values(elem)
    return not values or elem.VR not in _NO_WILDCARD and all(str(v) == "*" for v in values)


def _values(elem: DataElement | None) -> list:
    if elem is None or elem.value is None or elem.value == "":
        return []
    if elem.VM > 1 or isinstance(elem.value, (list, tuple)):
        return [v for v in elem.value if v is not None and str(v) != ""]
    return [elem.value]


def _norm(value, vr: str) -> str:
    text = str(value).rstrip(" \x00")
    if vr == "PN":
        text = text.rstrip("^=").casefold()  # PN may match case-insensitively (C.2.2.2.1)
    return text


@lru_cache(maxsize=512)
def _pattern(query: str, fold: bool) -> re.Pattern:
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in query)
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if fold else 0))


def _bounds(text: str, vr: str) -> tuple[str, str]:
    text = text.strip()
    if vr == "TM":
        text = text.replace(":", "")  # ACR-NEMA style HH:MM:SS
    elif vr == "DA":
        text = text.replace(".", "")  # ACR-NEMA style YYYY.MM.DD
    else:
        text = re.split(r"[+-]", text, maxsplit=1)[0]  # UTC offsets are ignored
    low, high = _RANGE_LOW[vr], _RANGE_HIGH[vr]
    return text + low[len(text):], text + high[len(text):]


def _split_range(query: str, vr: str) -> tuple[str, str]:
    query = query.strip()
    if vr == "DT" and re.fullmatch(r"\d{4,14}(\.\d{1,6})?[+-]\d{4}", query):
        return query, query  # one DT with a UTC offset, not a range
    if "-" in query:
        start, _, end = query.partition("-")
        return start, end
    return query, query


def _match_range(query: str, candidate: str, vr: str) -> bool:
    """Single value or range ("a-b", "a-", "-b"); a partial value covers its whole period."""
    start, end = _split_range(query, vr)
    low = _bounds(start, vr)[0] if start.strip() else ""
    high = _bounds(end, vr)[1] if end.strip() else "~"
    return low <= _bounds(candidate, vr)[0] <= high


def match_value(query, candidate, vr: str) -> bool:
    """One query value against one candidate value under the rules for ``vr``."""
    if vr in ("DA", "TM", "DT"):
        return _match_range(str(query), str(candidate), vr)
    if vr in _NUMERIC:
        try:
            return float(query) == float(candidate)
        except (TypeError, ValueError):
            return False
    q, c = _norm(query, vr), _norm(candidate, vr)
    if vr not in _NO_WILDCARD and ("*" in q or "?" in q):
        return _pattern(q, vr == "PN").fullmatch(c) is not None
    return q == c


def match_element(query: DataElement, candidate: DataElement | None) -> bool:
    """Universal, single value, wildcard, range, UID list and sequence matching for one key."""
    if is_universal(query):
        return True
    if candidate is None:
        return False
    if query.VR == "SQ":
        items = candidate.value if candidate.VR == "SQ" else []
        return any(match_dataset(query.value[0], item) for item in items)
    wanted, have = _values(query), _values(candidate)
    # A list of values in the key (UID list matching, or several codes such as "CT\MR"):
    # the candidate matches when any of its values matches any of them.
    return any(match_value(q, c, query.VR) for q in wanted for c in have)


def match_dataset(query: Dataset, candidate: Dataset, *, skip: Iterable[int] = ()) -> bool:
    """True when every key of ``query`` (except the control keys and ``skip``) matches."""
    skipped = _CONTROL_TAGS | set(skip)
    for elem in query:
        if elem.tag in skipped or elem.tag.element == 0:
            continue
        if not match_element(elem, candidate.get(elem.tag)):
            return False
    return True


def _copy(elem: DataElement) -> DataElement:
    if elem.VR == "SQ":
        return DataElement(elem.tag, "SQ", Sequence([copy.deepcopy(i) for i in elem.value]))
    return DataElement(elem.tag, elem.VR, elem.value)


def build_response(query: Dataset, record: Dataset, *, top: bool = True) -> Dataset:
    """An identifier with the requested keys only, valued from ``record`` or left empty."""
    resp = Dataset()
    if top:
        charset = record.get(CHARSET)
        if charset is not None and charset.value:
            resp.add(_copy(charset))
        if QR_LEVEL in query:
            resp.QueryRetrieveLevel = query.QueryRetrieveLevel
    for elem in query:
        if elem.tag in _CONTROL_TAGS or elem.tag.element == 0:
            continue
        have = record.get(elem.tag)
        if have is None or have.value is None:
            resp.add(DataElement(elem.tag, elem.VR, [] if elem.VR == "SQ" else None))
        elif elem.VR == "SQ" and elem.value and len(elem.value[0]):
            # Requested item keys: return the matching items holding those keys only.
            matched = [build_response(elem.value[0], item, top=False) for item in have.value
                       if match_dataset(elem.value[0], item)]
            resp.add(DataElement(elem.tag, "SQ", Sequence(matched)))
        else:
            resp.add(_copy(have))
    return resp


def query_level(query: Dataset, root: str) -> str:
    """Validate the QueryRetrieveLevel of a C-FIND/C-MOVE/C-GET identifier for its root."""
    level = str(query.get("QueryRetrieveLevel", "") or "").strip().upper()
    if level not in LEVELS:
        raise QueryError(f"QueryRetrieveLevel {level!r} is not one of {', '.join(LEVELS)}")
    if root == "STUDY" and level == "PATIENT":
        raise QueryError("Study Root has no PATIENT level")
    return level


def _count(group: list[Dataset], attr: str) -> int:
    return len({ds.get(attr) for ds in group})


def _multi(values: set[str]) -> str | list[str]:
    # A lone value stays a plain string, as it reads back after a trip over the network.
    ordered = sorted(values)
    return ordered[0] if len(ordered) == 1 else ordered


def _record(group: list[Dataset], level: str, wanted: list[int], extra: dict) -> Dataset:
    """One entity at ``level``: the keys it owns, taken from its first instance, plus counts."""
    first, depth = group[0], LEVELS.index(level)
    record = Dataset()
    if CHARSET in first:
        record.add(_copy(first[CHARSET]))
    for tag in wanted:
        keyword = keyword_for_tag(tag)
        if level_of(keyword) <= depth and tag in first:
            record.add(_copy(first[tag]))
    if level == "PATIENT":
        record.NumberOfPatientRelatedStudies = _count(group, "StudyInstanceUID")
        record.NumberOfPatientRelatedSeries = _count(group, "SeriesInstanceUID")
        record.NumberOfPatientRelatedInstances = len(group)
    elif level == "STUDY":
        record.NumberOfStudyRelatedSeries = _count(group, "SeriesInstanceUID")
        record.NumberOfStudyRelatedInstances = len(group)
        record.ModalitiesInStudy = _multi({str(ds.get("Modality", "")) for ds in group} - {""})
        record.SOPClassesInStudy = _multi({str(ds.SOPClassUID) for ds in group})
    elif level == "SERIES":
        record.NumberOfSeriesRelatedInstances = len(group)
    for keyword, value in extra.items():
        setattr(record, keyword, value)
    return record


def group_by_level(instances: Iterable[Dataset], level: str) -> dict[str, list[Dataset]]:
    """Instances grouped by the unique key of ``level``, in first-seen order."""
    key = _LEVEL_UID[level]
    groups: dict[str, list[Dataset]] = {}
    for ds in instances:
        groups.setdefault(str(ds.get(key, "")), []).append(ds)
    return groups


def find(
    query: Dataset,
    instances: Iterable[Dataset],
    root: str = "STUDY",
    *,
    retrieve_ae_title: str | None = None,
) -> Iterator[Dataset]:
    """Yield the response identifiers of a Patient or Study Root C-FIND over ``instances``."""
    level = query_level(query, root)
    wanted = [elem.tag for elem in query if elem.tag not in _CONTROL_TAGS]
    extra = {"InstanceAvailability": "ONLINE"}
    if retrieve_ae_title:
        extra["RetrieveAETitle"] = retrieve_ae_title
    # Keys below the query level are not attributes of the entity: return them empty, do not
    # let them filter (a STUDY query with SeriesDescription would otherwise match at random).
    depth = LEVELS.index(level)
    skip = [tag for tag in wanted if level_of(keyword_for_tag(tag)) > depth
            and keyword_for_tag(tag) not in ANY_LEVEL_KEYS]
    for group in group_by_level(instances, level).values():
        record = _record(group, level, wanted, extra)
        if match_dataset(query, record, skip=skip):
            yield build_response(query, record)


def select_instances(identifier: Dataset, instances: Iterable[Dataset], root: str) -> list[Dataset]:
    """The instances a C-MOVE or C-GET identifier asks for (its unique and other keys matched)."""
    query_level(identifier, root)
    skip = [elem.tag for elem in identifier if keyword_for_tag(elem.tag) in ANY_LEVEL_KEYS]
    return [ds for ds in instances if match_dataset(identifier, ds, skip=skip)]
