"""The index's header read without pydicom, for the plain case: a Part 10 file in (implicit or
explicit) VR little endian whose wanted values are plain ASCII.

Built on the wire layer's byte scanner (``core.dicom.wire.fastpath``): the top-level elements
are stepped over up to the pixel data, only the attributes the index keeps are decoded, and
the pixel data element's declared length is checked against the file size without reading it.
Anything unusual (deflated or big-endian data, a truncated header, a character set or value
pydicom would decode, split or warn about differently) returns None, and the caller reads the
file with pydicom instead, so both give the same index row.
"""

from __future__ import annotations

import io
import re
import struct

from pacs_console.core.dicom.keywords import KNOWN
from pacs_console.core.dicom.wire import fastpath

IMPLICIT_LE, EXPLICIT_LE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"
FIRST_READ = 8 << 10  # a CT header is a few KB; bigger headers are read in growing steps
MAX_HEADER = 8 << 20  # beyond this pydicom reads the file (values deferred), not this reader

# Every attribute the index (and its pixel check) reads; tag and VR from the one keyword table.
_INDEXED = (
    "SpecificCharacterSet", "SOPClassUID", "SOPInstanceUID", "StudyDate", "StudyTime",
    "AccessionNumber", "Modality", "StudyDescription", "SeriesDescription", "PatientName",
    "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "SeriesInstanceUID",
    "SeriesNumber", "InstanceNumber", "ImagePositionPatient", "ImageOrientationPatient",
    "SliceLocation", "SamplesPerPixel", "PhotometricInterpretation", "NumberOfFrames", "Rows",
    "Columns", "BitsAllocated", "BurnedInAnnotation",
)
WANTED = {KNOWN[keyword][0]: (keyword, KNOWN[keyword][1]) for keyword in _INDEXED}  # tag -> (kw, VR)
_TAGS = frozenset(WANTED)
# What a thumbnail's decode reads instead (``read(..., decode=True)``): the pixel module and the
# values that turn stored values into a picture, no names or UIDs (the index has them). Pixel
# padding's "US or SS" is read as the file or the pixel representation says (pydicom's reading
# of the ambiguous VR).
_DECODED = ("SamplesPerPixel", "PhotometricInterpretation", "NumberOfFrames", "Rows", "Columns",
            "BitsAllocated", "BitsStored", "PixelRepresentation", "PixelPaddingValue",
            "WindowCenter", "WindowWidth", "RescaleIntercept", "RescaleSlope")
DECODE = {KNOWN[keyword][0]: (keyword, KNOWN[keyword][1]) for keyword in _DECODED}
_BY_TAG = {**WANTED, **DECODE}
_DECODE_TAGS = frozenset(DECODE)
_META = {0x00020002: "MediaStorageSOPClassUID", 0x00020003: "MediaStorageSOPInstanceUID",
         0x00020010: "TransferSyntaxUID"}
# Character sets whose decoding of printable ASCII (backslash excepted) is ASCII itself.
_PLAIN_CHARSETS = frozenset(("", "ISO_IR 6", "ISO_IR 100", "ISO_IR 101", "ISO_IR 109",
                             "ISO_IR 110", "ISO_IR 126", "ISO_IR 127", "ISO_IR 138",
                             "ISO_IR 144", "ISO_IR 148", "ISO_IR 166", "ISO_IR 192"))
# Values pydicom takes as they are, without a validation warning (anything else: pydicom reads).
_VALID = {
    "UI": re.compile(r"(|(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*)"),
    "DA": re.compile(r"(|[0-9]{8})"),
    "TM": re.compile(r"(|[0-9]{2}([0-9]{2}([0-9]{2}(\.[0-9]{1,6})?)?)?)"),
    "CS": re.compile(r"[A-Z0-9_ ]*"),
    "IS": re.compile(r" *[-+]?[0-9]+ *|"),
    "DS": re.compile(r" *[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)? *|"),
}
_MAX_LEN = {"UI": 64, "DA": 8, "TM": 16, "CS": 16, "IS": 12, "DS": 16, "SH": 16, "LO": 64,
            "PN": 64}
_PRINTABLE = re.compile(rb"[\x20-\x5b\x5d-\x7e]*")  # printable ASCII without backslash
_CONTROL = re.compile(rb"[\x00-\x1f\x5c\x7f]")  # control characters, escapes, backslash
# The character sets whose text values (PN, LO, SH) are decoded here, as pydicom does.
_ENCODINGS = {"ISO_IR 100": "latin_1", "ISO_IR 192": "utf_8"}
# Elements this reader does not interpret and that change what pydicom's read means: a
# DICOMDIR's record sequence, float pixel data (pydicom stops before it).
_REFUSED_BYTES = (b"\x04\x00\x20\x12", b"\xe0\x7f\x08\x00", b"\xe0\x7f\x09\x00")
# A decode also leaves to pydicom what changes the picture beyond rescale and window: a VOI LUT
# sequence, a modality LUT sequence, a palette (matched anywhere: at worst pydicom reads).
_DECODE_REFUSED = _REFUSED_BYTES + (b"\x28\x00\x10\x30", b"\x28\x00\x00\x30",
                                    b"\x28\x00\x01\x12")
