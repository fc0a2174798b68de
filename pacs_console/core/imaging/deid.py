"""De-identified export: PS3.15 Basic Profile applied tag by tag, UIDs remapped consistently."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import warnings
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pacs_console.core.imaging.deid_table import ACTIONS
from pacs_console.core.models import Progress

PROFILE_NAME = "PS3.15 Basic Application Level Confidentiality Profile"
# Modalities whose images usually carry burned-in text (patient banners, measurements).
BURN_IN_MODALITIES = {"US", "IVUS", "SC", "XC", "ES", "GM", "SM", "OP", "OT"}
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
DUMMY = {"DA": "19000101", "TM": "000000", "DT": "19000101000000", "PN": "ANONYMOUS",
         "AS": "000Y", "IS": "0", "DS": "0", "AE": "ANONYMIZED", "CS": "ANONYMIZED",
         "SH": "ANONYMIZED", "LO": "ANONYMIZED", "ST": "ANONYMIZED", "LT": "ANONYMIZED",
         "UT": "ANONYMIZED", "UC": "ANONYMIZED", "UR": "", "US": 0, "SS": 0, "UL": 0, "SL": 0,
         "FL": 0.0, "FD": 0.0, "SV": 0, "UV": 0}


def _parse() -> tuple[dict[int, str], list[tuple[int, int, int, int, str]]]:
    exact: dict[int, str] = {}
    masked: list[tuple[int, int, int, int, str]] = []
    for action, text in ACTIONS.items():
        for word in text.split():
            if "x" in word.lower():
                group, elem = word[:4].lower(), word[4:].lower()
                gmask = 0xFF00 if "x" in group else 0xFFFF
                emask = 0x0000 if "x" in elem else 0xFFFF
                masked.append((gmask, int(group.replace("x", "0"), 16), emask,
                               int(elem.replace("x", "0"), 16), action))
            else:
                exact[int(word, 16)] = action
    return exact, masked


EXACT, MASKED = _parse()


def action_for(tag: int) -> str | None:
    """The Basic Profile action for a (non-private) tag, or None where the profile keeps it."""
    action = EXACT.get(int(tag))
    if action is not None:
        return action
    group, elem = int(tag) >> 16, int(tag) & 0xFFFF
    for gmask, gval, emask, evalue, act in MASKED:
        if group & gmask == gval and elem & emask == evalue and group % 2 == 0:
            return act
    return None


@dataclass
class DeidReport:
    out_dir: Path
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source file, reason)
    warnings: list[str] = field(default_factory=list)
    uids_remapped: int = 0
    seconds: float = 0.0


class Deidentifier:
    """One per export: the same original UID always maps to the same new one within it."""

    def __init__(self, salt: bytes | None = None) -> None:
        self.salt = salt or os.urandom(32)
        self.uids: dict[str, str] = {}

    def uid(self, old: str) -> str:
        old = str(old).strip()
        if not old:
            return old
        new = self.uids.get(old)
        if new is None:
            digest = hmac.new(self.salt, old.encode(), hashlib.sha256).digest()
            # 2.25 + a 128-bit integer: a valid UID no one can map back without the salt.
            new = self.uids[old] = f"2.25.{int.from_bytes(digest[:16], 'big')}"
        return new

    def _remap(self, elem) -> None:
        if elem.VM > 1:
            elem.value = [self.uid(v) for v in elem.value]
        elif elem.value:
            elem.value = self.uid(elem.value)

    def _dummy(self, elem) -> None:
        if elem.VR == "UI":
            self._remap(elem)
        elif elem.VR in DUMMY:
            elem.value = DUMMY[elem.VR]
        else:  # binary and unknown values have no meaningful dummy: empty them
            elem.value = b"" if elem.VR in ("OB", "OW", "OD", "OF", "OL", "OV", "UN") else None

    def clean(self, ds) -> None:
        """Apply the profile to ``ds`` and every nested item, in place."""
        for elem in list(ds):
            tag = elem.tag
            if tag.is_private:
                del ds[tag]  # Basic Profile: private attributes are removed
                continue
            action = action_for(tag)
            if elem.VR == "SQ":
                if action in ("X", "X/D", "X/Z/D"):
                    del ds[tag]
                elif action in ("Z", "X/Z"):
                    elem.value = []
                else:  # K, D, U, X/Z/U*: keep the structure, clean what the items hold
                    for item in elem.value or []:
                        self.clean(item)
                continue
            if action is None:
                continue
            if action == "X":
                del ds[tag]
            elif action in ("Z", "X/Z"):
                elem.value = None if elem.VR not in ("OB", "OW", "UN") else b""
            elif action == "U":
                self._remap(elem)
            elif action == "X/Z/U*":
                if elem.VR == "UI":
                    self._remap(elem)
                else:
                    elem.value = None
            else:  # D, Z/D, X/D, X/Z/D: a dummy keeps Type 1 attributes valid
                self._dummy(elem)

    def apply(self, ds) -> list[str]:
        """De-identify a whole instance; returns warnings (burned-in text) without PHI."""
        notes = burn_in_warnings(ds)
        self.clean(ds)
        from pydicom.dataset import Dataset

        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = "PS3.15 Basic Profile (PACS Console)"  # LO: 64 chars max
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator = "113100", "DCM"
        code.CodeMeaning = "Basic Application Confidentiality Profile"
        ds.DeidentificationMethodCodeSequence = [code]
        meta = getattr(ds, "file_meta", None)
        if meta is not None and "SOPInstanceUID" in ds:
            meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        return notes


def burn_in_warnings(ds) -> list[str]:
    """Warn when pixels may show text the profile cannot remove from the header."""
    modality = str(ds.get("Modality", "")).upper()
    sop_class = str(ds.get("SOPClassUID", ""))
    burned = str(ds.get("BurnedInAnnotation", "")).strip().upper()
    risky = modality in BURN_IN_MODALITIES or sop_class.startswith(SECONDARY_CAPTURE)
    if burned == "YES":
        return [f"{modality or 'image'}: Burned In Annotation is YES: the pixels show "
                "identifying text; the header was cleaned, the pixels were not"]
    if risky and burned != "NO":
        return [f"{modality or 'image'}: Burned In Annotation is missing for a modality that "
                "burns text into the pixels; check the images before sharing"]
    return []


def export_deid(files: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str],
                salt: bytes | None = None) -> Generator[Progress, None, DeidReport]:
    """Write de-identified copies as ``out/ST001/SE001/IM0001.dcm`` (names carry no PHI)."""
    import pydicom

    start = time.perf_counter()
    out = Path(out_dir)
    report = DeidReport(out)
    deid = Deidentifier(salt)
    studies: dict[str, str] = {}
    series: dict[tuple[str, str], str] = {}
    counts: dict[str, int] = {}
    seen_warnings: set[str] = set()
    for i, path in enumerate(files):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ds = pydicom.dcmread(path)
                study = str(ds.get("StudyInstanceUID", ""))
                ser = str(ds.get("SeriesInstanceUID", ""))
                for note in deid.apply(ds):
                    if note not in seen_warnings:
                        seen_warnings.add(note)
                        report.warnings.append(note)
                st = studies.setdefault(study, f"ST{len(studies) + 1:03d}")
                se = series.setdefault((study, ser), f"SE{sum(1 for k in series if k[0] == study) + 1:03d}")
                folder = out / st / se
                folder.mkdir(parents=True, exist_ok=True)
                counts[str(folder)] = counts.get(str(folder), 0) + 1
                target = folder / f"IM{counts[str(folder)]:04d}.dcm"
                ds.save_as(target, enforce_file_format=True)
            report.written.append(target)
            # pydicom's doubts about this file: its notes in the report, never stderr.
            for note in dict.fromkeys(f"{Path(path).name}: {w.message}" for w in caught):
                report.warnings.append(note)
        except Exception as exc:  # noqa: BLE001 - one bad file is reported, the rest go on
            report.failed.append((str(path), f"{type(exc).__name__}: {exc}"))
        yield Progress(i + 1, len(files), f"De-identified {i + 1} of {len(files)}")
    report.uids_remapped = len(deid.uids)
    report.seconds = time.perf_counter() - start
    return report
