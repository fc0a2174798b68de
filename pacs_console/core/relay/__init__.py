"""What passes between two DICOM nodes that are not the console, decoded for a person.

``server`` is the relay: it listens for a modality, forwards every association byte for byte to
the real PACS, and decodes the PDUs as they pass (``stream`` cuts them out of the byte stream,
``conversation`` turns them into a timeline of associations and DIMSE messages, ``identify``
reads the dataset identifiers from a bounded prefix, ``findings`` diagnoses the result).
``tracefile`` saves a session (bytes and timeline); ``capture`` opens pcap/pcapng captures
(read with dpkt, frames unpacked by ``pcapread``), reassembles TCP and finds DICOM on any port by PDU structure, and HL7 MLLP streams.
``live`` queues each event as it passes for a live view; ``evidence`` turns a trace or capture into the redacted timeline attached to incidents.
Qt-free; the PDUs are read by the one wire codec, ``core.dicom.wire.pdu``.
"""
