"""Human names for what a person reads: UIDs (SOP classes, transfer syntaxes), attribute keywords
as column titles, and the association report as labelled rows instead of raw JSON."""

from __future__ import annotations

from functools import lru_cache

from pydicom.datadict import dictionary_description, keyword_for_tag, tag_for_keyword
from pydicom.uid import UID

# Column titles a field engineer expects; other keywords fall back to the DICOM dictionary.
_TITLES = {
    "PatientName": "Patient name", "PatientID": "Patient ID", "PatientBirthDate": "Birth date",
    "PatientSex": "Sex", "StudyDate": "Study date", "StudyTime": "Study time",
    "AccessionNumber": "Accession", "ModalitiesInStudy": "Modalities",
    "StudyDescription": "Study description", "StudyInstanceUID": "Study UID",
    "NumberOfPatientRelatedStudies": "Studies", "NumberOfStudyRelatedSeries": "Series",
    "NumberOfStudyRelatedInstances": "Images", "NumberOfSeriesRelatedInstances": "Images",
    "SeriesNumber": "Series #", "SeriesDescription": "Series description",
    "SeriesInstanceUID": "Series UID", "InstanceNumber": "Image #",
    "SOPInstanceUID": "SOP instance UID", "SOPClassUID": "SOP class",
    "ScheduledProcedureStepStartDate": "Scheduled date",
    "ScheduledProcedureStepStartTime": "Scheduled time",
    "ScheduledStationAETitle": "Station AE", "RequestedProcedureDescription": "Procedure",
    "ReferringPhysicianName": "Referring physician", "InstitutionName": "Institution",
}


@lru_cache(maxsize=4096)
def _uid_name(text: str) -> str:
    name = UID(text).name
    if name and name != text:
        return name
    return _newer_sop_class(text) or text


def uid_name(uid) -> str:
    """``CT Image Storage`` for its UID; an unknown (private) UID is returned as it is."""
    text = str(uid)
    if not text or text.strip("0123456789."):
        return text  # not a UID (already a name, or empty)
    return _uid_name(text)


def _newer_sop_class(uid: str) -> str:
    """SOP classes newer than pydicom's dictionary, named from pynetdicom's keywords."""
    import re

    from pynetdicom import sop_class

    for keyword, value in sop_class._STORAGE_CLASSES.items():
        if value == uid:
            return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", keyword)
    return ""


def column_title(keyword: str) -> str:
    """``Patient name`` for ``PatientName``; unknown keywords by the dictionary, else unchanged."""
    if keyword in _TITLES:
        return _TITLES[keyword]
    tag = tag_for_keyword(keyword)
    if tag is None or keyword_for_tag(tag) != keyword:
        return keyword
    text = dictionary_description(tag).replace("'s ", " ")
    return text[:1] + text[1:].lower() if text else keyword


def _yes(value) -> str:
    return "—" if value in (None, "", [], {}) else str(value)


def association_rows(report: dict) -> list[tuple[str, str, str]]:
    """The association report (``association.association_report``) as (section, item, value)
    rows with names, never UIDs alone; the UID stays in the value's tail where it helps."""
    rows: list[tuple[str, str, str]] = []
    peer, local = report.get("peer") or {}, report.get("local") or {}
    found = report.get("fingerprint") or {}
    product = " ".join(str(p) for p in (found.get("vendor"), found.get("product"),
                                        found.get("version")) if p)
    window = peer.get("async_ops_window") or {}
    rows += [("Peer", "AE title", _yes(peer.get("ae_title"))),
             ("Peer", "Address", f"{peer.get('address', '')}:{peer.get('port', '')}"),
             ("Peer", "Identified as", f"{product} (confidence {found.get('confidence', 'none')})"
              if product else "not recognised"),
             ("Peer", "Implementation", f"{_yes(peer.get('implementation_version_name'))} "
              f"(class {_yes(peer.get('implementation_class_uid'))})"),
             ("Peer", "Largest PDU it accepts", _bytes(peer.get("max_pdu"))),
             ("Peer", "Asynchronous operations", f"{window.get('invoked', 1)} invoked, "
              f"{window.get('performed', 1)} performed")]
    rows += [("This console", "AE title", _yes(local.get("ae_title"))),
             ("This console", "Largest PDU it accepts", _bytes(local.get("max_pdu")))]
    for key, value in (report.get("timing") or {}).items():
        rows.append(("Timing", key.replace("_", " "), f"{value:g} s"
                     if isinstance(value, int | float) else str(value)))
    for context in report.get("accepted") or []:
        role = f" · role {context['role']}" if context.get("role") else ""
        rows.append(("Accepted", context.get("name") or uid_name(context["abstract_syntax"]),
                     (context.get("transfer_syntax_name")
                      or uid_name(context.get("transfer_syntax", ""))) + role))
    for context in report.get("rejected") or []:
        rows.append(("Rejected", context.get("name") or uid_name(context["abstract_syntax"]),
                     f"result {context.get('result')}: proposed "
                     + ", ".join(uid_name(ts) for ts in context.get("proposed", []))))
    return rows


def _bytes(value) -> str:
    if not value:
        return "unlimited"
    return f"{value:,} bytes ({value / 1024:.0f} KiB)".replace(",", " ")


def as_text(data, indent: int = 0) -> str:
    """Nested dicts and lists as indented "Label: value" lines for a person (not JSON):
    keys like ``round_trip_ms`` read "Round trip ms", UIDs carry their names."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            label = str(key).replace("_", " ")
            label = label[:1].upper() + label[1:]
            if isinstance(value, dict | list) and value:
                lines.append(f"{pad}{label}:")
                lines.append(as_text(value, indent + 1))
            else:
                lines.append(f"{pad}{label}: {_scalar(value)}")
    elif isinstance(data, list):
        for value in data:
            if isinstance(value, dict | list) and value:
                lines.append(f"{pad}-")
                lines.append(as_text(value, indent + 1))
            else:
                lines.append(f"{pad}- {_scalar(value)}")
    else:
        lines.append(f"{pad}{_scalar(data)}")
    return "\n".join(lines)


def _scalar(value) -> str:
    if value in (None, "", [], {}):
        return "—"
    text = str(value)
    named = uid_name(text)
    return f"{named} ({text})" if named != text else text
