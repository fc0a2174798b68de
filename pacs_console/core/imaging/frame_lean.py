"""One frame's stored values without pydicom, for the plain case a thumbnail mostly meets:
native (uncompressed) little-endian greyscale, 8 or 16 bits a sample.

The header comes from the lean header reader (``header_lean.read(..., decode=True)``), the
frame is read straight from its offset in the file: one open, two reads, no data set built.
The values are what pydicom's ``pixel_array`` gives for such a file (the same dtype, unused
high bits cleared or sign-extended the same way). Anything else (colour, compression, other
bit depths, a short or odd pixel data element, a header the lean reader leaves to pydicom)
returns None, and the caller decodes with pydicom, which also says what is wrong.
"""

from __future__ import annotations

import os
import stat
import struct
import threading

from pacs_console.core.imaging import header_lean

TYPE_CHECKING = False
if TYPE_CHECKING:
    import numpy as np

_GREY = frozenset(("MONOCHROME1", "MONOCHROME2"))
REUSE_MAX = 32 << 20  # a larger frame gets memory of its own, given back when it is done


def _count(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_LOCAL = threading.local()


def _buffer(size: int) -> memoryview:
    """This thread's frame buffer, grown to ``size``: a worker reading thousands of frames
    reuses one, instead of paging in fresh memory for every frame."""
    buf = getattr(_LOCAL, "buffer", None)
    if buf is None or len(buf) < size:
        buf = _LOCAL.buffer = bytearray(size)
    return memoryview(buf)[:size]


def read_frame(path: str | os.PathLike[str], index: int | None = None, *, reuse: bool = False
               ) -> tuple[header_lean.LeanHeader, np.ndarray, int, int] | None:
    """(header values, frame ``index`` (default: the middle one), its index, the frame
    count), or None: decode with pydicom. Reads no more than the header and that frame; a
    device, pipe or folder is opened without waiting for a writer and left to pydicom (whose
    wait on a pipe is what the decode pool's stall guard is for). ``reuse``: the frame is
    read into this thread's buffer (writeable, and valid until its next ``reuse`` read)."""
    import numpy as np

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return None  # pydicom's open says why
    try:
        with open(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                return None
            lean = header_lean.read(fh, st.st_size, decode=True)
            if lean is None or not lean[2]:
                return None
            ds, meta, _, offset = lean
            implicit = meta.get("TransferSyntaxUID") == header_lean.IMPLICIT_LE
            if not implicit and meta.get("TransferSyntaxUID") != header_lean.EXPLICIT_LE:
                return None
            rows, cols = ds.get("Rows"), ds.get("Columns")
            bits, stored = ds.get("BitsAllocated"), ds.get("BitsStored")
            signed = ds.get("PixelRepresentation")
            frames = _count(ds.get("NumberOfFrames") or 1)
            if not rows or not cols or bits not in (8, 16) or not stored or stored > bits or \
                    signed not in (0, 1) or ds.get("SamplesPerPixel") != 1 or \
                    ds.get("PhotometricInterpretation") not in _GREY or not frames or frames < 1:
                return None
            index = frames // 2 if index is None else max(0, min(index, frames - 1))
            fh.seek(offset)
            head = fh.read(12)
            if implicit and len(head) >= 8:
                length, start = struct.unpack_from("<I", head, 4)[0], offset + 8
            elif not implicit and len(head) == 12 and head[4:6] in (b"OB", b"OW"):
                length, start = struct.unpack_from("<I", head, 8)[0], offset + 12
            else:
                return None
            frame_bytes = rows * cols * bits // 8
            if length == 0xFFFFFFFF or length < frame_bytes * frames or \
                    start + length > st.st_size:
                return None  # short, cut off or encapsulated: pydicom says what is wrong
            fh.seek(start + index * frame_bytes)
            data = _buffer(frame_bytes) if reuse and frame_bytes <= REUSE_MAX \
                else bytearray(frame_bytes)
            if fh.readinto(data) != frame_bytes:
                return None
    except OSError:
        return None
    dtype = np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")
    arr = np.frombuffer(data, dtype).reshape(rows, cols)
    if stored < bits:  # as pydicom: bits above Bits Stored are not part of the value
        np.left_shift(arr, bits - stored, out=arr)
        np.right_shift(arr, bits - stored, out=arr)
    return ds, arr, index, frames
