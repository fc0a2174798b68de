"""Turn TLS handshake failures into diagnoses: untrusted, expired, wrong host name, protocol.

One classifier (``failure_kind``) says what went wrong in a handshake; each end has its own
words for it: the console connecting to a node (``diagnose_tls_error``) and a caller's handshake
with the console listening (``diagnose_tls_accept_error``)."""

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


def failure_kind(exc: BaseException) -> str:
    """What went wrong in a TLS handshake, the same on either end: the certificate we checked
    ("expired", "not-yet-valid", "wrong-host-name", "untrusted", "no-certificate"), the
    other end's alert about ours ("certificate-refused"), "not-tls", "protocol", "closed"
    (EOF), "silent" (a timeout or reset outside TLS), else "failed"."""
    code = getattr(exc, "verify_code", None)
    reason = str(getattr(exc, "reason", "") or "")
    message = str(getattr(exc, "verify_message", "") or exc)
    rules = (("expired", code in _EXPIRED or "expired" in message and code is not None),
             ("not-yet-valid", code in _NOT_YET_VALID),
             ("wrong-host-name", code in _HOSTNAME
              or isinstance(exc, ssl.CertificateError) and "match" in message),
             ("untrusted", code in _UNTRUSTED or isinstance(exc, ssl.SSLCertVerificationError)),
             ("no-certificate", "PEER_DID_NOT_RETURN_A_CERTIFICATE" in reason),
             ("certificate-refused", any(r in reason for r in _CLIENT_CERT_REASONS)),
             ("not-tls", any(r in reason for r in _NOT_TLS_REASONS)),
             ("protocol", any(r in reason for r in _PROTOCOL_REASONS)),
             ("closed", isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError)
              or "EOF" in str(exc)),
             ("silent", isinstance(exc, TimeoutError | ConnectionError)))
    return next((kind for kind, holds in rules if holds), "failed")


# The console connecting to a node: each kind's code, what ({where} = host:port, {name} = the
# name checked, {detail} = the TLS library's reason), causes and actions ({trust_action} = where
# this caller's user gives a CA).
_TO_NODE = {
    "expired": ("tls-certificate-expired", "The TLS certificate of {where} has expired",
                ("the node's certificate was not renewed", "this laptop's clock is wrong"),
                ("check the date and time on this laptop", "renew the node's certificate")),
    "not-yet-valid": ("tls-certificate-not-yet-valid",
                      "The TLS certificate of {where} is not valid yet",
                      ("this laptop's clock is behind",
                       "the certificate was issued with a future start date"),
                      ("check the date and time on this laptop",)),
    "wrong-host-name": ("tls-wrong-host-name",
                        "The TLS certificate of {where} is not for the name {name!r}",
                        ("the node was addressed by IP or another name than the one in its "
                         "certificate", "the certificate belongs to another machine"),
                        ("enter the certificate's host name as the node's TLS server name",
                         "or reissue the certificate with this name or IP in its "
                         "subjectAltName")),
    "untrusted": ("tls-untrusted-certificate", "The TLS certificate of {where} is not trusted",
                  ("the certificate is self-signed or signed by a CA this console does not know",
                   "the wrong CA file is configured for this node"),
                  ("{trust_action}",
                   "ask the PACS administrator for the CA that signed the certificate")),
    "certificate-refused": ("tls-client-certificate-refused",
                            "{where} refused this console's TLS client certificate",
                            ("the node requires a client certificate and none or an unknown one "
                             "was sent",),
                            ("configure a client certificate and key signed by a CA the node "
                             "trusts",)),
    "not-tls": ("tls-not-tls", "{where} did not answer the TLS handshake with TLS",
                ("this port serves plain DICOM, not DICOM over TLS",),
                ("turn TLS off for this node, or use the node's TLS port (often 2762)",)),
    "protocol": ("tls-protocol-mismatch",
                 "{where} and this console share no TLS version or cipher",
                 ("the node supports only old TLS versions (1.0/1.1) or ciphers this console "
                  "refuses",), ("update the node's TLS settings to TLS 1.2 or later",)),
    "closed": ("tls-closed-during-handshake",
               "{where} closed the connection during the TLS handshake",
               ("the node refused this client (its certificate, TLS version or IP)",
                "the port serves plain DICOM and dropped the TLS hello"),
               ("check the node's TLS log",
                "check whether this port really serves DICOM over TLS")),
    "failed": ("tls-handshake-failed", "TLS handshake with {where} failed: {detail}",
               ("a TLS configuration mismatch",), ("check the node's TLS settings",)),
}
_TRUST_ACTION = "configure the node's CA certificate (PEM) as this node's CA file"

