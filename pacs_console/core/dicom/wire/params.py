"""AE title rules, timeouts and the console's identity on the wire: light enough to import at
start-up, before pynetdicom (the lean Upper Layer uses these without loading pynetdicom)."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from pacs_console import __version__

DEFAULT_AE_TITLE = "PACSCONSOLE"
MAX_CONTEXTS = 128  # presentation contexts in one association (PS3.8: odd IDs 1-255)
# 16 characters at most (PS3.8 AE title); shows up in peers' logs and in nmap/dicom-info output.
IMPLEMENTATION_VERSION = ("PACSCONSOLE_" + __version__.replace(".", ""))[:16]
# The Implementation Class UID the console announces: pynetdicom's for the installed version
# (str(pynetdicom.PYNETDICOM_IMPLEMENTATION_UID); a test keeps the two equal), written out so
# the lean paths need not import pynetdicom to say it.
IMPLEMENTATION_CLASS_UID = "1.2.826.0.1.3680043.9.3811.3.0.4"


@dataclass(frozen=True)
class Timeouts:
    """Explicit timeouts in seconds; pynetdicom's defaults leave TCP connect unbounded."""

    connect: float = 5.0
    acse: float = 10.0
    dimse: float = 30.0
    network: float = 60.0


def validate_ae_title(value: str) -> str | None:
    """Return why ``value`` is not a usable AE title, or None when it is."""
    if not value or not value.strip():
        return "AE title is empty or all spaces"
    if len(value) > 16:
        return f"AE title is {len(value)} characters long; DICOM allows at most 16"
    if "\\" in value:
        return "AE title contains a backslash, which DICOM forbids"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "AE title contains a control character"
    if any(ord(ch) > 127 for ch in value):
        return "AE title contains a non-ASCII character; DICOM allows the default repertoire only"
    return None


def set_nodelay(sock: socket.socket | None) -> None:
    """Disable Nagle: without it every DIMSE message waits ~40 ms for a delayed ACK."""
    if sock is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass  # a socket already closed by the peer; nothing to tune


# Names of the UIDs the command line's own association reports show (echo, find, move, get,
# store of the usual images), so naming them does not load pydicom's dictionary; a test keeps
# them equal to pydicom's names.
_COMMON_UID_NAMES = {
    "1.2.840.10008.1.1": "Verification SOP Class",
    "1.2.840.10008.1.2": "Implicit VR Little Endian",
    "1.2.840.10008.1.2.1": "Explicit VR Little Endian",
    "1.2.840.10008.1.2.2": "Explicit VR Big Endian",
    "1.2.840.10008.1.2.1.99": "Deflated Explicit VR Little Endian",
    "1.2.840.10008.1.2.5": "RLE Lossless",
    "1.2.840.10008.1.2.4.50": "JPEG Baseline (Process 1)",
    "1.2.840.10008.1.2.4.70": "JPEG Lossless, Non-Hierarchical, First-Order Prediction "
                              "(Process 14 [Selection Value 1])",
    "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless Image Compression",
    "1.2.840.10008.1.2.4.90": "JPEG 2000 Image Compression (Lossless Only)",
    "1.2.840.10008.5.1.4.1.2.1.1": "Patient Root Query/Retrieve Information Model - FIND",
    "1.2.840.10008.5.1.4.1.2.1.2": "Patient Root Query/Retrieve Information Model - MOVE",
    "1.2.840.10008.5.1.4.1.2.1.3": "Patient Root Query/Retrieve Information Model - GET",
    "1.2.840.10008.5.1.4.1.2.2.1": "Study Root Query/Retrieve Information Model - FIND",
    "1.2.840.10008.5.1.4.1.2.2.2": "Study Root Query/Retrieve Information Model - MOVE",
    "1.2.840.10008.5.1.4.1.2.2.3": "Study Root Query/Retrieve Information Model - GET",
    "1.2.840.10008.5.1.4.31": "Modality Worklist Information Model - FIND",
    "1.2.840.10008.5.1.4.1.1.1": "Computed Radiography Image Storage",
    "1.2.840.10008.5.1.4.1.1.2": "CT Image Storage",
    "1.2.840.10008.5.1.4.1.1.4": "MR Image Storage",
    "1.2.840.10008.5.1.4.1.1.6.1": "Ultrasound Image Storage",
    "1.2.840.10008.5.1.4.1.1.7": "Secondary Capture Image Storage",
}


def uid_name(uid) -> str:
    """``names.uid_name`` without loading pydicom for the few UIDs every echo report shows."""
    text = str(uid)
    if text in _COMMON_UID_NAMES:
        return _COMMON_UID_NAMES[text]
    from pacs_console.core.dicom.names import uid_name as named

    return named(text)
