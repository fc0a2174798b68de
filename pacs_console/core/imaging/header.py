"""Header-only reads that classify a file as an indexable instance or refuse it with a reason."""

from __future__ import annotations

import os
import stat
import struct
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from pacs_console.core.imaging import header_lean

# Reason codes are stable (scripts and tests match them); the text is what the engineer reads.
REASONS = {
    "empty": "empty file (0 bytes)",
    "not-dicom": "not DICOM",
    "truncated": "truncated",
    "bad-transfer-syntax": "bad transfer syntax",
    "missing-pixel-data": "missing pixel data",
    "unsupported-compression": "unsupported compression",
    "unreadable": "cannot be read",
    "no-uid": "not an instance (no SOP Instance UID)",
    "dicomdir": "DICOMDIR (a media directory: the files it lists are indexed instead)",
    "not-a-file": "not a regular file",
    "malformed": "malformed header",
}
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
_NATIVE = frozenset((header_lean.IMPLICIT_LE, header_lean.EXPLICIT_LE))  # decoded everywhere
_DEFER = 4096  # large values (icons, private blobs) stay on disk until someone asks


@dataclass(frozen=True)
class Header:
    """The keys and image facts the index keeps for one instance file: all read from its
    header (by ``_judge``), empty or None where the file leaves them out."""

    patient_id: str
    patient_name: str
    birth_date: str
    sex: str
    study_uid: str
    study_date: str
    study_time: str
    study_desc: str
    accession: str
    series_uid: str
    series_number: int | None
    series_desc: str
    modality: str
    sop_uid: str
    sop_class: str
    instance_number: int | None
    transfer_syntax: str
    rows: int
    columns: int
    frames: int
    photometric: str
    has_pixels: bool
    burned_in: str
    position: float | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Refusal:
    reason: str  # a REASONS key
    detail: str = ""

    @property
    def text(self) -> str:
        return REASONS.get(self.reason, self.reason) + (f": {self.detail}" if self.detail else "")


def _str(ds, keyword: str) -> str:
    try:
        value = ds.get(keyword, "")
    except Exception:  # noqa: BLE001 - a malformed value must not refuse the whole file
        return ""
    text = "" if value is None else str(value).strip()
    # Lone surrogates (undecodable bytes) cannot be stored in SQLite or printed: replace them.
    return text.encode("utf-8", "replace").decode("utf-8")


def _int(ds, keyword: str) -> int | None:
    try:
        value = ds.get(keyword)
        return None if value in (None, "") else int(value)
    except Exception:  # noqa: BLE001
        return None


def _position(ds) -> float | None:
    try:
        ipp, iop = ds.get("ImagePositionPatient"), ds.get("ImageOrientationPatient")
        if ipp is not None and iop is not None and len(ipp) == 3 and len(iop) == 6:
            r, c = [float(v) for v in iop[:3]], [float(v) for v in iop[3:]]
            normal = (r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0])
            return sum(float(p) * n for p, n in zip(ipp, normal, strict=True))
        value = ds.get("SliceLocation")
        return None if value in (None, "") else float(value)
    except Exception:  # noqa: BLE001
        return None


def transfer_syntax_problem(uid: str) -> Refusal | None:
    """Why pixel data in this transfer syntax cannot be decoded here, or None when it can."""
    from pydicom.pixels import get_decoder

    from pacs_console.core.imaging.codecs import register

    register()
    from pydicom.uid import UID

    ts = UID(uid)
    if not ts.is_valid or not ts.is_transfer_syntax:
        return Refusal("bad-transfer-syntax", f"{uid!r} is not a known transfer syntax")
    if not ts.is_compressed or ts.is_deflated:
        return None
    try:
        decoder = get_decoder(ts)
    except NotImplementedError:
        return Refusal("unsupported-compression", f"{ts.name}: no decoder exists for it here")
    if not decoder.is_available:
        missing = "; ".join(f"{k}: {', '.join(v)}" for k, v in decoder.missing_dependencies.items()) \
            if hasattr(decoder, "missing_dependencies") else ""
        return Refusal("unsupported-compression",
                       f"{ts.name}: no decoding plugin installed" + (f" ({missing})" if missing else ""))
    return None


def _last_is_short(ds, size: int) -> bool:
    from pydicom.dataelem import RawDataElement

    tags = list(ds.keys())
    if not tags:
        return True
    last = ds.get_item(tags[-1])
    if not isinstance(last, RawDataElement) or last.length == 0xFFFFFFFF:
        return False
    if last.value is None:  # deferred
        return last.value_tell + last.length > size
    return len(last.value) < last.length


