"""HL7 over MLLP: the console's listener, hl7apy's independent MLLP server, timeouts and framing."""

from __future__ import annotations

import queue
import socket
import threading
import time

import pytest

from pacs_console.core.hl7 import ack, mllp, templates
from pacs_console.core.hl7.listener import Hl7Listener, ListenerOptions
from tests.core.dicom_ops.test_tls import pki  # noqa: F401, F811 - the test PKI fixture

HOST = "127.0.0.1"


@pytest.fixture
def listener(stopped_after):
    def start(**options):
        notify: queue.SimpleQueue = queue.SimpleQueue()
        return stopped_after(Hl7Listener(0, host=HOST, options=ListenerOptions(**options),
                                         notify=notify)), notify

    return start


@pytest.mark.parametrize("name", sorted(templates.TEMPLATES))
def test_every_template_is_accepted_by_the_console_listener(listener, name):
    server, notify = listener()
    text = templates.render(name, templates.test_patient_fields(seed=11))
    result = mllp.send(HOST, server.port, text, ack_timeout=5)
    assert result.ok, result.diagnosis
    assert result.ack.code == "AA"
    assert result.ack.control_id == result.message["control_id"]
    record = notify.get(timeout=2)
    assert record.message_type.startswith(result.message["type"].split("^")[0])
    # PHI masked in what the listener shows by default
    patient_id = templates.test_patient_fields(seed=11)["patient_id"]
    assert patient_id not in record.text and "***" in record.text
    assert result.evidence()["outcome"] == "ok"


def test_listener_shows_phi_only_when_asked(listener):
    server, notify = listener(mask_phi=False)
    fields = templates.test_patient_fields(seed=4)
    mllp.send(HOST, server.port, templates.render("adt-a04", fields), ack_timeout=5)
    assert fields["patient_id"] in notify.get(timeout=2).text


@pytest.mark.parametrize("code", ["AE", "AR", "CE", "CR"])
def test_negative_acks_are_explained(listener, code):
    server, _ = listener(answer=code, error_text="PID-3 missing")
    result = mllp.send(HOST, server.port, templates.render("orm", templates.test_patient_fields(1)),
                       ack_timeout=5)
    assert not result.ok
    assert result.ack.code == code
    assert result.diagnosis.code == f"hl7-nack-{code.lower()}"
    assert result.diagnosis.evidence["MSA-3"] == "PID-3 missing"
    assert any(key.startswith("ERR") for key in result.diagnosis.evidence)
    assert result.ack.errors[0].code in ack.ERROR_CODES


def test_ack_never_arriving_fires_at_the_configured_timeout(listener):
    server, notify = listener(answer="none")
    start = time.perf_counter()
    result = mllp.send(HOST, server.port, templates.render("oru", templates.test_patient_fields(2)),
                       ack_timeout=0.6)
    elapsed = time.perf_counter() - start
    assert result.diagnosis.code == "hl7-ack-timeout"
    assert 0.55 <= elapsed < 1.5
    assert notify.get(timeout=2).ack_code == "none"  # the message did arrive


def test_connect_refused_and_invalid_message():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    result = mllp.send(HOST, port, templates.render("orm", templates.test_patient_fields(1)))
    assert result.diagnosis.code == "connection-refused"
    bad = mllp.send(HOST, port, "PID|1||x")
    assert bad.diagnosis.code == "hl7-invalid-message"


def _raw_server(reply: bytes, close_after: bool = True):
    """A TCP peer with wrong framing: reads one block, writes ``reply`` verbatim."""
    server = socket.socket()
    server.bind((HOST, 0))
    server.listen(1)

    def serve():
        conn, _ = server.accept()
        with conn:
            data = b""
            while mllp.END + mllp.CR not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            conn.sendall(reply)
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1]


