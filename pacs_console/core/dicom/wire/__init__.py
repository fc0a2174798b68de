"""The DICOM wire layer: bytes on a socket in, checked structures out, and back.

``pdu`` is the one codec for every Upper Layer PDU and item the console reads or writes itself
(A-ASSOCIATE-RQ/AC/RJ, P-DATA-TF, A-RELEASE-RQ/RP, A-ABORT, presentation context and user
information items), used by the lean requestor (``dicom.ul``), the lean Storage SCP
(``dicom.scp_lean``) and discovery's probe. pynetdicom keeps its own encoder for the paths it
serves. Everything here is bounded: a length is checked against its limit before anything is
allocated for it, and any malformed structure raises ``ProtocolError``.

May import: the standard library and ``pacs_console.core.errors`` only, so any layer above
(operations, servers, discovery) can use it without cycles.
"""
