"""HL7 acknowledgements: read MSA and ERR (python-hl7), explain them, and build ACKs to answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

ACK_CODES = {
    "AA": "Application Accept: the receiving application processed the message",
    "AE": "Application Error: the message was received but its content has an error",
    "AR": "Application Reject: the receiver refused the message (type, version, processing ID "
          "or an internal fault)",
    "CA": "Commit Accept: the receiving system safely stored the message",
    "CE": "Commit Error: the receiving system could not store the message",
    "CR": "Commit Reject: the receiving system refused the message (type, version, processing ID)",
}
# HL7 table 0357 (message error condition codes): code -> (its name, what to check).
_TABLE_0357 = {
    "0": ("Message accepted", ""),
    "100": ("Segment sequence error",
            "segments are in an order the receiver does not expect: check the message structure "
            "against the interface specification"),
    "101": ("Required field missing",
            "a field the receiver requires is empty: fill the named field"),
    "102": ("Data type error",
            "a field has the wrong format (dates as YYYYMMDD[HHMM], numbers, coded values)"),
    "103": ("Table value not found",
            "a coded value is not in the receiver's table (procedure code, modality, sex)"),
    "104": ("Value too long",
            "a value is longer than the receiver allows"),
    "200": ("Unsupported message type",
            "the receiver is not configured for this message type (MSH-9)"),
    "201": ("Unsupported event code",
            "the receiver is not configured for this trigger event (MSH-9.2)"),
    "202": ("Unsupported processing id",
            "MSH-11 processing ID (P production, T training, D debug) does not match the "
            "receiver's"),
    "203": ("Unsupported version id",
            "MSH-12 version is not one the receiver accepts"),
    "204": ("Unknown key identifier",
            "the receiver does not know the patient or order identifier"),
    "205": ("Duplicate key identifier",
            "the identifier already exists on the receiver (duplicate order or patient)"),
    "206": ("Application record locked",
            "the record is locked by another user or process on the receiver: retry later"),
    "207": ("Application internal error",
            "the receiving application failed internally: read its log at this time"),
}
ERROR_CODES = {code: name for code, (name, _) in _TABLE_0357.items()}
SEVERITY = {"E": "error", "W": "warning", "I": "information", "F": "fatal error"}


@dataclass(frozen=True)
class AckError:
    """One ERR segment, explained (each part '' where the segment leaves it out)."""

    code: str
    text: str
    severity: str
    location: str
    detail: str
    advice: str

    def line(self) -> str:
        parts = [f"{self.code} {self.text}".strip() or "error"]
        if self.severity:
            parts.append(f"severity {self.severity}")
        if self.location:
            parts.append(f"at {self.location}")
        if self.detail:
            parts.append(self.detail)
        return "; ".join(parts)


@dataclass(frozen=True)
class AckInfo:
    """What an ACK said: MSA-1 code and its meaning, the control ID it answers, errors."""

    code: str
    meaning: str
    control_id: str = ""
    text: str = ""
    message_type: str = ""
    errors: tuple[AckError, ...] = field(default_factory=tuple)

    @property
    def accepted(self) -> bool:
        return self.code in ("AA", "CA")

    def to_dict(self) -> dict:
        return {"code": self.code, "meaning": self.meaning, "control_id": self.control_id,
                "text": self.text, "message_type": self.message_type, "accepted": self.accepted,
                "errors": [vars(e).copy() for e in self.errors]}


def normalise_segments(text: str) -> str:
    """Segments separated by CR only, as HL7 requires (LF and CRLF are common mistakes)."""
    return "\r".join(s for s in text.replace("\r\n", "\r").replace("\n", "\r").split("\r") if s)


def parse_message(text: str):
    """python-hl7 Message, or ValueError with a readable reason."""
    import hl7

    text = normalise_segments(text)
    if not text.startswith("MSH"):
        raise ValueError("the text does not start with an MSH segment")
    try:
        return hl7.parse(text)
    except Exception as exc:  # noqa: BLE001 - python-hl7 raises several kinds
        raise ValueError(f"HL7 parser: {exc}") from None


def field_text(message, segment: str, index: int) -> str:
    """One field (1-based, MSH counted as HL7 does) as text, '' when absent."""
    try:
        return str(message.segment(segment)[index])
    except (KeyError, IndexError):
        return ""


def message_summary(text: str) -> dict:
    """Type, control ID, version and sending/receiving applications from MSH."""
    msg = parse_message(text)
    return {"type": field_text(msg, "MSH", 9),
            "control_id": field_text(msg, "MSH", 10), "processing_id": field_text(msg, "MSH", 11),
            "version": field_text(msg, "MSH", 12), "sending_app": field_text(msg, "MSH", 3),
            "sending_facility": field_text(msg, "MSH", 4),
            "receiving_app": field_text(msg, "MSH", 5),
            "receiving_facility": field_text(msg, "MSH", 6)}


def _err(segment) -> AckError:
    """ERR in v2.5+ layout (ERR-3 code, ERR-4 severity) or v2.3/2.4 (ERR-1 ELD)."""
    def part(index: int) -> str:
        try:
            return str(segment[index])
        except IndexError:
            return ""

    code, text, location = "", "", part(2)
    hl7_code = part(3)
    if hl7_code:
        comps = hl7_code.split("^")
        code, text = comps[0], (comps[1] if len(comps) > 1 else "")
    elif part(1):
        # ELD: segment^sequence^field^code&text&table
        comps = part(1).split("^")
        location = "-".join(c for c in comps[:3] if c)
        if len(comps) > 3:
            sub = comps[3].split("&")
            code, text = sub[0], (sub[1] if len(sub) > 1 else "")
    severity = SEVERITY.get(part(4), part(4))
    detail = "; ".join(v for v in (part(5), part(7), part(8)) if v)
    name, advice = _TABLE_0357.get(code, ("", ""))
    return AckError(code, text or name, severity, location.replace("^", "-"), detail, advice)


def parse_ack(text: str) -> AckInfo:
    """Read an ACK; ValueError when it is no HL7 or carries no MSA."""
    msg = parse_message(text)
    try:
        msa = msg.segment("MSA")
    except KeyError:
        raise ValueError("the reply has no MSA segment, so it is not an acknowledgement") from None
    code = str(msa[1]) if len(msa) > 1 else ""
    errors = []
    for segment in msg:
        if str(segment[0]) == "ERR":
            errors.append(_err(segment))
    return AckInfo(code=code, meaning=ACK_CODES.get(code, f"unknown acknowledgement code {code!r}"),
                   control_id=str(msa[2]) if len(msa) > 2 else "",
                   text=str(msa[3]) if len(msa) > 3 else "",
                   message_type=field_text(msg, "MSH", 9), errors=tuple(errors))


def _escape(value: str) -> str:
    return (value.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
            .replace("&", "\\T\\").replace("~", "\\R\\"))


def build_ack(received: str, code: str = "AA", text: str = "", *, error_code: str = "",
              application: str = "PACSCONSOLE", facility: str = "") -> str:
    """An ACK answering ``received``: MSH with swapped applications, MSA, ERR on errors."""
    try:
        info = message_summary(received)
    except ValueError:
        info = {"control_id": "", "version": "2.5", "processing_id": "P", "type": "",
                "sending_app": "", "sending_facility": ""}
    now = dt.datetime.now().strftime("%Y%m%d%H%M%S")
    event = info["type"].split("^")[1] if "^" in info["type"] else ""
    ack_type = f"ACK^{event}^ACK" if event else "ACK"
    segments = [
        f"MSH|^~\\&|{application}|{facility}|{info['sending_app']}|{info['sending_facility']}|"
        f"{now}||{ack_type}|ACK{now}{info['control_id'][-6:]}|{info['processing_id'] or 'P'}|"
        f"{info['version'] or '2.5'}",
        f"MSA|{code}|{info['control_id']}|{_escape(text)}",
    ]
    if code not in ("AA", "CA"):
        err = error_code or ("207" if code in ("AR", "CR") else "101")
        segments.append(f"ERR|||{err}^{ERROR_CODES.get(err, '')}^HL70357|E")
    return "\r".join(segments) + "\r"
