"""One classifier of TLS handshake failures, two vocabularies: the console connecting to a node,
and a caller's handshake with the console listening. Exceptions shaped as Python's ssl module
raises them (verify_code/verify_message on a certificate error, reason on an alert)."""

import ssl

import pytest

from pacs_console.core.dicom.diagnosis.diagnose_tls import (
    diagnose_tls_accept_error,
    diagnose_tls_error,
    failure_kind,
)


def _verify(code: int, message: str) -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(
        1, f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {message}")
    exc.verify_code, exc.verify_message, exc.reason = code, message, "CERTIFICATE_VERIFY_FAILED"
    return exc


def _alert(reason: str) -> ssl.SSLError:
    exc = ssl.SSLError(1, f"[SSL: {reason}] {reason.lower()}")
    exc.reason = reason
    return exc


# exception, kind, the connecting side's code, the listening side's code
CASES = [
    (_verify(10, "certificate has expired"), "expired", "tls-certificate-expired",
     "tls-caller-certificate-refused"),
    (_verify(9, "certificate is not yet valid"), "not-yet-valid",
     "tls-certificate-not-yet-valid", "tls-caller-certificate-refused"),
    (_verify(62, "Hostname mismatch"), "wrong-host-name", "tls-wrong-host-name",
     "tls-caller-certificate-refused"),
    (_verify(19, "self-signed certificate in certificate chain"), "untrusted",
     "tls-untrusted-certificate", "tls-caller-certificate-refused"),
    (_alert("PEER_DID_NOT_RETURN_A_CERTIFICATE"), "no-certificate", "tls-handshake-failed",
     "tls-caller-certificate-refused"),
    (_alert("TLSV1_ALERT_UNKNOWN_CA"), "certificate-refused", "tls-client-certificate-refused",
     "tls-caller-refused-certificate"),
    (_alert("WRONG_VERSION_NUMBER"), "not-tls", "tls-not-tls", "tls-caller-not-tls"),
    (_alert("NO_SHARED_CIPHER"), "protocol", "tls-protocol-mismatch",
     "tls-caller-protocol-mismatch"),
    (ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), "closed",
     "tls-closed-during-handshake", "tls-caller-gave-up"),
    (TimeoutError("timed out"), "silent", "tls-handshake-failed", "tls-caller-gave-up"),
    (ConnectionRefusedError(111, "Connection refused"), "silent", "tls-handshake-failed",
     "tls-caller-gave-up"),
    (_alert("SOMETHING_NEW"), "failed", "tls-handshake-failed", "tls-caller-handshake-failed"),
]


@pytest.mark.parametrize(("exc", "kind", "connecting", "listening"), CASES,
                         ids=[case[1] + "-" + type(case[0]).__name__ for case in CASES])
def test_each_failure_has_one_kind_and_a_diagnosis_on_either_end(exc, kind, connecting,
                                                                  listening):
    assert failure_kind(exc) == kind
    to_node = diagnose_tls_error(exc, "127.0.0.1", 2762)
    from_caller = diagnose_tls_accept_error(exc, "127.0.0.5:40000")
    assert (to_node.code, from_caller.code) == (connecting, listening)
    assert "127.0.0.1:2762" in to_node.what and "127.0.0.5:40000" in from_caller.what
    assert to_node.evidence["error"] == from_caller.evidence["error"] == str(exc)
    assert to_node.causes and to_node.actions and from_caller.causes and from_caller.actions


def test_the_words_carry_the_callers_values_as_given():
    exc = _verify(62, "Hostname mismatch")
    wrong_name = diagnose_tls_error(exc, "127.0.0.1", 2762, server_name="pacs.{site}")
    assert wrong_name.what == ("The TLS certificate of 127.0.0.1:2762 is not for the name "
                               "'pacs.{site}'")
    untrusted = diagnose_tls_error(_verify(19, "self-signed"), "127.0.0.1", 2762,
                                   ca_file="/ca.pem", trust_action="give the CA with --ca-file {x}")
    assert untrusted.actions[0] == "give the CA with --ca-file {x}"
    assert untrusted.evidence["CA file"] == "/ca.pem"
    failed = diagnose_tls_accept_error(_alert("SOMETHING_NEW"), "127.0.0.5:40000")
    assert failed.what == "TLS handshake from 127.0.0.5:40000 failed: SOMETHING_NEW"
