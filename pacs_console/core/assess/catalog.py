"""Every finding class the assessment can report, its family and base severity, what fixes it,
and exactly what each family sends on the wire (``--explain``)."""

from __future__ import annotations

from dataclasses import dataclass

from pacs_console.core.errors import ConsoleError, Diagnosis


@dataclass(frozen=True)
class Check:
    name: str
    family: str
    severity: str
    title: str
    remedy: str


def _family(family: str, *rows: tuple[str, str, str, str]) -> tuple[Check, ...]:
    """The checks of one family, each row (name, severity, title, remedy)."""
    return tuple(Check(name, family, severity, title, remedy)
                 for name, severity, title, remedy in rows)


CHECKS: dict[str, Check] = {c.name: c for c in (
    *_family(
        "dicom",
        ("dicom-any-called-ae", "high", "Accepts any called AE title",
         "configure the node to accept only its own AE title (Orthanc: DicomCheckCalledAet true)"),
        ("dicom-any-calling-ae", "medium", "Accepts associations from unknown calling AEs",
         "accept associations only from configured AE titles and their addresses (Orthanc: "
         "DicomAlwaysAllowEcho/Store false, DicomCheckModalityHost true; dcmqrscp: AE access in "
         "the AETable)"),
        ("dicom-find-open", "critical", "Answers C-FIND with patient data to an unknown AE",
         "restrict queries to configured AE titles and addresses"),
        ("dicom-store-open", "high", "Stores images sent by an unknown AE",
         "accept C-STORE only from configured modalities (Orthanc: DicomAlwaysAllowStore false; "
         "storescp: do not run it with --accept-all on a clinical network)"),
        ("dicom-move-anywhere", "high", "Accepts C-MOVE to a destination it was not given",
         "send C-MOVE results only to configured destination AE titles"),
        ("dicom-default-ae", "low", "Default or well-known AE title",
         "give the node a site-specific AE title (defaults are the first an attacker tries)"),
    ),
    *_family(
        "transport",
        ("dicom-no-tls", "medium", "DICOM without TLS",
         "offer DICOM over TLS (PS3.15 BCP 195, often port 2762) and move peers to it"),
        ("tls-old-protocol", "high", "TLS below 1.2 accepted",
         "disable TLS 1.0 and 1.1; allow TLS 1.2 and 1.3 only"),
        ("tls-weak-cipher", "medium", "Weak TLS cipher negotiated",
         "allow only AEAD ciphers with forward secrecy (BCP 195)"),
        ("tls-self-signed", "medium", "Self-signed TLS certificate",
         "use a certificate signed by the hospital's CA so peers can verify it"),
        ("tls-expired", "high", "Expired TLS certificate",
         "renew the certificate"),
        ("tls-expiring", "low", "TLS certificate expires within 30 days",
         "renew the certificate before it expires"),
        ("tls-wrong-host", "medium", "TLS certificate not issued for this host",
         "reissue the certificate with the node's host name or IP in its subjectAltName"),
        ("tls-weak-key", "medium", "TLS key under 2048-bit RSA",
         "reissue the certificate with RSA 2048+ or an EC P-256 key"),
    ),
    *_family(
        "web",
        ("orthanc-auth-off", "critical", "Orthanc REST API without authentication",
         "set AuthenticationEnabled true with strong RegisteredUsers, RemoteAccessAllowed only "
         "where needed"),
        ("orthanc-default-credentials", "critical", "Orthanc default credentials valid",
         "remove orthanc:orthanc from RegisteredUsers; give each user a strong password"),
        ("dicomweb-open", "high", "DICOMweb answers QIDO without authentication",
         "require authentication on the DICOMweb root (reverse proxy or Orthanc's "
         "AuthenticationEnabled)"),
        ("admin-page-open", "high", "Administration page reachable without a login",
         "require authentication on the administration UI, and allow it only from the "
         "administrators' workstations (firewall, VPN or the reverse proxy's allow list)"),
        ("admin-page-login", "info", "Administration page reachable (behind a login)",
         "allow the administration UI only from the administrators' workstations; keep its "
         "passwords strong and unique"),
        ("http-no-tls", "medium", "Web service over plain HTTP",
         "serve the web interface over HTTPS only; credentials cross the network in clear "
         "otherwise"),
    ),
    *_family(
        "hl7",
        ("hl7-open", "high", "HL7 listener accepts messages from anyone",
         "accept HL7 only from the RIS/HIS addresses (firewall or the interface engine's ACL)"),
        ("hl7-no-tls", "medium", "HL7 MLLP without TLS",
         "carry HL7 over TLS (or a VPN) between the RIS and the PACS"),
    ),
    *_family(
        "software",
        ("software-old", "low", "Old software release (over three years)",
         "ask the vendor for the current release and its security fixes; for a distribution "
         "package, install the distribution's security updates and check the package revision"),
        ("software-identified", "info", "Software identified",
         "keep the vendor's release notes at hand for follow-up"),
    ),
)}
FAMILIES: dict[str, str] = {
    "dicom": (
        "per DICOM port, at most 5 associations, one at a time, each ended with A-RELEASE-RQ: "
        "(1) A-ASSOCIATE-RQ (Verification) to called AE 'PROBE-NO-SUCH-AE' (any called AE); "
        "(2) A-ASSOCIATE-RQ with calling AE 'PCA-UNKNOWN-AE' (any calling AE) and on it one "
        "C-FIND-RQ, Study Root, STUDY level, return key StudyInstanceUID only: answers are "
        "counted, their content is discarded unread, and the query is cancelled after 100; "
        "(3) with --allow-store-test only, as 'PCA-UNKNOWN-AE', one C-STORE-RQ of one generated "
        "64x64 CR image marked as test data (patient 'PCA^ASSESSMENT TEST IMAGE', ID "
        "'PCA-TEST-IMAGE'); (4) with --allow-move-test only, as this console's AE, the same "
        "C-FIND cancelled after its first answer, whose StudyInstanceUID is used for the next "
        "request only (never kept or reported); (5) as this console's AE, one C-MOVE-RQ to "
        "destination AE 'PCA-NO-SUCH-DEST' of that study (without --allow-move-test: of a "
        "random StudyInstanceUID that matches nothing, so nothing can be moved). During the "
        "move this console listens on its own address (its Storage SCP port from Settings, or "
        "an OS-assigned port when that is busy) and refuses with A-ASSOCIATE-RJ every "
        "association the node opens to it, so no image is received; a node that connects "
        "there was never given that address for the title. A final answer counting failed "
        "sub-operations (0xA702, or a failure with Number of Failed Sub-operations) means the "
        "node resolved the title to some other address and tried to send there: flagged too; "
        "0xA801 (destination unknown) is read as a refusal, though a node that could not reach "
        "the address it resolved may also say it. The AE title itself is compared "
        "with a list of well-known defaults (nothing "
        "sent)."),
    "transport": (
        "per service: one TLS ClientHello (TLS 1.2/1.3, certificate not verified) to read the "
        "protocol, cipher and certificate; one ClientHello offering only TLS 1.0/1.1; nothing "
        "else is sent over TLS by this family. On a plain DICOM port nothing is sent beyond the "
        "dicom family's associations."),
    "web": (
        "per HTTP port: GET /system without credentials; when it asks for credentials, ONE "
        "GET /system with orthanc:orthanc (never a second password); GET "
        "<dicomweb root>/studies?limit=1 (QIDO-RS, one study at most, the answer counted only); "
        "then ONE GET each, without credentials, of the administration pages "
        "/app/explorer.html (Orthanc Explorer), /ui/app/ (Orthanc Explorer 2), "
        "/dcm4chee-arc/ui2/ (dcm4chee), /admin and /manager/html (Tomcat): only the status, the "
        "authentication header or login redirect and the page title are kept; nothing is "
        "posted and no password is tried."),
    "hl7": (
        "per HL7 port (default 2575): one TCP connect and one TLS ClientHello; with "
        "--allow-hl7-test only, one ADT^A08 for a generated test patient (processing ID 'T', "
        "test), and the ACK code is kept."),
    "software": (
        "nothing is sent: the implementation class UID and version name from the A-ASSOCIATE-AC "
        "and Orthanc's /system version are compared with a table of release dates."),
}


def parse_checks(text: str | None) -> tuple[str, ...]:
    """``"dicom,web"`` or class names (``"tls-expired"``) -> the families to run; "" = all."""
    if not text or text.strip().lower() in ("all", ""):
        return ()
    families: list[str] = []
    for part in (p.strip().lower() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        family = part if part in FAMILIES else CHECKS[part].family if part in CHECKS else None
        if family is None:
            raise ConsoleError(Diagnosis(
                "assess-unknown-check", f"{part!r} is not a check",
                actions=(f"use families {', '.join(FAMILIES)} or check names (see --explain)",),
                evidence={"check": part}))
        if family not in families:
            families.append(family)
    return tuple(families)


def explain(families: tuple[str, ...] = ()) -> str:
    lines = []
    for family, sends in FAMILIES.items():
        if families and family not in families:
            continue
        lines.append(f"{family}: {sends}")
        for check in CHECKS.values():
            if check.family == family:
                lines.append(f"  {check.name} [{check.severity}] {check.title}")
    return "\n".join(lines)
