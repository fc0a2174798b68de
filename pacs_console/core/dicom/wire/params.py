"""AE title rules, timeouts and the console's identity on the wire: light enough to import at
start-up, before pynetdicom (the lean Upper Layer uses these without loading pynetdicom)."""

from __future__ import annotations

import _socket

from pacs_console import __version__
from pacs_console.core.records import record

DEFAULT_AE_TITLE = "PACSCONSOLE"
MAX_CONTEXTS = 128  # presentation contexts in one association (PS3.8: odd IDs 1-255)
# 16 characters at most (PS3.8 AE title); shows up in peers' logs and in nmap/dicom-info output.
IMPLEMENTATION_VERSION = ("PACSCONSOLE_" + __version__.replace(".", ""))[:16]
# The Implementation Class UID the console announces: pynetdicom's for the installed version
# (str(pynetdicom.PYNETDICOM_IMPLEMENTATION_UID); a test keeps the two equal), written out so
# the lean paths need not import pynetdicom to say it.
IMPLEMENTATION_CLASS_UID = "1.2.826.0.1.3680043.9.3811.3.0.4"


@record(frozen=True)
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


def ascii_host(host: str) -> str | bytes:
    """An ASCII name or address as bytes, as the "idna" codec would send it to the resolver
    (that codec, with stringprep and unicodedata, cost every command line ~2 ms to import);
    only an international name needs it."""
    return host.encode("ascii") if host.isascii() else host


def connect(host: str, port: int, timeout: float | None) -> _socket.socket:
    """A TCP connection to ``host`` as ``socket.create_connection`` makes it (each address the
    resolver gives, in turn; the last error raised), without the "idna" codec (``ascii_host``),
    and on the C module ``_socket`` that ``socket`` wraps: the ``socket`` module (its enum
    tables, ``selectors``, ``array``) cost every command line ~3 ms before its request could
    go out, for names the lean Upper Layer never uses. The socket has the methods it does use
    (``sendall``, ``recv_into``, ``settimeout``, ``close``); ``ssl`` wraps it as it is."""
    error: OSError | None = None
    for family, kind, proto, _, address in _socket.getaddrinfo(ascii_host(host), port, 0,
                                                               _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error if error is not None else OSError(f"no address for {host!r}")


def set_nodelay(sock: _socket.socket | None) -> None:
    """Disable Nagle: without it every DIMSE message waits ~40 ms for a delayed ACK."""
    if sock is None:
        return
    try:
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
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


# Every storage SOP class pynetdicom's AllStoragePresentationContexts lists (a test keeps them
# equal), so the console's Storage SCP starts without loading pynetdicom.
_STORAGE_ROOT = "1.2.840.10008.5.1.4.1.1."
STORAGE_SOP_CLASSES = frozenset([_STORAGE_ROOT + suffix for suffix in """
1 1.1 1.1.1 1.2 1.2.1 1.3 1.3.1 104.1 104.2 104.3 104.4 104.5 11.1 11.10 11.11 11.12 11.2
11.3 11.4 11.5 11.6 11.7 11.8 11.9 12.1 12.1.1 12.2 12.2.1 128 128.1 13.1.1 13.1.2 13.1.3
13.1.4 13.1.5 130 131 14.1 14.2 2 2.1 2.2 20 200.2 200.8 3.1 30 4 4.1 4.2 4.3 4.4 481.1
481.10 481.11 481.12 481.13 481.14 481.15 481.16 481.17 481.18 481.19 481.2 481.20 481.21
481.22 481.23 481.24 481.25 481.3 481.4 481.5 481.6 481.7 481.8 481.9 6.1 6.2 6.3 66 66.1
66.2 66.3 66.4 66.5 66.6 66.7 66.8 67 68.1 68.2 7 7.1 7.2 7.3 7.4 77.1.1 77.1.1.1 77.1.2
77.1.2.1 77.1.3 77.1.4 77.1.4.1 77.1.5.1 77.1.5.2 77.1.5.3 77.1.5.4 77.1.5.5 77.1.5.6
77.1.5.7 77.1.5.8 77.1.6 77.1.7 77.1.8 77.1.9 78.1 78.2 78.3 78.4 78.5 78.6 78.7 78.8 79.1
80.1 81.1 82.1 88.11 88.22 88.33 88.34 88.35 88.40 88.50 88.59 88.65 88.67 88.68 88.69 88.70
88.71 88.72 88.73 88.74 88.75 88.76 88.77 9.1.1 9.1.2 9.1.3 9.1.4 9.100.1 9.100.2 9.2.1
9.3.1 9.4.1 9.4.2 9.5.1 9.6.1 9.6.2 9.7.1 9.7.2 9.7.3 9.7.4 9.8.1 90.1 91.1
""".split()] + ["1.2.840.10008.5.1.4.34.7", "1.2.840.10008.5.1.4.34.10"])


def uid_name(uid) -> str:
    """``names.uid_name`` without loading pydicom for the few UIDs every echo report shows."""
    text = str(uid)
    if text in _COMMON_UID_NAMES:
        return _COMMON_UID_NAMES[text]
    from pacs_console.core.dicom.names import uid_name as named

    return named(text)
