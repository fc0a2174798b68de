"""Fuzzing the assessment's doors the way tests/core/test_wire_fuzz.py does: hostile DICOM
answers after an accepted association, hostile certificates, hostile HTTP answers. A check may
only turn them into findings or 'not tested' lines, never into an exception."""

from __future__ import annotations

import json
import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacs_console.core.assess import admin_pages, dicom_checks, tls_checks, web_checks
from pacs_console.core.assess.catalog import CHECKS
from pacs_console.core.assess.model import AssessOptions, Service
from pacs_console.core.assess.runner import NodeRun
from pacs_console.core.dicom.wire import pdu
from tests.core.test_wire_fuzz import mutated, random_pdu
from tests.core.wire_peers import ScriptedAcceptor

FUZZ = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
QUICK = AssessOptions(timeout=0.5, interval=0.0)
EXPLICIT = dicom_checks.EXPLICIT
_AC = pdu.associate_ac(b"X".ljust(16), b"Y".ljust(16),
                       [pdu.Context(n, transfer_syntaxes=[EXPLICIT]) for n in (1, 3, 5)],
                       pdu.UserInfo(16384, "1.2.3", "FUZZ"))
_PENDING = pdu.encode_command({0x0120: 1, 0x0100: 0x8020, 0x0800: 0, 0x0900: 0xFF00})
_ANSWER = pdu.pdu(pdu.P_DATA_TF, pdu.pdv_header(1, len(_PENDING), 0x03) + _PENDING)


def _run(service: Service) -> NodeRun:
    return NodeRun(service.host, QUICK, threading.Event(), ())


@FUZZ
@given(data=st.one_of(mutated(_ANSWER), random_pdu, st.binary(max_size=256)))
def test_fuzzed_dimse_answers_become_findings_or_not_tested(data):
    peer = ScriptedAcceptor(_AC + data, then_close=True)
    try:
        service = Service("127.0.0.1", peer.port, "dicom", ae_title="FUZZ")
        run = _run(service)
        dicom_checks.assess(run, service)
        assert all(f.check in CHECKS for f in run.report.findings)
    finally:
        peer.close()


@FUZZ
@given(data=st.one_of(mutated(_AC), random_pdu))
def test_fuzzed_association_answers(data):
    peer = ScriptedAcceptor(data, then_close=True)
    try:
        service = Service("127.0.0.1", peer.port, "dicom", ae_title="FUZZ")
        dicom_checks.assess(_run(service), service)
    finally:
        peer.close()


def _der() -> bytes:
    import datetime as dt

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.pki import _cert, _name

    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert(_name("fuzz"), _name("fuzz"), key, key, ca=False, days=(-1, 10))
    assert cert.not_valid_after_utc > dt.datetime.now(dt.UTC)
    return cert.public_bytes(serialization.Encoding.DER)


DER = _der()


@settings(max_examples=300, deadline=None, database=None)
@given(data=st.one_of(mutated(DER), st.binary(max_size=2048)))
def test_fuzzed_certificates_are_judged_never_crash(data):
    for check, evidence in tls_checks.certificate_findings(data, "127.0.0.1"):
        assert check in CHECKS and isinstance(evidence, str)


_BODY = json.dumps({"DicomAet": "ORTHANC", "DicomPort": 24242, "Version": "1.10.1"}).encode()
_HTTP = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
         + str(len(_BODY)).encode() + b"\r\nConnection: close\r\n\r\n" + _BODY)


@FUZZ
@given(data=st.one_of(mutated(_HTTP), st.binary(max_size=512)))
def test_fuzzed_http_answers(data):
    peer = ScriptedAcceptor(data, then_close=True)
    try:
        service = Service("127.0.0.1", peer.port, "http")
        run = _run(service)
        web_checks.assess(run, service)
        assert all(f.check in CHECKS for f in run.report.findings)
    finally:
        peer.close()