def _pixel_truncation(fh, ds, size: int) -> str:
    """Check the pixel data element against the file size without reading it."""
    start = fh.tell()
    head = fh.read(12)
    implicit, little = getattr(ds, "original_encoding", (False, True))
    implicit = bool(implicit) if implicit is not None else False
    endian = "<" if little in (None, True) else ">"
    if len(head) < 8:
        return "the file ends inside the pixel data header"
    if not implicit and not head[4:6].isalpha():
        implicit = True  # some writers switch to implicit VR for the pixel data element
    if implicit:
        length, header_len = struct.unpack(endian + "I", head[4:8])[0], 8
    else:
        if len(head) < 12:
            return "the file ends inside the pixel data header"
        length, header_len = struct.unpack(endian + "I", head[8:12])[0], 12
    if length == 0xFFFFFFFF:
        fh.seek(max(start, size - 1024))
        tail = fh.read()
        if b"\xfe\xff\xdd\xe0" not in tail and b"\xff\xfe\xe0\xdd" not in tail:
            return "encapsulated pixel data has no sequence delimiter at the end of the file"
        return ""
    available = size - start - header_len
    if available < length:
        return f"pixel data declares {length} bytes, the file holds {max(available, 0)}"
    rows, cols = _int(ds, "Rows") or 0, _int(ds, "Columns") or 0
    bits, spp = _int(ds, "BitsAllocated") or 0, _int(ds, "SamplesPerPixel") or 1
    frames = _int(ds, "NumberOfFrames") or 1
    expected = (rows * cols * spp * bits * frames + 7) // 8
    if _str(ds, "PhotometricInterpretation") == "YBR_FULL_422":
        expected = expected * 2 // 3  # chroma subsampled 2:1 horizontally
    if bits and length + 1 < expected:
        return f"pixel data holds {length} bytes, {rows}x{cols}x{frames} frames need {expected}"
    return ""


def _is_deflated(ds) -> bool:
    meta = getattr(ds, "file_meta", None)
    return meta is not None and _str(meta, "TransferSyntaxUID") == "1.2.840.10008.1.2.1.99"


SNIFF_BYTES = 132  # preamble + "DICM", or the first element of a file without them
_VRS = frozenset(b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM "
                 b"UC UI UL UN UR US UT UV".split())
MAX_NOTES = 5  # warnings kept per file: enough to diagnose, never a flood


def plausible_start(head: bytes, size: int) -> bool:
    """Whether bytes without a preamble could start a data set (a first element that makes
    sense), so a zero-filled or random file is refused after its first bytes."""
    if len(head) >= SNIFF_BYTES and head[128:132] == b"DICM":
        return True
    if len(head) < 8:
        return False
    for endian in "<>":
        group, _element = struct.unpack(endian + "HH", head[:4])
        if group == 0 or group % 2 or group > 0x7FE0:
            continue
        if head[4:6] in _VRS:
            return True
        if struct.unpack(endian + "I", head[4:8])[0] <= size - 8:
            return True
    return False


def read_header(path: str | os.PathLike[str], *, lean: bool = True) -> Header | Refusal:
    """Read up to the pixel data and classify; never raises for a bad file.

    Devices, pipes and folders are refused without reading; a file that neither starts with a
    preamble nor with a plausible element is refused after its first bytes. pydicom's warnings
    are kept as this file's notes, never printed. ``lean=False``: pydicom reads even a plain
    file (the lean reader's tests compare the two)."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        return Refusal("unreadable", exc.strerror or str(exc))
    if not stat.S_ISREG(st.st_mode):
        return Refusal("not-a-file", "a device, pipe, socket or folder: only regular files are read")
    if st.st_size == 0:
        return Refusal("empty")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = _classify(path, st.st_size) if lean else _classify_pydicom(path, st.st_size)
        except OSError as exc:
            result = Refusal("unreadable", exc.strerror or str(exc))
        except Exception as exc:  # noqa: BLE001 - a malformed element refuses this file only
            result = Refusal("malformed", f"{type(exc).__name__}: {exc}"[:300])
    notes: list[str] = []
    for warning in caught:
        text = str(warning.message).splitlines()[0][:200] if str(warning.message) else ""
        if text and text not in notes and len(notes) < MAX_NOTES:
            notes.append(text)
    if notes and isinstance(result, Header):
        result = replace(result, notes=result.notes + tuple(f"warning: {n}" for n in notes))
    return result


def _classify(path: Path, size: int) -> Header | Refusal:
    """The lean reader for a plain file, pydicom for everything else (same result)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
            if not plausible_start(head, size):
                return Refusal("not-dicom", "no DICM prefix and no plausible first element")
            lean = None
            if head[128:132] == b"DICM":
                fh.seek(0)
                lean = header_lean.read(fh, size)
            if lean is not None:
                ds, meta, at_pixels, offset = lean
                fh.seek(offset)
                pixel_problem = _pixel_truncation(fh, ds, size) if at_pixels else ""
                return _judge(ds, meta, at_pixels, pixel_problem, size, [])
    except OSError as exc:
        return Refusal("unreadable", exc.strerror or str(exc))
    except Exception:  # noqa: BLE001 - whatever the lean reader trips on, pydicom reads
        pass
    return _classify_pydicom(path, size)


