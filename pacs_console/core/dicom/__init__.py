"""DICOM networking, by role. Each subpackage's docstring says what lives there and what it may import.

- ``wire``: bytes to structures and back: the one PDU codec (``wire.pdu``), the lean Upper Layer
  (``ul``, ``lean_query``, ``lean_store``, ``lean_scp``), the AE factory, association set-up and
  teardown over pynetdicom, targets, TLS and the console's identity on the wire.
- ``ops``: what a user runs: echo, find (``query``), retrieve, store, probe, preflight, and the
  shared pieces of their results.
- ``servers``: what listens: the console's Storage SCP, the demo PACS and its matching.
- ``synth``: synthetic studies, images and worklist items.
- ``diagnosis``: socket errors, association outcomes, TLS failures and DIMSE statuses turned into
  plain words; peer fingerprints.
- Top level: ``names`` (human names for UIDs and keywords), ``charsets`` and ``identifiers``
  (C-FIND identifiers both ways), used by every layer.

Layers (import-linter, ``pyproject.toml``): ``servers`` and ``ops`` above ``synth``, above ``wire``,
above ``diagnosis``; a lower layer never imports a higher one.
"""
