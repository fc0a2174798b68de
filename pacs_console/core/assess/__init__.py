"""Security assessment of a site's imaging network (issue 19): non-destructive, polite checks.

- ``catalog``: every finding class (check name, family, base severity, remedy) and what each
  family sends on the wire (``--explain``).
- ``plan``: which services of which hosts to assess, from a discovery sweep or a site's nodes.
- ``dicom_checks``, ``tls_checks``, ``web_checks``, ``hl7_checks``, ``software``: the checks; every
  byte read from the network goes through the existing bounded paths (``dicom.wire.ul`` and
  ``dicom.wire.pdu`` for PDUs, ``hl7.mllp`` for MLLP, httpx with a size cap for HTTP);
  ``admin_pages`` judges administration pages, ``move_listener`` hears (and refuses) the
  sub-associations a node opens during the C-MOVE check.
- ``runner``: the long work as a generator yielding progress, cancellable, nodes in parallel
  (bounded) and each node's connections paced; ``model``: findings, the score formula.
- ``history``: assessments saved per site and compared with the previous one.
Never imports Qt; never keeps patient data (C-FIND answers are counted, not read).
"""
