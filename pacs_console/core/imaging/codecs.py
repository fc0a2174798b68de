"""JPEG decoding without GPL code: pylibjpeg-libjpeg (GPL-3.0) is not shipped, so 12-bit JPEG
Extended (Process 4) and lossless JPEG (Process 14, SV1) go through imagecodecs' libjpeg-turbo
(BSD) as a pydicom decoder plugin; Pillow keeps the 8-bit baseline/extended ones. (python-gdcm
was tried: pydicom's GDCM plugin refuses 12-bit JPEG Extended, and importing GDCM costs every
viewer worker 0.4 s.) ``register()`` adds the plugin once, before any decode."""

from __future__ import annotations

import threading

from pydicom import uid

LABEL = "imagecodecs"
DECODER_DEPENDENCIES = {syntax: ("numpy", "imagecodecs") for syntax in (
    uid.JPEGExtended12Bit, uid.JPEGLossless, uid.JPEGLosslessSV1)}
_lock = threading.Lock()
_done = False


def is_available(transfer_syntax: str) -> bool:
    if transfer_syntax not in DECODER_DEPENDENCIES:
        return False
    # Found, not imported: importing imagecodecs costs time every viewer worker would pay.
    from importlib.util import find_spec

    return find_spec("imagecodecs") is not None


def decode_frame(src: bytes, runner) -> bytes:
    """One JPEG frame to native pixel bytes (8- or 16-bit container, little endian)."""
    import imagecodecs
    import numpy as np

    frame = imagecodecs.jpeg8_decode(src)
    if frame.dtype.itemsize > 1:
        frame = frame.astype("<u2" if runner.pixel_representation == 0 else "<i2", copy=False)
        runner.set_option("bits_allocated", 16)
    else:
        runner.set_option("bits_allocated", 8)
    if frame.ndim == 3:  # libjpeg-turbo returns colour as RGB, interleaved
        from pydicom.pixels.common import PhotometricInterpretation as PI

        runner.set_option("photometric_interpretation", PI.RGB)
        runner.set_option("planar_configuration", 0)
    return np.ascontiguousarray(frame).tobytes()


def register() -> None:
    """Make the plugin known to pydicom (idempotent, thread-safe)."""
    global _done
    with _lock:
        if _done:
            return
        from pydicom.pixels import get_decoder

        for syntax in DECODER_DEPENDENCIES:
            decoder = get_decoder(syntax)
            if LABEL not in decoder.available_plugins and LABEL not in getattr(
                    decoder, "_unavailable", {}):
                decoder.add_plugin(LABEL, (__name__, "decode_frame"))
        _done = True