# A caller's handshake with the console (listening): {client} is the caller. A certificate of
# the caller's that the console could not accept, whatever the reason, is one diagnosis.
_FROM_CALLER = {
    "not-tls": ("tls-caller-not-tls", "{client} did not start TLS on the console's TLS port",
                ("the modality sends plain DICOM (TLS is off in its network settings)",
                 "something else than a DICOM node connected"),
                ("turn TLS on for this destination in the modality, or run the relay without "
                 "--listen-tls",)),
    "untrusted": ("tls-caller-certificate-refused", "{client} gave no client certificate "
                  "signed by the CA the console asks for",
                  ("the modality has no client certificate configured",
                   "its certificate is signed by another CA or has expired"),
                  ("install a certificate from the hospital CA in the modality",
                   "or give the CA that signed the modality's certificate")),
    "certificate-refused": ("tls-caller-refused-certificate",
                            "{client} refused the console's TLS certificate",
                            ("the modality does not trust the CA that signed the console's "
                             "certificate", "the certificate has expired or names another host"),
                            ("import the CA that signed the console's certificate into the "
                             "modality", "or use a certificate the modality already trusts")),
    "protocol": ("tls-caller-protocol-mismatch",
                 "{client} and the console share no TLS version or cipher",
                 ("the modality supports only TLS 1.0/1.1 or old ciphers",),
                 ("update the modality's TLS settings to TLS 1.2 or later",)),
    "closed": ("tls-caller-gave-up", "{client} closed the connection or went silent during "
               "the TLS handshake",
               ("the modality rejected the console's certificate without saying why",
                "a scanner or health check probed the port"),
               ("check the modality's log for a certificate error",)),
    "failed": ("tls-caller-handshake-failed", "TLS handshake from {client} failed: {detail}",
               ("a TLS configuration mismatch",),
               ("compare the modality's TLS settings with the console's certificate",)),
}
_CALLER_KIND = {"expired": "untrusted", "not-yet-valid": "untrusted",
                "wrong-host-name": "untrusted", "no-certificate": "untrusted",
                "silent": "closed"}


def _said(words: dict, kind: str, evidence: dict, **values: str) -> Diagnosis:
    code, what, causes, actions = words.get(kind, words["failed"])
    return Diagnosis(code, what.format(**values), causes,
                     tuple(action.format(**values) for action in actions), evidence)


def _detail(exc: BaseException) -> str:
    return str(getattr(exc, "reason", "") or "") or str(exc)


def diagnose_tls_error(exc: BaseException, host: str, port: int, *, server_name: str = "",
                       ca_file: str = "", trust_action: str = _TRUST_ACTION) -> Diagnosis:
    """Name the TLS failure precisely; the OpenSSL text goes into the evidence.

    ``trust_action`` says where this caller's user gives a CA (node settings, a CLI option)."""
    evidence = {"error": str(exc), "server name checked": server_name or host,
                "CA file": ca_file or "(system trust store)"}
    return _said(_TO_NODE, failure_kind(exc), evidence, where=f"{host}:{port}",
                 name=server_name or host, detail=_detail(exc), trust_action=trust_action)


def diagnose_tls_accept_error(exc: BaseException, client: str, *, ca_file: str = "") -> Diagnosis:
    """A caller's TLS handshake with the console (listening) failed: name why, from our side."""
    evidence = {"error": str(exc), "from": client,
                "client CA": ca_file or "(no client certificate asked for)"}
    kind = failure_kind(exc)
    return _said(_FROM_CALLER, _CALLER_KIND.get(kind, kind), evidence, client=client,
                 detail=_detail(exc))