def _classify_pydicom(path: Path, size: int) -> Header | Refusal:
    import pydicom
    from pydicom.errors import InvalidDicomError

    notes: list[str] = []
    try:
        with open(path, "rb") as fh:
            if not plausible_start(fh.read(SNIFF_BYTES), size):
                return Refusal("not-dicom", "no DICM prefix and no plausible first element")
            fh.seek(0)
            try:
                ds = pydicom.dcmread(fh, stop_before_pixels=True, defer_size=_DEFER)
            except InvalidDicomError:
                fh.seek(0)
                try:
                    ds = pydicom.dcmread(fh, stop_before_pixels=True, defer_size=_DEFER, force=True)
                except Exception:  # noqa: BLE001 - forced reads of random bytes fail in many ways
                    return Refusal("not-dicom", "no DICM prefix and no readable data set")
                if not _str(ds, "SOPInstanceUID") or not (_str(ds, "SOPClassUID")
                                                          or _str(ds, "StudyInstanceUID")):
                    return Refusal("not-dicom", "no DICM prefix and no DICOM instance keys")
                notes.append("no Part 10 file meta header")
            at_pixels = fh.tell() < size
            if _is_deflated(ds):  # the reader inflated a copy: the file offset says nothing
                fh.seek(0)
                at_pixels = "PixelData" in pydicom.dcmread(fh, defer_size=_DEFER)
                fh.seek(size)
            pixel_problem = _pixel_truncation(fh, ds, size) if at_pixels and not \
                _is_deflated(ds) else ""
    except OSError as exc:
        return Refusal("unreadable", exc.strerror or str(exc))
    except Exception as exc:  # noqa: BLE001 - a malformed header refuses this file, not the run
        return Refusal("truncated" if size < 1024 else "not-dicom", f"{type(exc).__name__}: {exc}")
    return _judge(ds, getattr(ds, "file_meta", None), at_pixels, pixel_problem, size, notes)


def _judge(ds, meta, at_pixels: bool, pixel_problem: str, size: int, notes: list[str]
           ) -> Header | Refusal:
    sop_class = _str(ds, "SOPClassUID") or (_str(meta, "MediaStorageSOPClassUID") if meta else "")
    if sop_class == DICOMDIR_CLASS or "DirectoryRecordSequence" in ds:
        return Refusal("dicomdir")
    if not at_pixels and not isinstance(ds, header_lean.LeanHeader) and _last_is_short(ds, size):
        return Refusal("truncated", "the file ends in the middle of the header")
    ts = _str(meta, "TransferSyntaxUID") if meta is not None else ""
    if not ts:
        implicit, little = getattr(ds, "original_encoding", (True, True))
        ts = "1.2.840.10008.1.2" if implicit else ("1.2.840.10008.1.2.1" if little
                                                    else "1.2.840.10008.1.2.2")
        notes.append("no transfer syntax in the meta header; encoding guessed")
    sop_uid = _str(ds, "SOPInstanceUID") or (_str(meta, "MediaStorageSOPInstanceUID") if meta else "")
    if not sop_uid:
        return Refusal("no-uid")
    has_image_module = bool(_int(ds, "Rows")) and bool(_int(ds, "Columns"))
    if at_pixels:
        if pixel_problem:
            return Refusal("truncated", pixel_problem)
        problem = None if ts in _NATIVE else transfer_syntax_problem(ts)
        if problem is not None:
            return problem
    elif has_image_module:
        return Refusal("missing-pixel-data", "the image attributes are there but the file ends "
                       "before any pixel data (cut short, or written without pixels)")
    return Header(
        patient_id=_str(ds, "PatientID"), patient_name=_str(ds, "PatientName"),
        birth_date=_str(ds, "PatientBirthDate"), sex=_str(ds, "PatientSex"),
        study_uid=_str(ds, "StudyInstanceUID"), study_date=_str(ds, "StudyDate"),
        study_time=_str(ds, "StudyTime"), study_desc=_str(ds, "StudyDescription"),
        accession=_str(ds, "AccessionNumber"), series_uid=_str(ds, "SeriesInstanceUID"),
        series_number=_int(ds, "SeriesNumber"), series_desc=_str(ds, "SeriesDescription"),
        modality=_str(ds, "Modality"), sop_uid=sop_uid, sop_class=sop_class,
        instance_number=_int(ds, "InstanceNumber"), transfer_syntax=ts,
        rows=_int(ds, "Rows") or 0, columns=_int(ds, "Columns") or 0,
        frames=(_int(ds, "NumberOfFrames") or 1) if at_pixels else 0,
        photometric=_str(ds, "PhotometricInterpretation"), has_pixels=at_pixels,
        burned_in=_str(ds, "BurnedInAnnotation").upper(), position=_position(ds),
        notes=tuple(notes))


def read_headers(paths: list) -> list[Header | Refusal]:
    """``read_header`` for a chunk of files: one decode-pool task."""
    return [read_header(path) for path in paths]
