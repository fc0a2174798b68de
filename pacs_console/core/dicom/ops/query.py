"""C-FIND at patient, study, series and image level (Patient/Study Root) and Modality Worklist."""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import field

from pacs_console.core.dicom.diagnosis.dimse_status import category, describe_status
from pacs_console.core.dicom.identifiers import (  # noqa: F401 - the operation's public names
    LEVELS,
    RETURN_KEYS,
    SPS,
    SPS_KEYS,
    build_identifier,
    dictionary_vr_or_none,
    flatten,
    identifier_tree,
)
from pacs_console.core.dicom.ops.results import OperationResult
from pacs_console.core.dicom.wire.find import find_rows
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.records import record

# Study Root, Patient Root and Modality Worklist FIND SOP classes (pynetdicom.sop_class names
# them; written out so a query loads pynetdicom only when its path needs it).
FIND_MODELS = {"study": "1.2.840.10008.5.1.4.1.2.2.1",
               "patient": "1.2.840.10008.5.1.4.1.2.1.1",
               "worklist": "1.2.840.10008.5.1.4.31"}


@record
class FindResult(OperationResult):
    """A C-FIND: matches counted, the final status, truncation or cancel, and the character
    set assumed for answers that declared none."""

    kind = "find"

    count: int = 0
    status: int | None = None
    matches_truncated: bool = False
    # Answers without Specific Character Set: what their non-ASCII text was read as.
    charset_assumed: str = ""
    # Specific Character Set (0008,0005) as the answers declared it -> how many ("" = none).
    charsets_declared: dict = field(default_factory=dict)
    # Keep the declared term in each row as "SpecificCharacterSet" (find(charset=True)).
    keep_declared: bool = field(default=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == 0 or (self.cancelled and self.diagnosis is None)

    @property
    def outcome(self) -> str:
        if self.status is None and not self.cancelled:
            return "failed"
        if self.status is not None and category(self.status) == "failure":
            return "failed"
        return "warning" if self.diagnosis is not None else "ok"

    def to_dict(self) -> dict:
        return {"count": self.count, "status": self.status, "duration_ms": round(self.duration_ms, 3),
                "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
                "association": self.association, "matches_truncated": self.matches_truncated,
                "cancelled": self.cancelled, "charset_assumed": self.charset_assumed,
                "charsets_declared": self.charsets_declared,
                "parameters": self.parameters}

    def summary(self) -> str:
        if self.status is None and self.diagnosis:
            return f"C-FIND failed: {self.diagnosis.what}"
        extra = " (truncated)" if self.matches_truncated else " (cancelled)" if self.cancelled else ""
        return f"C-FIND: {self.count} matches in {self.duration_ms:.0f} ms{extra}"

    def matched(self, limit: int | None) -> bool:
        """Count one match; True when ``limit`` is reached and the rest are to be cancelled."""
        self.count += 1
        self.matches_truncated = limit is not None and self.count >= limit
        return self.matches_truncated

    def final(self, code: int) -> None:
        """The final (non-pending) response status."""
        self.status, self.cancelled = code, code == 0xFE00
        _, self.diagnosis = describe_status("find", code)

    def metrics(self) -> dict:
        return {"count": self.count, "status": self.status, "truncated": self.matches_truncated}


def _is_broad(keys: dict, extra: dict | None) -> bool:
    values = [str(v) for v in {**(keys or {}), **(extra or {})}.values() if v is not None]
    return all(v.strip("*") == "" for v in values)


def no_match_hint(target: Target, broad: bool, association: dict | None) -> Diagnosis:
    product = ((association or {}).get("fingerprint") or {}).get("product", "")
    calling = target.calling_ae
    causes = [f"the node does not list this console's calling AE {calling!r} for queries: "
              "Orthanc, for one, answers C-FIND from an AE missing from its DicomModalities "
              "with an empty result instead of an error",
              "the node holds no data matching these keys"]
    if not broad:
        causes.reverse()
        causes.append("keys too narrow: use * and ? as wildcards, date ranges as YYYYMMDD-YYYYMMDD")
    code = "no-matches-unregistered-ae" if broad else "no-matches"
    return Diagnosis(
        code, "The query returned no matches" + (" although it asked for everything" if broad else ""),
        tuple(causes),
        (f"check that AE {calling!r} with this laptop's IP address is in the node's list of "
         "DICOM peers (Orthanc: DicomModalities) and allowed to query",
         "widen the query (patient name *, no date)"),
        {"calling AE": calling, "node product": product or "unknown"})


def find(target: Target, level: str, keys: dict[str, str], *, model: str = "study",
         extra: dict | None = None, limit: int | None = None, returns: list[str] | None = None,
         charset: bool = False, sent=None, before_pynetdicom=None
         ) -> Generator[dict[str, str], None, FindResult]:
    """Yield each match as it arrives; return a FindResult. Closing early sends C-CANCEL.
    ``returns``: only these return keys instead of the level's usual ones (a key the archive
    does not index, e.g. Orthanc's SOP Class UID, makes it read every file). ``charset``:
    each row also gives the Specific Character Set its answer declared ("SpecificCharacterSet",
    "" for none); either way the result counts them (``charsets_declared``). ``sent()``:
    called once the query is out, before its first answer is read (not at all when no
    association was had); ``before_pynetdicom()``: see ``wire.find.find_rows``."""
    sop_class = FIND_MODELS[model]
    result = FindResult(target=target, parameters={"level": level.upper(), "model": model,
                                                   "keys": dict(keys or {}),
                                                   "extra": dict(extra or {}), "limit": limit},
                        keep_declared=charset)
    start = time.perf_counter()
    try:
        identifier = identifier_tree(level, keys, model, extra, returns)
        yield from find_rows(target, sop_class, identifier, result, limit, sent,
                             before_pynetdicom)
    except ConsoleError as exc:
        result.diagnosis = exc.diagnosis
    finally:
        result.duration_ms = (time.perf_counter() - start) * 1000
    if result.status == 0 and result.count == 0:
        result.diagnosis = no_match_hint(target, _is_broad(keys, extra), result.association)
    return result