def test_wrong_framing_shows_a_hex_view():
    text = templates.render("orm", templates.test_patient_fields(1))
    control = ack.message_summary(text)["control_id"]
    unframed = f"MSH|^~\\&|RIS||PACS||20250101||ACK|1|P|2.3.1\rMSA|AA|{control}\r".encode()
    port = _raw_server(unframed)
    result = mllp.send(HOST, port, text, ack_timeout=2)
    assert result.ack is not None and result.ack.code == "AA"  # still readable
    assert result.diagnosis.code == "hl7-bad-framing"
    assert any("0x0B" in p for p in result.framing_problems)
    assert "4d 53 48" in result.reply_hex  # 'MSH' in the hex column


def test_garbage_reply_is_not_an_ack():
    port = _raw_server(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    result = mllp.send(HOST, port, templates.render("orm", templates.test_patient_fields(1)),
                       ack_timeout=2)
    assert result.ack is None
    assert result.diagnosis.code == "hl7-bad-framing"
    assert result.reply_hex


def test_loose_repair_fixes_pasted_messages():
    text = templates.render("adt-a08", templates.test_patient_fields(5))
    pasted = "\ufeff" + text.replace("\r", "\r\n") + "\r\n\r\n"
    repaired, fixes = templates.loose_repair(pasted)
    assert repaired == text
    assert any("CRLF" in f for f in fixes) and any("byte-order" in f for f in fixes)
    assert templates.loose_repair(text.replace("\r", "\n"))[0] == text


def test_template_from_a_worklist_item():
    from pacs_console.core.dicom.synth.studies import worklist_items

    item = worklist_items(1, seed=9)[0]
    text = templates.render("omi", templates.fields_from_worklist(item))
    msg = ack.parse_message(text)
    assert str(msg.segment("PID")[3]).startswith(str(item.PatientID))
    assert str(item.AccessionNumber) in str(msg.segment("OBR")[2])
    assert str(item.StudyInstanceUID) in str(msg.segment("IPC")[3])


def test_against_hl7apy_mllp_server():
    """A second, independent MLLP implementation (hl7apy) answers the console's client."""
    from hl7apy.mllp import AbstractErrorHandler, AbstractHandler, MLLPServer

    seen: list[str] = []

    class Reply(AbstractHandler):
        def reply(self):
            seen.append(self.incoming_message)
            answer = ack.build_ack(self.incoming_message, "AE", "rejected by hl7apy",
                                   error_code="103", application="HL7APY")
            return mllp.frame(answer).decode()

    class Error(AbstractErrorHandler):
        def reply(self):
            return mllp.frame(ack.build_ack(self.incoming_message, "AR")).decode()

    server = MLLPServer(HOST, 0, {"ORM^O01^ORM_O01": (Reply,), "ERR": (Error,)}, timeout=5)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        text = templates.render("orm", templates.test_patient_fields(3))
        result = mllp.send(HOST, port, text, ack_timeout=5)
        assert seen and seen[0].startswith("MSH")
        assert result.ack.code == "AE"
        assert result.ack.errors[0].code == "103"
        assert "table" in result.ack.errors[0].advice
        # an unknown message type goes to hl7apy's error handler: AR
        other = mllp.send(HOST, port, templates.render("adt-a04", templates.test_patient_fields(3)),
                          ack_timeout=5)
        assert other.ack.code == "AR"
    finally:
        server.shutdown()
        server.server_close()


def test_mllp_over_tls(pki):  # noqa: F811 - the imported fixture
    from pacs_console.core.dicom.wire.tls import TlsConfig

    notify: queue.SimpleQueue = queue.SimpleQueue()
    cert, key = pki["good"]
    server = Hl7Listener(0, host=HOST, notify=notify, cert_file=cert, key_file=key).start()
    try:
        text = templates.render("orm", templates.test_patient_fields(1))
        result = mllp.send(HOST, server.port, text, ack_timeout=5, tls=TlsConfig(ca_file=pki["ca"]))
        assert result.ok, result.diagnosis
        assert result.tls["protocol"].startswith("TLS") and result.tls_ms is not None
        untrusted = mllp.send(HOST, server.port, text, ack_timeout=5, tls=TlsConfig())
        assert untrusted.diagnosis.code.startswith("tls-")
        plain = mllp.send(HOST, server.port, text, ack_timeout=1)
        assert not plain.ok
    finally:
        server.stop()
