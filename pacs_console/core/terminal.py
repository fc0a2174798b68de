"""The one function that makes stored text safe to print on a terminal.

Titles, names and notes come from people, files and peers: an ESC sequence, a carriage return
or a right-to-left override in them must never rewrite what the engineer sees. Control
characters (C0, DEL, C1), bidi controls and other invisible format characters are replaced;
tabs and newlines become spaces unless ``keep_newlines``.
"""

from __future__ import annotations

import unicodedata

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unsafe(ch: str) -> bool:
    return ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn")


def clean(text: object, *, keep_newlines: bool = False, replacement: str = "\ufffd") -> str:
    """``text`` with every control, bidi-override and format character replaced."""
    value = "" if text is None else str(text)
    if value.isprintable() and not any(ch in _BIDI for ch in value):
        return value
    out = []
    for ch in value:
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif ch in "\t\n":
            out.append(" ")
        elif _unsafe(ch):
            out.append(replacement)
        else:
            out.append(ch)
    return "".join(out)
