"""Patient data, in one place: which keys, fields and text patterns identify a patient, and
the one redaction every caller uses (log files, saved test-run evidence, log bundles, crash
output, the HL7 listener's masked display).

Two entry points: ``redact_text`` for free text (log lines, tracebacks, files in a bundle) and
``redact_json`` for structured values (evidence, JSON files), which walks nested dicts and
lists, blanks every value kept under a patient key and runs ``redact_text`` over the strings.
"""

from __future__ import annotations

import json
import re

TYPE_CHECKING = False  # typing itself costs a command line ~3 ms to import
if TYPE_CHECKING:
    from typing import Any

REDACTED = "<redacted>"

# DICOM attributes that identify a patient (PS3.15 basic profile, patient module), by keyword.
DICOM_KEYWORDS = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientBirthTime", "OtherPatientIDs",
    "OtherPatientIDsSequence", "OtherPatientNames", "PatientBirthName", "PatientMotherBirthName",
    "PatientAddress", "PatientTelephoneNumbers", "IssuerOfPatientID", "MedicalRecordLocator",
    "PatientInsurancePlanCodeSequence", "MilitaryRank", "PatientReligiousPreference",
)
# The same attributes by tag (group, element), as hex "00100010" or "0010,0010".
DICOM_TAGS = ("00100010", "00100020", "00100030", "00100032", "00101000", "00101002",
              "00101001", "00101005", "00101060", "00101040", "00102154", "00100021",
              "00380010", "00101050", "00102180")
# The console's own names for the same things: the C-FIND/C-MOVE convenience keys saved in
# test-run evidence ({"keys": {"name": ..., "patient_id": ..., "birth_date": ...}}), and the
# labels pynetdicom and pydicom print ("Patient's Name").
CONSOLE_KEYS = ("patient_name", "patient_id", "birth_date", "patient_birth_date", "dob",
                "date_of_birth", "patient's name", "patient's birth date", "patient's id",
                "patient name", "patient id", "birth date", "patients name")
# Keys that are patient data only inside a query's keys ({"keys": {"name": "MENSAH*"}}):
# elsewhere "name" or "id" names a node, a template or a row.
QUERY_ONLY_KEYS = ("name", "id")
QUERY_CONTAINERS = ("keys", "filters", "extra", "query", "identifier", "matches", "match")
# HL7 v2 fields that identify a patient, by segment (1-based field numbers after the name).
HL7_FIELDS = {"PID": (2, 3, 4, 5, 6, 7, 9, 11, 13, 14, 18, 19, 20), "NK1": (2, 4, 5, 6),
              "GT1": (3, 5, 6), "IN1": (16, 19), "MRG": (1, 4, 7)}


def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(key).lower())


_STRUCT_KEYS = frozenset({_norm(k) for k in (*DICOM_KEYWORDS, *DICOM_TAGS, *CONSOLE_KEYS)})
_QUERY_KEYS = frozenset({_norm(k) for k in QUERY_ONLY_KEYS})
_CONTAINERS = frozenset({_norm(k) for k in QUERY_CONTAINERS})


def is_phi_key(key: str, *, in_query: bool = False) -> bool:
    """Whether a JSON/dict key names patient data (``in_query``: inside a query's keys)."""
    norm = _norm(key)
    return norm in _STRUCT_KEYS or (in_query and norm in _QUERY_KEYS)


# --- free text -------------------------------------------------------------------------------

_TEXT_KEYS = sorted({*DICOM_KEYWORDS, *DICOM_TAGS, *(f"{t[:4]},{t[4:]}" for t in DICOM_TAGS),
                     "Patient's Name", "Patient's Birth Date", "Patient Name", "Patient ID",
                     "Patient's ID", "Patient Birth Date", "Birth Date", "Date of Birth",
                     "patient_name", "patient_id", "birth_date", "patient_birth_date", "DOB",
                     "Name"}, key=len, reverse=True)
