"""HL7 v2 over MLLP: TLS or not, and (with consent only) whether a test message from this
unregistered laptop is acknowledged. Sent and read through ``hl7.mllp`` (bounded reads)."""

from __future__ import annotations

import socket

from pacs_console.core.assess import tls_checks
from pacs_console.core.assess.model import Service

DEFAULT_PORTS: tuple[int, ...] = (2575,)


def is_open(run, host: str, port: int) -> bool:
    run.pace()
    try:
        with socket.create_connection((host, port), timeout=min(run.options.timeout, 2.0)):
            return True
    except OSError:
        return False


def assess(run, service: Service) -> None:
    from pacs_console.core.dicom.wire.tls import TlsConfig
    from pacs_console.core.hl7 import mllp
    from pacs_console.core.hl7.templates import render, test_patient_fields

    facts = tls_checks.assess(run, service)
    if facts is None:
        run.add("hl7-no-tls", service, f"MLLP on port {service.port} answers without TLS "
                                       "(a TLS ClientHello was not answered with TLS)")
    if not run.options.allow_hl7_test:
        run.skip("hl7-open", service, "message acceptance not tested: it needs "
                 "--allow-hl7-test (one ADT^A08 for a generated test patient is sent)")
        return
    text = render("adt-a08", test_patient_fields(), processing_id="T",
                  sending_app="PCA-ASSESSMENT", receiving_app="TEST")
    run.pace()
    result = mllp.send(service.host, service.port, text, connect_timeout=run.options.timeout,
                       ack_timeout=run.options.timeout,
                       tls=TlsConfig(verify=False) if facts is not None else None)
    if result.ack is not None and result.ack.accepted:
        run.add("hl7-open", service,
                f"an ADT^A08 for a generated test patient (processing ID T) from unregistered "
                f"application PCA-ASSESSMENT was acknowledged {result.ack.code}")
