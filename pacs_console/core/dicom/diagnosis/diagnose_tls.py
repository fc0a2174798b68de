"""Turn TLS handshake failures into diagnoses: untrusted, expired, wrong host name, protocol."""

from __future__ import annotations

import ssl

from pacs_console.core.errors import Diagnosis

# OpenSSL X509_V_ERR_* codes seen in ssl.SSLCertVerificationError.verify_code.
_EXPIRED = {10}
_NOT_YET_VALID = {9}
_UNTRUSTED = {2, 18, 19, 20, 21, 27}
_HOSTNAME = {62}
_PROTOCOL_REASONS = ("UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION", "NO_PROTOCOLS_AVAILABLE",
                     "VERSION_TOO_LOW", "NO_SUPPORTED_VERSIONS_ENABLED", "NO_SHARED_CIPHER",
                     "SSLV3_ALERT_HANDSHAKE_FAILURE", "NO_CIPHERS_AVAILABLE")
_NOT_TLS_REASONS = ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG",
                    "RECORD_LAYER_FAILURE")
_CLIENT_CERT_REASONS = ("TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_BAD_CERTIFICATE",
                        "TLSV13_ALERT_CERTIFICATE_REQUIRED", "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
                        "TLSV1_ALERT_ACCESS_DENIED", "SSLV3_ALERT_CERTIFICATE_EXPIRED")


def is_tls_error(exc: BaseException) -> bool:
    return isinstance(exc, ssl.SSLError | ssl.CertificateError)


_TRUST_ACTION = "configure the node's CA certificate (PEM) as this node's CA file"


def diagnose_tls_error(exc: BaseException, host: str, port: int, *, server_name: str = "",
                       ca_file: str = "", trust_action: str = _TRUST_ACTION) -> Diagnosis:
    """Name the TLS failure precisely; the OpenSSL text goes into the evidence.

    ``trust_action`` says where this caller's user gives a CA (node settings, a CLI option)."""
    where = f"{host}:{port}"
    evidence = {"error": str(exc), "server name checked": server_name or host,
                "CA file": ca_file or "(system trust store)"}
    code = getattr(exc, "verify_code", None)
    reason = str(getattr(exc, "reason", "") or "")
    message = str(getattr(exc, "verify_message", "") or exc)
    if code in _EXPIRED or "expired" in message and code is not None:
        return Diagnosis(
            "tls-certificate-expired", f"The TLS certificate of {where} has expired",
            ("the node's certificate was not renewed", "this laptop's clock is wrong"),
            ("check the date and time on this laptop", "renew the node's certificate"), evidence)
    if code in _NOT_YET_VALID:
        return Diagnosis(
            "tls-certificate-not-yet-valid", f"The TLS certificate of {where} is not valid yet",
            ("this laptop's clock is behind", "the certificate was issued with a future start date"),
            ("check the date and time on this laptop",), evidence)
    if code in _HOSTNAME or isinstance(exc, ssl.CertificateError) and "match" in message:
        return Diagnosis(
            "tls-wrong-host-name",
            f"The TLS certificate of {where} is not for the name {server_name or host!r}",
            ("the node was addressed by IP or another name than the one in its certificate",
             "the certificate belongs to another machine"),
            ("enter the certificate's host name as the node's TLS server name",
             "or reissue the certificate with this name or IP in its subjectAltName"), evidence)
    if code in _UNTRUSTED or isinstance(exc, ssl.SSLCertVerificationError):
        return Diagnosis(
            "tls-untrusted-certificate", f"The TLS certificate of {where} is not trusted",
            ("the certificate is self-signed or signed by a CA this console does not know",
             "the wrong CA file is configured for this node"),
            (trust_action, "ask the PACS administrator for the CA that signed the certificate"),
            evidence)
    if any(r in reason for r in _CLIENT_CERT_REASONS):
        return Diagnosis(
            "tls-client-certificate-refused", f"{where} refused this console's TLS client certificate",
            ("the node requires a client certificate and none or an unknown one was sent",),
            ("configure a client certificate and key signed by a CA the node trusts",), evidence)
    if any(r in reason for r in _NOT_TLS_REASONS):
        return Diagnosis(
            "tls-not-tls", f"{where} did not answer the TLS handshake with TLS",
            ("this port serves plain DICOM, not DICOM over TLS",),
            ("turn TLS off for this node, or use the node's TLS port (often 2762)",), evidence)
    if any(r in reason for r in _PROTOCOL_REASONS):
        return Diagnosis(
            "tls-protocol-mismatch", f"{where} and this console share no TLS version or cipher",
            ("the node supports only old TLS versions (1.0/1.1) or ciphers this console refuses",),
            ("update the node's TLS settings to TLS 1.2 or later",), evidence)
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError) or "EOF" in str(exc):
        return Diagnosis(
            "tls-closed-during-handshake", f"{where} closed the connection during the TLS handshake",
            ("the node refused this client (its certificate, TLS version or IP)",
             "the port serves plain DICOM and dropped the TLS hello"),
            ("check the node's TLS log", "check whether this port really serves DICOM over TLS"),
            evidence)
    return Diagnosis("tls-handshake-failed", f"TLS handshake with {where} failed: {reason or exc}",
                     ("a TLS configuration mismatch",), ("check the node's TLS settings",), evidence)