_KEY_ALT = "|".join(re.escape(k).replace(r"\ ", r"[ _]") for k in _TEXT_KEYS)
_UPPER = "A-Z\u00c0-\u00de\u0100-\u024f\u0186\u0190"
# key, separator (= or : or a VR such as "PN:" or "LO"), value: quoted, bracketed, or a
# run of words where the later words start with a capital (both words of "Kofi Mensah",
# but not "from CT1") and are not themselves the next key ("PatientID=").
# The patterns below are compiled on first use (compiling them costs more than a whole echo's
# network work); ``redact_text`` runs each only over text that can hold its match at all.
_KEY_SOURCE = (
    rf"(?<![\w'])(?P<key>{_KEY_ALT})(?P<sep>\s*(?:[:=]\s*|\s+(?-i:[A-Z]{{2}}):?\s*)|\"?\s*:\s*)"
    rf"(?P<val>'[^'\n]*'|\"[^\"\n]*\"|\[[^\]\n]*\]|"
    rf"(?>[^\s,;)}}\]&\"'<>]+)(?>\s+(?-i:(?=[{_UPPER}]))(?!(?:{_KEY_ALT})\s*[=:])[^\s=:,;)}}\]&\"'<>]++)*)")
# "(0010,0010) PN [Mensah^Efua]" and pydicom's "(0010,0010) Patient's Name  PN: 'X'".
_TAG_SOURCE = (
    r"\((?P<tag>" + "|".join(f"{t[:4]},{t[4:]}" for t in DICOM_TAGS) + r")\)"
    r"(?P<mid>[^\[\n]*?)(?P<val>\[[^\]\n]*\]|(?<=[:\s])'[^'\n]*')")
# Person names in DICOM/HL7 form: letters, then ^-separated letter components (not "ORM^O01").
_CARET_NAME_SOURCE = r"(?<![\w^])[^\W\d_][^\W\d_'\u2019\-]*(?:\^[^\W\d_'\u2019\- ]*)+(?![\w^])"
_PERCENT_NAME_SOURCE = r"(?<![\w%])[^\W\d_]+(?:%5E[^\W\d_]*)+(?![\w%])"
# A URL's query string can carry any search key, tag or keyword: none of it is kept.
_URL_QUERY_SOURCE = r"(?P<url>\b[a-z][a-z0-9+.-]*://[^\s?#\"'<>]*)\?[^\s#\"'<>]*"
_HL7_SEGMENT_SOURCE = r"(?:(?<=^)|(?<=[\r\n]))(?:" + "|".join(HL7_FIELDS) + r")\|[^\r\n]*"
# For ASCII text (lower-cased): a pattern can match only where one of its words occurs. Every
# key of _KEY_ALT holds one of _KEY_WORDS (a test checks it); non-ASCII text is always searched
# (IGNORECASE lets a few non-ASCII letters stand for ASCII ones).
_KEY_WORDS = ("patient", "name", "birth", "dob", "military", "medicalrecord", *DICOM_TAGS,
              *(f"{t[:4]},{t[4:]}" for t in DICOM_TAGS))
_TRIGGERS = {"hl7": ("|",), "url": ("://",), "tag": ("(0010,", "(0038,"), "key": _KEY_WORDS,
             "caret": ("^",), "percent": ("%5e",)}
_SOURCES = {"hl7": (_HL7_SEGMENT_SOURCE, 0), "url": (_URL_QUERY_SOURCE, re.IGNORECASE),
            "tag": (_TAG_SOURCE, re.IGNORECASE), "key": (_KEY_SOURCE, re.IGNORECASE),
            "caret": (_CARET_NAME_SOURCE, 0), "percent": (_PERCENT_NAME_SOURCE, re.IGNORECASE)}
_compiled: dict[str, re.Pattern] = {}


def _pattern(name: str) -> re.Pattern:
    pattern = _compiled.get(name)
    if pattern is None:
        pattern = _compiled[name] = re.compile(*_SOURCES[name])
    return pattern


def _may_match(name: str, text: str, lowered: str | None) -> bool:
    return lowered is None or any(word in lowered for word in _TRIGGERS[name])


# The key pattern needs a key followed by its separator; in ASCII text, where no key is, none
# can match ("version name 'X'" in a peer's fingerprint made every saved echo compile it).
_KEY_TEXTS = tuple(sorted({key.lower().replace("_", " ") for key in _TEXT_KEYS}))