_PADDING = b"\x28\x00\x20\x01"


class LeanHeader(dict):
    """keyword -> value, as ``pydicom.Dataset.get`` would give it for the plain values read."""

    original_encoding = (False, True)


def read(fh, size: int, *, decode: bool = False
         ) -> tuple[LeanHeader, LeanHeader, bool, int] | None:
    """(dataset values, file meta values, whether pixel data follows, its file offset) of a
    plain file, or None for anything pydicom must read. ``fh`` is at the file's start.
    ``decode``: the values a thumbnail's decode needs (``DECODE``) instead of the index's."""
    buf = fh.read(min(size, FIRST_READ))
    stream = io.BytesIO(buf)
    try:
        meta = fastpath.read_meta(stream)
    except fastpath.ScanError:
        return None
    start = stream.tell() - 8  # read_meta stops after the first header outside group 0002
    if start < 132 or start + 8 > len(buf):
        return None  # no data set after the meta group, or a header beyond the first read
    ts = meta.get(0x00020010, "")
    if ts not in (IMPLICIT_LE, EXPLICIT_LE) and not ts.startswith("1.2.840.10008.1.2.4."):
        return None  # deflated, big endian, RLE or unknown: pydicom knows them
    implicit = ts == IMPLICIT_LE
    while True:
        data = memoryview(buf)[start:]
        good = fastpath.complete_prefix(data, implicit)
        at_pixels = good + 8 <= len(data) and _tag(data, good) == fastpath.PIXEL_DATA
        if at_pixels or len(buf) >= size:
            break
        if len(buf) >= MAX_HEADER:
            return None
        more = fh.read(min(size, 2 * len(buf)) - len(buf))
        if not more:
            return None
        buf += more
    if not at_pixels and good != len(data):
        return None  # a truncated, malformed or unusual header: pydicom gives the reason
    head = bytes(data[:good])
    if any(pattern in head for pattern in (_DECODE_REFUSED if decode else _REFUSED_BYTES)):
        return None
    try:
        raw = fastpath.values(head, implicit, _DECODE_TAGS if decode else _TAGS)
    except fastpath.ScanError:
        return None
    ds = LeanHeader()
    ds.original_encoding = (implicit, True)
    charset = _value(bytes(raw.get(0x00080005, b"")), "CS")
    if charset not in _PLAIN_CHARSETS:
        return None  # several values (ISO 2022 code extensions) or a multi-byte set
    encoding = _ENCODINGS.get(charset)
    for tag, value in raw.items():
        keyword, vr = _BY_TAG[tag]
        if vr == "US or SS":
            vr = _us_or_ss(head, implicit, raw.get(0x00280103))
        parsed = _value(bytes(value), vr, encoding if vr in ("PN", "LO", "SH") else None)
        if parsed is _REFUSE:
            return None
        ds[keyword] = parsed
    lean_meta = LeanHeader({keyword: meta[tag] for tag, keyword in _META.items() if tag in meta})
    return ds, lean_meta, at_pixels, start + good


_REFUSE = object()


def _tag(data, pos: int) -> int:
    group, element = struct.unpack_from("<HH", data, pos)
    return group << 16 | element


def _us_or_ss(head: bytes, implicit: bool, representation) -> str:
    """Pixel padding's VR: the file's own (explicit VR), else by the pixel representation;
    "" (refused) when it is anything else or cannot be told."""
    if implicit:
        return {b"\x00\x00": "US", b"\x01\x00": "SS"}.get(bytes(representation or b""), "")
    found = [vr for vr in ("US", "SS") if head.count(_PADDING + vr.encode()) == 1]
    return found[0] if len(found) == 1 and head.count(_PADDING) == 1 else ""


def _value(raw: bytes, vr: str, encoding: str | None = None):
    if vr in ("US", "SS"):
        if len(raw) == 0:
            return None
        return struct.unpack("<H" if vr == "US" else "<h", raw)[0] if len(raw) == 2 else _REFUSE
    if not vr:
        return _REFUSE
    text = raw.rstrip(b"\x00") if vr == "UI" else raw
    if vr == "DS" and b"\\" in text:
        parts = text.split(b"\\")
        values = [_value(part, "DS") for part in parts]
        return _REFUSE if any(v is _REFUSE or v is None for v in values) else values
    if len(text) > 4 * _MAX_LEN.get(vr, 64):
        return _REFUSE
    if _PRINTABLE.fullmatch(text):
        value = text.decode("ascii")
    elif encoding is None or _CONTROL.search(text):
        return _REFUSE
    else:
        try:
            value = text.decode(encoding)
        except UnicodeDecodeError:
            return _REFUSE
    if vr != "DS":
        value = value.rstrip(" ")
    if len(value) > _MAX_LEN.get(vr, 64):
        return _REFUSE
    pattern = _VALID.get(vr)
    if pattern is not None and not pattern.fullmatch(value):
        return _REFUSE
    if vr in ("IS", "DS"):
        return value.strip() or None
    return value