def diagnose_tls_accept_error(exc: BaseException, client: str, *, ca_file: str = "") -> Diagnosis:
    """A caller's TLS handshake with the console (listening) failed: name why, from our side."""
    reason = str(getattr(exc, "reason", "") or "")
    evidence = {"error": str(exc), "from": client,
                "client CA": ca_file or "(no client certificate asked for)"}
    if any(r in reason for r in _NOT_TLS_REASONS):
        return Diagnosis(
            "tls-caller-not-tls", f"{client} did not start TLS on the console's TLS port",
            ("the modality sends plain DICOM (TLS is off in its network settings)",
             "something else than a DICOM node connected"),
            ("turn TLS on for this destination in the modality, or run the relay without "
             "--listen-tls",), evidence)
    if isinstance(exc, ssl.SSLCertVerificationError) or "PEER_DID_NOT_RETURN_A_CERTIFICATE" in reason:
        return Diagnosis(
            "tls-caller-certificate-refused", f"{client} gave no client certificate signed by "
            "the CA the console asks for",
            ("the modality has no client certificate configured",
             "its certificate is signed by another CA or has expired"),
            ("install a certificate from the hospital CA in the modality",
             "or give the CA that signed the modality's certificate"), evidence)
    if any(r in reason for r in _CLIENT_CERT_REASONS):
        return Diagnosis(
            "tls-caller-refused-certificate", f"{client} refused the console's TLS certificate",
            ("the modality does not trust the CA that signed the console's certificate",
             "the certificate has expired or names another host"),
            ("import the CA that signed the console's certificate into the modality",
             "or use a certificate the modality already trusts"), evidence)
    if any(r in reason for r in _PROTOCOL_REASONS):
        return Diagnosis(
            "tls-caller-protocol-mismatch", f"{client} and the console share no TLS version or "
            "cipher", ("the modality supports only TLS 1.0/1.1 or old ciphers",),
            ("update the modality's TLS settings to TLS 1.2 or later",), evidence)
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError | TimeoutError | ConnectionError) \
            or "EOF" in str(exc):
        return Diagnosis(
            "tls-caller-gave-up", f"{client} closed the connection or went silent during the TLS "
            "handshake", ("the modality rejected the console's certificate without saying why",
                          "a scanner or health check probed the port"),
            ("check the modality's log for a certificate error",), evidence)
    return Diagnosis("tls-caller-handshake-failed", f"TLS handshake from {client} failed: "
                     f"{reason or exc}", ("a TLS configuration mismatch",),
                     ("compare the modality's TLS settings with the console's certificate",),
                     evidence)
