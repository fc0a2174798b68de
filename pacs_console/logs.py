"""Rotating file log with a patient-data filter; pynetdicom capped at WARNING unless verbose."""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

LOG_FILE_NAME = "pacs-console.log"
_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"

# Patient identity attributes by keyword and by tag. pynetdicom's debug output and our own
# diagnostics print datasets as "(0010,0010) PN [Mensah^Efua]" or "PatientName=...".
_PHI_KEYWORDS = ("PatientName", "PatientID", "PatientBirthDate", "OtherPatientIDs",
                 "OtherPatientNames", "PatientMotherBirthName", "PatientAddress",
                 "PatientTelephoneNumbers", "IssuerOfPatientID", "PatientBirthName",
                 "Patient's Name", "Patient ID", "Patient's Birth Date")
_PHI_TAGS = ("0010,0010", "0010,0020", "0010,0030", "0010,1000", "0010,1001",
             "0010,1005", "0010,1040", "0010,2154", "0010,0021")
_KEYWORD_RE = re.compile(
    r"(?P<key>" + "|".join(re.escape(k) for k in _PHI_KEYWORDS) + r")"
    r"(?P<sep>\s*(?:[:=]|\b[A-Z]{2}\b:?)?\s*)(?P<val>'[^']*'|\"[^\"]*\"|\[[^\]]*\]|[^\s,;)}\]]+)"
)
_TAG_RE = re.compile(
    r"\((?P<tag>" + "|".join(re.escape(t) for t in _PHI_TAGS) + r")\)(?P<mid>[^\[\n]*)\[[^\]\n]*\]",
    re.IGNORECASE,
)
REDACTED = "<redacted>"


def redact(text: str) -> str:
    """Replace patient identity values in a log line; keeps the key so the line still reads."""
    text = _TAG_RE.sub(lambda m: f"({m['tag']}){m['mid']}[{REDACTED}]", text)
    return _KEYWORD_RE.sub(lambda m: f"{m['key']}{m['sep']}{REDACTED}", text)


class PhiFilter(logging.Filter):
    """Redacts patient names, IDs and birth dates from every record before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def setup_logging(log_dir: Path, *, verbose: bool = False, console: bool = False) -> Path:
    """Configure the root logger once; returns the log file path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_pacs_console", False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
    ]
    if console:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler._pacs_console = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(PhiFilter())
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # pynetdicom logs every PDU at INFO/DEBUG: noise in the field log unless asked for.
    logging.getLogger("pynetdicom").setLevel(logging.DEBUG if verbose else logging.WARNING)
    # Alembic announces each of its plugins at INFO on every start; only migrations matter.
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose else logging.WARNING)
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
    return path
