"""Plain words for what went wrong: socket errors and association outcomes (``diagnose``), TLS
handshake failures (``diagnose_tls``), DIMSE status codes (``dimse_status``) and a peer's vendor
from its implementation UID and version (``fingerprint``).

May import: the standard library, pydicom/pynetdicom constants and the top-level modules; never
``wire``, ``ops``, ``servers`` or ``synth`` (every layer above uses it).
"""
