"""Character sets of C-FIND answers: the DICOM terms' Python codecs, and what to do when an
answer declares none (wlmscpfs, for one): the query's character set, then UTF-8, then ISO 8859-1,
never replacement characters, and a note saying which was used."""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself costs a command line ~3 ms to import
if TYPE_CHECKING:  # pydicom loads only where a Dataset is read (the lean paths never do)
    from pydicom import Dataset

CHARSETS = {"": "ascii", "ISO_IR 6": "ascii", "ISO_IR 192": "utf-8", "ISO_IR 100": "latin-1",
            "ISO_IR 101": "iso8859-2", "ISO_IR 144": "iso8859-5", "ISO_IR 127": "iso8859-6",
            "ISO_IR 126": "iso8859-7", "ISO_IR 138": "iso8859-8", "ISO_IR 148": "iso8859-9",
            "GB18030": "gb18030", "GBK": "gbk"}

# Codec -> how a person knows it, for the note saying what undeclared text was read as.
CODEC_NAMES = {"utf-8": "UTF-8 (ISO_IR 192)", "latin-1": "ISO 8859-1 (ISO_IR 100)",
               "ascii": "ASCII (ISO_IR 6)"}


def fallback_codecs(identifier: Dataset | dict | None) -> tuple[str, ...]:
    """For answers without Specific Character Set (wlmscpfs sends none): the query's own
    character set first, then UTF-8, then ISO 8859-1 (which decodes any byte).
    ``identifier``: the query as a Dataset or as an ``identifiers.identifier_tree``."""
    if isinstance(identifier, dict):
        term = identifier.get(0x00080005, ("CS", ""))[1]
        asked = CHARSETS.get(str(term or "").strip()) if term else ""
    else:
        asked = encoding_of(identifier) if identifier is not None else None
    return tuple(dict.fromkeys(c for c in (asked, "utf-8", "latin-1") if c not in (None, "ascii")))


def decode_undeclared(value: bytes, codecs: tuple[str, ...], used: set[str]) -> str:
    """Text of an answer that declared no character set: the first codec that decodes it
    cleanly, never replacement characters; non-ASCII text records its codec in ``used``."""
    if value.isascii():
        return value.decode("ascii").rstrip(" \x00")
    for codec in codecs:
        try:
            text = value.decode(codec)
        except UnicodeDecodeError:
            continue
        used.add(codec)
        return text.rstrip(" \x00")
    used.add("latin-1")
    return value.decode("latin-1").rstrip(" \x00")


def codec_note(used: set[str], asked: tuple[str, ...]) -> str:
    """``UTF-8 (ISO_IR 192), the query's character set`` for FindResult.charset_assumed."""
    if not used:
        return ""
    codec = next((c for c in asked if c in used), sorted(used)[0])
    name = CODEC_NAMES.get(codec, codec)
    return f"{name}, the query's character set" if asked and codec == asked[0] else name


def declared_term(ds: Dataset | None) -> dict[str, str]:
    """{"SpecificCharacterSet": the term as declared} for a C-FIND answer; {} when it declares
    none (a query row's key, which ``lean_query.take`` counts and drops)."""
    term = _term(ds) if ds is not None else None
    return {} if term is None else {"SpecificCharacterSet": term}


def encoding_of(ds: Dataset) -> str | None:
    """The Python codec for a single-valued Specific Character Set; None for ISO 2022 ones
    (pydicom decodes those); "" when the dataset declares none."""
    term = _term(ds)
    return "" if term is None else CHARSETS.get(term)


def _term(ds: Dataset) -> str | None:
    """The dataset's Specific Character Set as text (values joined by backslashes); None when
    it has none."""
    elem = ds.get_item(0x00080005)
    if elem is None:
        return None
    from pydicom.multival import MultiValue

    raw = elem.value
    text = (raw.decode("ascii", "replace") if isinstance(raw, bytes) else
            "\\".join(raw) if isinstance(raw, MultiValue | list) else str(raw or ""))
    return text.strip().strip("\x00")
