"""The integrity read of one received file (``read_instance``): without pydicom for the common
case, native (uncompressed) little-endian pixel data. The SOP Instance UID and the pixel data
come straight from the bytes; "decodes" means the pixel data holds every byte that rows x columns x samples x
bits x frames need (what pydicom's decoder checks for native data). Anything else (compressed
syntaxes, YBR 4:2:2, odd layouts) gives None, and the caller reads the file with pydicom.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

from pacs_console.core.dicom.wire import fastpath

NATIVE = {"1.2.840.10008.1.2.1": False, "1.2.840.10008.1.2": True}  # syntax -> implicit VR
ROWS, COLUMNS, SAMPLES, BITS = 0x00280010, 0x00280011, 0x00280002, 0x00280100
FRAMES, PHOTOMETRIC = 0x00280008, 0x00280004
WANTED = (fastpath.SOP_INSTANCE_UID, ROWS, COLUMNS, SAMPLES, BITS, FRAMES, PHOTOMETRIC,
          fastpath.PIXEL_DATA)
MAX_FILE = 2 << 30  # a larger file is read by pydicom (which streams nothing either)


def _us(value) -> int | None:
    return struct.unpack("<H", value)[0] if value is not None and len(value) == 2 else None


def _text(value) -> str:
    return bytes(value).rstrip(b"\x00 ").decode("ascii") if value is not None else ""


def native_read(path: Path) -> tuple[str, str | None, str] | None:
    """(SOP Instance UID, SHA-256 of the pixel data, problem) or None: read it with pydicom."""
    try:
        with open(path, "rb") as fp:
            syntax = fastpath.read_meta(fp).get(0x00020010)
            if syntax not in NATIVE:
                return None
            fp.seek(0)
            fp.seek(fastpath.dataset_offset(fp))
            data = fp.read(MAX_FILE + 1)
    except (OSError, fastpath.ScanError, UnicodeDecodeError):
        return None
    return native_check(data, syntax)


def native_check(data: bytes, syntax: str) -> tuple[str, str | None, str] | None:
    """The same for a dataset's bytes in ``syntax`` (a C-STORE as received, never on disk)."""
    if syntax not in NATIVE or len(data) > MAX_FILE:
        return None
    try:
        found = fastpath.values(data, NATIVE[syntax], WANTED)
        sop = _text(found.get(fastpath.SOP_INSTANCE_UID))
        photometric = _text(found.get(PHOTOMETRIC))
        frames = _text(found.get(FRAMES)) or "1"
    except (fastpath.ScanError, UnicodeDecodeError):
        return None
    if not sop or photometric.startswith("YBR_FULL_422") or not frames.isdigit():
        return None
    pixels = found.get(fastpath.PIXEL_DATA)
    if pixels is None:
        return sop, None, "no pixel data"
    rows, columns = _us(found.get(ROWS)), _us(found.get(COLUMNS))
    samples, bits = _us(found.get(SAMPLES)) or 1, _us(found.get(BITS))
    if not rows or not columns or bits not in (1, 8, 16, 32, 64):
        return None  # pydicom says precisely what is wrong
    pixels_count = rows * columns * samples * max(1, int(frames))
    expected = (pixels_count + 7) // 8 if bits == 1 else pixels_count * bits // 8
    if len(pixels) < expected:
        return sop, None, (f"pixel data holds {len(pixels)} bytes, {rows}x{columns}x{samples} "
                           f"x {bits} bits x {frames} frame(s) need {expected}")
    return sop, hashlib.sha256(pixels).hexdigest(), ""


def read_instance(path: Path) -> tuple[str | None, str | None, str]:
    """One read of a received file: (SOP Instance UID, SHA-256 of its pixel data, problem).
    The UID is None when the file is not readable DICOM; problem is '' when the pixels decode.
    Native little-endian pixel data is read from the bytes (``pixels``), the rest by pydicom."""
    import warnings

    import pydicom

    fast = native_read(path)
    if fast is not None:
        return fast

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)
            sop = str(ds.SOPInstanceUID)
    except Exception as exc:  # noqa: BLE001 - not DICOM: this file's finding
        return None, None, f"{type(exc).__name__}: {exc}"[:200]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if "PixelData" not in ds:
                return sop, None, "no pixel data"
            digest = hashlib.sha256(ds.PixelData).hexdigest()
            ds.pixel_array  # noqa: B018 - decoding is the check
        return sop, digest, ""
    except Exception as exc:  # noqa: BLE001 - any failure is this instance's finding
        return sop, None, f"{type(exc).__name__}: {exc}"[:200]