def _key_may_match(text: str) -> bool:
    if not text.isascii():
        return True  # IGNORECASE lets a few non-ASCII letters stand for ASCII ones
    spaced = text.lower().replace("_", " ")  # a key's space also matches "_" ([ _])
    for key in _KEY_TEXTS:
        at = spaced.find(key)
        while at >= 0:
            if _separator_at(text, at + len(key)):
                return True
            at = spaced.find(key, at + 1)
    return False


def _separator_at(text: str, end: int) -> bool:
    """Whether the key pattern's separator can start at ``end``: blanks then = or :, blanks
    then a two-capital VR ("PN"), or a quote, blanks and a colon (JSON)."""
    size, at = len(text), end + (text[end:end + 1] == '"')
    while at < size and text[at].isspace():
        at += 1
    if at < size and text[at] == ":":
        return True
    at = end
    while at < size and text[at].isspace():
        at += 1
    if at < size and text[at] in ":=":
        return True
    pair = text[at:at + 2]
    return at > end and len(pair) == 2 and all("A" <= c <= "Z" for c in pair)


def mask_hl7(text: str, mask: str = "***") -> str:
    """An HL7 v2 message with the patient-identifying fields replaced by ``mask``."""
    def one(segment: str) -> str:
        fields = segment.split("|")
        for index in HL7_FIELDS.get(fields[0], ()):
            if index < len(fields) and fields[index]:
                fields[index] = mask
        return "|".join(fields)

    out = [one(s) for s in text.replace("\r\n", "\r").replace("\n", "\r").split("\r") if s]
    return "\r".join(out) + "\r"


def redact_text(text: str) -> str:
    """Patient names, IDs and birth dates out of free text; keys are kept so it still reads."""
    if not text:
        return text
    lowered = text.lower() if text.isascii() else None
    if _may_match("hl7", text, lowered):
        text = _pattern("hl7").sub(lambda m: mask_hl7(m.group(0), REDACTED).rstrip("\r"), text)
    if _may_match("url", text, lowered):
        text = _pattern("url").sub(lambda m: f"{m['url']}?{REDACTED}", text)
    if _may_match("tag", text, lowered):
        text = _pattern("tag").sub(lambda m: f"({m['tag']}){m['mid']}{_wrap(m['val'])}", text)
    if _may_match("key", text, lowered) and _key_may_match(text):
        text = _pattern("key").sub(_keep_key, text)
    if _may_match("caret", text, lowered):
        text = _pattern("caret").sub(REDACTED, text)
    if _may_match("percent", text, lowered):
        text = _pattern("percent").sub(REDACTED, text)
    return text


def _keep_key(match: re.Match) -> str:
    value = match["val"]
    if value.strip("'\"[]") in ("", "*", REDACTED):
        return match.group(0)
    return f"{match['key']}{match['sep']}{_wrap(value)}"


def _wrap(value: str) -> str:
    """REDACTED in the value's own quotes or brackets, so JSON and dumps keep their shape."""
    if value[:1] in "'\"":
        return f"{value[0]}{REDACTED}{value[0]}"
    return f"[{REDACTED}]" if value[:1] == "[" else REDACTED


# --- structured values ----------------------------------------------------------------------

def _blank(value: Any) -> Any:
    # Wildcards and empty values say nothing about anyone: keep them, they explain the query.
    if value is None or (isinstance(value, str) and not value.strip("*? ")):
        return value
    return REDACTED


def redact_json(value: Any, *, _in_query: bool = False) -> Any:
    """A copy of ``value`` (nested dicts/lists/strings) with no patient data left in it."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if is_phi_key(key, in_query=_in_query):
                out[key] = _blank(item)
            else:
                out[key] = redact_json(item, _in_query=_norm(key) in _CONTAINERS)
        return out
    if isinstance(value, list | tuple):
        return [redact_json(item, _in_query=_in_query) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_json_text(text: str) -> str:
    """A JSON document redacted structurally; text that is not JSON is redacted as text."""
    try:
        data = json.loads(text)
    except ValueError:
        return redact_text(text)
    return json.dumps(redact_json(data), indent=2, ensure_ascii=False)
