"""The DICOM wire layer: bytes on a socket in, checked structures out, and back, and association
set-up and teardown.

- ``pdu`` is the one codec for every Upper Layer PDU and item the console reads or writes itself
  (A-ASSOCIATE-RQ/AC/RJ, P-DATA-TF, A-RELEASE-RQ/RP, A-ABORT, presentation context and user
  information items) and the DIMSE command sets they carry. Everything in it is bounded: a
  length is checked against its limit before anything is allocated for it, and any malformed
  structure raises ``ProtocolError``. It imports the standard library and
  ``pacs_console.core.errors`` only (import-linter).
- The lean Upper Layer on that codec: ``ul`` (requestor), ``lean_query`` (C-FIND rows straight
  from the wire), ``lean_store`` (files to the socket in PDU slices), ``lean_scp`` (the Storage
  SCP's acceptor) and ``fastpath`` (file meta and UIDs without pydicom).
- Over pynetdicom: ``ae`` (the one AE factory), ``association`` (open with a diagnosis, report
  what was negotiated); ``params``, ``target`` and ``tls`` say whom to reach and how.
- The entry points operations call, each choosing the path (lean first, pynetdicom when the
  lean path hands back): ``echo``, ``find``, ``store``, ``retrieve``.

Why two paths and which serves what: ``docs/architecture.md``.
May import: ``diagnosis`` and the top-level modules; never ``ops``, ``servers`` or ``synth``.
"""