_PAGE = (b"<!DOCTYPE html><html><head><title>Orthanc Explorer</title></head><body>"
         b"<div id='orthanc'>admin tomcat dcm4che</div></body></html>")
_HTML = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
         + str(len(_PAGE)).encode() + b"\r\nConnection: close\r\n\r\n" + _PAGE)


@FUZZ
@given(data=st.one_of(mutated(_HTML), st.binary(max_size=512)))
def test_fuzzed_admin_page_answers(data):
    """Every administration page GET gets a hostile answer: findings or nothing, never a crash,
    and the evidence stays one bounded printable line."""
    peer = ScriptedAcceptor(data, then_close=True)
    try:
        service = Service("127.0.0.1", peer.port, "http")
        run = _run(service)
        base = f"http://127.0.0.1:{peer.port}"
        with web_checks.client(QUICK.timeout) as http:
            admin_pages.assess(run, service, base, lambda url: web_checks.fetch(http, url))
        for f in run.report.findings:
            assert f.check in ("admin-page-open", "admin-page-login")
            assert len(f.evidence) < 500 and "\n" not in f.evidence
    finally:
        peer.close()


@settings(max_examples=300, deadline=None, database=None)
@given(status=st.integers(0, 999), headers=st.dictionaries(
    st.sampled_from(["Content-Type", "WWW-Authenticate", "Location", "X"]),
    st.text(max_size=300), max_size=4), body=st.one_of(st.none(), mutated(_PAGE),
                                                      st.binary(max_size=4096)))
def test_fuzzed_admin_page_judgement(status, headers, body):
    for page in admin_pages.PAGES:
        found = admin_pages.judge(page, "http://127.0.0.1:1" + page.path, status, headers, body)
        assert found is None or (found[0] in CHECKS and isinstance(found[1], str))
    assert len(admin_pages.title(body)) <= 80


_RQ = pdu.associate_rq("PCA-NO-SUCH-DEST", "SOME-PACS", [("1.2.840.10008.5.1.4.1.1.2",
                                                        [EXPLICIT])],
                       pdu.UserInfo(16384, "1.2.3", "FUZZ"))


@FUZZ
@given(data=st.one_of(mutated(_RQ), random_pdu, st.binary(max_size=256)))
def test_fuzzed_sub_associations_reaching_the_move_listener(data):
    """Whatever a node sends to the C-MOVE listener is noted (or noted as malformed) and
    refused; the listener never crashes, never reads past its bound, never accepts."""
    import socket

    from pacs_console.core.assess.move_listener import MoveListener

    with MoveListener("127.0.0.1", 0, timeout=0.5) as ear:
        answer = b""
        with socket.create_connection(("127.0.0.1", ear.port), timeout=2) as conn:
            try:  # the listener may already have refused and closed: that is its right
                conn.sendall(data)
                conn.shutdown(socket.SHUT_WR)
                while chunk := conn.recv(4096):
                    answer += chunk
            except OSError:
                pass
        assert ear.wait(3)
    (attempt,) = ear.seen
    assert len(attempt.text()) < 300 and not answer.startswith(bytes([pdu.ASSOCIATE_AC]))
    if attempt.called_ae:  # a well-formed request was refused, permanently
        assert answer == pdu.associate_rj(1, 1, 7)


@settings(max_examples=300, deadline=None, database=None)
@given(data=st.one_of(st.binary(max_size=512), mutated(
    dicom_checks.identifier(True, "1.2.840.113619.2.55.3.604688119.868.1234567890.1"))),
    explicit=st.booleans())
def test_fuzzed_find_answers_give_a_uid_or_nothing(data, explicit):
    uid = dicom_checks.study_uid(data, explicit)
    assert uid == "" or (len(uid) <= 64 and set(uid) <= set("0123456789."))


def test_the_study_uid_is_read_from_both_encodings():
    uid = "1.2.840.113619.2.55.3.604688119.868.1234567890.1"
    for explicit in (True, False):
        assert dicom_checks.study_uid(dicom_checks.identifier(explicit, uid), explicit) == uid
