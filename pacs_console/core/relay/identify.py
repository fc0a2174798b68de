"""What a dataset is about, read from a bounded prefix of its bytes (never the pixel data).

pydicom parses only the whole top-level elements before Pixel Data that fit in the prefix;
values stay raw until read. Text that is not plain ASCII is checked against the declared
Specific Character Set, since a mismatch is what turns names into mojibake on the PACS.
"""

from __future__ import annotations

import warnings
from io import BytesIO

from pacs_console.core.dicom.wire.fastpath import complete_prefix

PREFIX = 64 << 10  # dataset bytes looked at per message for identifiers
KEEP = 16 << 10  # of those, the header kept until the association's summary is made
IMPLICIT_LE, EXPLICIT_BE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.2"
DEFLATED = ("1.2.840.10008.1.2.1.99",)
KEYWORDS = ("PatientName", "PatientID", "AccessionNumber", "StudyInstanceUID",
            "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID", "Modality",
            "QueryRetrieveLevel", "SpecificCharacterSet", "StudyDate")
STEP_KEYWORDS = ("ScheduledStationAETitle", "Modality", "ScheduledProcedureStepStartDate")
_TEXT_VRS = {"PN", "LO", "SH", "LT", "ST", "UT", "UC"}


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1").strip("\x00 ")
    if isinstance(value, list | tuple):
        return "\\".join(_text(v) for v in value)
    return str(value).strip("\x00 ")


def header(prefix: bytes, transfer_syntax: str) -> bytes:
    """The part of a dataset prefix that identifiers() reads (whole elements before Pixel
    Data, at most KEEP bytes): what a message keeps while the association goes on."""
    if transfer_syntax in DEFLATED or transfer_syntax == EXPLICIT_BE:
        return b""
    return bytes(prefix[:min(KEEP, complete_prefix(prefix, transfer_syntax == IMPLICIT_LE))])


def identifiers(prefix: bytes, transfer_syntax: str) -> dict:
    """Identifiers of the dataset whose first bytes are ``prefix`` (``problem`` if unreadable)."""
    if transfer_syntax in DEFLATED:
        return {"problem": "deflated dataset: identifiers not decoded"}
    if transfer_syntax == EXPLICIT_BE:
        return {"problem": "big-endian dataset: identifiers not decoded"}
    implicit = transfer_syntax == IMPLICIT_LE
    from pydicom.filereader import read_dataset

    cut = complete_prefix(prefix, implicit)
    with warnings.catch_warnings(record=True) as caught:  # pydicom's, kept with the message
        warnings.simplefilter("always")
        try:
            out = _fields(read_dataset(BytesIO(prefix[:cut]), implicit, True))
        except Exception as exc:  # noqa: BLE001 - any failure of a hostile dataset is a finding
            out = {"problem": f"dataset not decoded: {type(exc).__name__}: {str(exc)[:200]}"}
    notes = sorted({str(w.message)[:200] for w in caught})[:5]
    if notes:
        out["warnings"] = notes
    return out


def _raw(ds, keyword: str):
    from pydicom.datadict import tag_for_keyword

    tag = tag_for_keyword(keyword)
    if tag is None or tag not in ds:
        return None
    return ds.get_item(tag)


def _fields(ds) -> dict:
    out: dict = {}
    for keyword in KEYWORDS:
        elem = _raw(ds, keyword)
        if elem is not None:
            out[keyword] = _text(elem.value)
    step = _raw(ds, "ScheduledProcedureStepSequence")
    if step is not None:
        seq = ds.ScheduledProcedureStepSequence
        if len(seq):
            out["ScheduledProcedureStep"] = {k: _text(_raw(seq[0], k).value)
                                             for k in STEP_KEYWORDS if _raw(seq[0], k) is not None}
    out["non_ascii"] = _non_ascii(ds)
    return out


def _non_ascii(ds) -> list[str]:
    """Keywords of top-level text elements holding bytes outside ASCII."""
    from pydicom.datadict import dictionary_VR, keyword_for_tag

    found = []
    for tag in ds.keys():
        elem = ds.get_item(tag)
        vr = getattr(elem, "VR", None)
        if not vr:
            try:
                vr = dictionary_VR(tag)
            except KeyError:
                continue
        value = elem.value
        if isinstance(value, bytes) and vr in _TEXT_VRS and any(b > 0x7F for b in value):
            found.append(keyword_for_tag(tag) or f"{int(tag):08X}")
    return found
