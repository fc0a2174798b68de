"""The tag browser's data: every element, nested sequences included, flattened and searchable."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

MAX_VALUE = 200  # characters shown for one value; binary values are summarised


@dataclass(frozen=True)
class TagRow:
    depth: int
    path: str  # e.g. "ReferencedImageSequence[0] > ReferencedSOPInstanceUID"
    tag: str  # "(0008,1140)"
    keyword: str
    name: str
    vr: str
    value: str

    def text(self) -> str:
        """One line for the clipboard."""
        return f"{'  ' * self.depth}{self.tag} {self.vr} {self.name or self.keyword}: {self.value}"


def _value(elem) -> str:
    if elem.VR in ("OB", "OW", "OD", "OF", "OL", "OV", "UN") or elem.tag == 0x7FE00010:
        try:
            length = len(elem.value) if elem.value is not None else 0
        except TypeError:
            length = 0
        return f"<{length} bytes>"
    if elem.VR == "SQ":
        return f"<{len(elem.value)} item{'s' if len(elem.value) != 1 else ''}>"
    try:
        text = str(elem.value if elem.VM <= 1 else "\\".join(str(v) for v in elem.value))
    except Exception:  # noqa: BLE001 - a malformed value still gets a row
        text = "<unreadable value>"
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…"


def flatten(ds, depth: int = 0, prefix: str = "") -> list[TagRow]:
    """Rows in file order; sequence items follow their sequence, one level deeper."""
    rows: list[TagRow] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for elem in ds:
            keyword = elem.keyword or ("Private" if elem.tag.is_private else "")
            label = keyword or f"{elem.tag.group:04X}{elem.tag.element:04X}"
            path = f"{prefix} > {label}" if prefix else label
            rows.append(TagRow(depth, path, f"({elem.tag.group:04X},{elem.tag.element:04X})",
                               keyword, elem.name, elem.VR, _value(elem)))
            if elem.VR == "SQ":
                for i, item in enumerate(elem.value or []):
                    rows.append(TagRow(depth + 1, f"{path}[{i}]", "", "", f"Item {i + 1}", "",
                                       ""))
                    rows.extend(flatten(item, depth + 2, f"{path}[{i}]"))
    return rows


def read_tags(path: str | os.PathLike[str]) -> list[TagRow]:
    """The file meta header and the data set of one file (pixel data is not read)."""
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    rows: list[TagRow] = []
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        rows.extend(flatten(meta))
    rows.extend(flatten(ds))
    return rows


def search(rows: list[TagRow], text: str) -> list[TagRow]:
    """Rows whose tag, keyword, name or value contains ``text`` (case-insensitive), with the
    sequence and item rows above each match so nested hits keep their context."""
    needle = text.strip().lower()
    if not needle:
        return list(rows)
    compact = needle.replace("(", "").replace(")", "").replace(",", "")
    keep = [False] * len(rows)
    for i, row in enumerate(rows):
        haystack = f"{row.tag} {row.keyword} {row.name} {row.value}".lower()
        tag_compact = row.tag.replace("(", "").replace(")", "").replace(",", "").lower()
        if needle in haystack or (compact and compact in tag_compact):
            keep[i] = True
            depth = row.depth
            for j in range(i - 1, -1, -1):  # ancestors: nearest shallower rows
                if rows[j].depth < depth:
                    keep[j] = True
                    depth = rows[j].depth
                    if depth == 0:
                        break
    return [row for row, k in zip(rows, keep, strict=True) if k]
