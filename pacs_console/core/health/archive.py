"""Archive integrity (spot-check a sample of studies) and primary-vs-DR comparison.

Spot-check: a random sample of studies, stratified by year and modality; for each, the counts
C-FIND gives at study and image level must agree, every instance must arrive over C-GET, decode,
and match the SHA-256 of its pixel data recorded at the last check (kept in the data folder:
``archive/<node>.json``, SOP Instance UID -> digest). DR comparison: one study-level C-FIND on
each archive over the date range; studies on one side only, count mismatches, replication gap.
"""

from __future__ import annotations

import hashlib
import json
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Generator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.models import Progress

MAX_SAMPLE = 1000
MAX_STUDIES = 200_000
MIN_QUERY_INTERVAL_S = 0.2  # politeness between queries to a production archive


def _drain(generator, items: list | None = None):
    try:
        while True:
            item = next(generator)
            if items is not None:
                items.append(item)
    except StopIteration as stop:
        return stop.value


def _studies(target, date_range: str | None, limit: int = MAX_STUDIES) -> list[dict]:
    from pacs_console.core.dicom.ops.query import find

    rows: list[dict] = []
    keys = {"date": date_range} if date_range else {}
    result = _drain(find(target, "STUDY", keys, limit=limit), rows)
    if result.outcome == "failed":
        raise ConsoleError(result.diagnosis or Diagnosis(
            "archive-query", f"C-FIND on {target.label} failed", (), ()))
    return rows


@dataclass
class StudyCheck:
    study_uid: str
    year: str
    modality: str
    expected: int | None  # NumberOfStudyRelatedInstances from the study-level C-FIND
    listed: int = 0  # image-level C-FIND matches
    received: int = 0
    missing: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)  # no decodable pixel data
    changed: list[str] = field(default_factory=list)  # pixel digest differs from last check
    new: int = 0  # first time seen: digest recorded now
    problems: list[str] = field(default_factory=list)

    @property
    def result(self) -> str:
        if self.missing or self.corrupt or self.changed or self.unreadable:
            return "fail"
        return "warn" if self.problems else "pass"


@dataclass
class SpotCheck:
    node: str
    sampled: list[StudyCheck] = field(default_factory=list)
    population: int = 0

    def counts(self) -> dict:
        out = defaultdict(int)
        for s in self.sampled:
            out[s.result] += 1
            for key in ("missing", "unreadable", "corrupt", "changed"):
                out[f"instances_{key}"] += len(getattr(s, key))
        return dict(out)

    def to_dict(self) -> dict:
        return {"node": self.node, "population": self.population, "counts": self.counts(),
                "checks": [{"node": self.node, "check": "study", "study_uid": s.study_uid,
                            "result": s.result, "diagnosis": None, **asdict(s)}
                           for s in self.sampled]}

    def exit_code(self) -> int:
        results = {s.result for s in self.sampled}
        return 0 if results <= {"pass"} else 1 if results == {"fail"} else 10


def stratified_sample(studies: list[dict], size: int, rng: random.Random) -> list[dict]:
    """Round-robin over (year, modality) strata, a random study from each in turn."""
    strata: dict[tuple, list[dict]] = defaultdict(list)
    for study in studies:
        key = ((study.get("StudyDate") or "")[:4] or "????",
               (study.get("ModalitiesInStudy") or "?").split("\\")[0])
        strata[key].append(study)
    for members in strata.values():
        rng.shuffle(members)
    chosen: list[dict] = []
    keys = sorted(strata)
    while len(chosen) < size and any(strata.values()):
        for key in keys:
            if strata[key] and len(chosen) < size:
                chosen.append(strata[key].pop())
    return chosen


def digests_path(data_dir: Path, node_name: str) -> Path:
    from pacs_console.core.safepath import hashed, join

    return join(Path(data_dir), "archive", hashed(node_name, "node") + ".json")


def _load_digests(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _pixel_digest(path: Path) -> tuple[str | None, str]:
    """(SHA-256 of the pixel data, problem): problem is '' when it decodes."""
    import warnings

    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)
            if "PixelData" not in ds:
                return None, "no pixel data"
            digest = hashlib.sha256(ds.PixelData).hexdigest()
            ds.pixel_array  # noqa: B018 - decoding is the check
        return digest, ""
    except Exception as exc:  # noqa: BLE001 - any failure is this instance's finding
        return None, f"{type(exc).__name__}: {exc}"[:200]


def _check_study(target, study: dict, known: dict[str, str], scratch: Path) -> StudyCheck:
    from pacs_console.core.dicom.ops.query import find
    from pacs_console.core.dicom.ops.retrieve import get

    uid = study.get("StudyInstanceUID", "")
    expected = study.get("NumberOfStudyRelatedInstances")
    check = StudyCheck(uid, (study.get("StudyDate") or "")[:4],
                       (study.get("ModalitiesInStudy") or "").split("\\")[0],
                       int(expected) if str(expected or "").isdigit() else None)
    listed: list[dict] = []
    _drain(find(target, "IMAGE", {"StudyInstanceUID": uid}), listed)
    check.listed = len(listed)
    if check.expected is not None and check.expected != check.listed:
        check.problems.append(f"study level says {check.expected} instances, image level lists "
                              f"{check.listed}")
    folder = Path(tempfile.mkdtemp(dir=scratch))
    result = _drain(get(target, "STUDY", {"StudyInstanceUID": uid}, folder))
    by_uid: dict[str, Path] = {}
    for path in result.files:
        try:
            import pydicom

            by_uid[str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)] = path
        except Exception:  # noqa: BLE001 - unreadable as DICOM
            check.unreadable.append(path.name)
    check.received = len(by_uid)
    for row in listed:
        sop = row.get("SOPInstanceUID", "")
        path = by_uid.get(sop)
        if path is None:
            check.missing.append(sop)
            continue
        digest, problem = _pixel_digest(path)
        if problem:
            check.corrupt.append(f"{sop}: {problem}")
        elif sop in known and known[sop] != digest:
            check.changed.append(sop)
        elif sop not in known:
            known[sop] = digest
            check.new += 1
    return check


def spot_check(target, node_name: str, data_dir: Path, sample: int, *,
               since: str | None = None, seed: int | None = None
               ) -> Generator[Progress, None, SpotCheck]:
    if not 1 <= sample <= MAX_SAMPLE:
        raise ValueError(f"sample must be 1-{MAX_SAMPLE}")
    studies = _studies(target, f"{since}-" if since else None)
    rng = random.Random(seed)
    chosen = stratified_sample(studies, sample, rng)
    outcome = SpotCheck(node_name, population=len(studies))
    path = digests_path(data_dir, node_name)
    known = _load_digests(path)
    with tempfile.TemporaryDirectory(prefix="pacs-archive-check-") as scratch:
        for n, study in enumerate(chosen):
            yield Progress(n, len(chosen), f"Study {n + 1} of {len(chosen)}")
            outcome.sampled.append(_check_study(target, study, known, Path(scratch)))
            time.sleep(MIN_QUERY_INTERVAL_S)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(known, indent=0), encoding="utf-8")
    temp.replace(path)
    yield Progress(len(chosen), len(chosen), "Spot-check done")
    return outcome


def _when(study: dict) -> datetime | None:
    date, clock = study.get("StudyDate") or "", (study.get("StudyTime") or "000000")[:6]
    try:
        return datetime.strptime(date + clock.ljust(6, "0"), "%Y%m%d%H%M%S")
    except ValueError:
        return None


def dr_compare(primary, dr, date_from: str, date_to: str) -> dict:
    """Studies on one side only, count mismatches, and the replication gap."""
    date_range = f"{date_from}-{date_to}"
    started = time.perf_counter()
    left = {s.get("StudyInstanceUID", ""): s for s in _studies(primary, date_range)}
    time.sleep(MIN_QUERY_INTERVAL_S)
    right = {s.get("StudyInstanceUID", ""): s for s in _studies(dr, date_range)}
    only_primary = sorted(set(left) - set(right))
    only_dr = sorted(set(right) - set(left))
    mismatches = []
    for uid in sorted(set(left) & set(right)):
        for key in ("NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"):
            a, b = left[uid].get(key, ""), right[uid].get(key, "")
            if a and b and a != b:
                mismatches.append({"study_uid": uid, "what": key, "primary": a, "dr": b})
    newest_primary = max((t for t in map(_when, left.values()) if t), default=None)
    replicated = [t for t in (_when(left[u]) for u in set(left) & set(right)) if t]
    newest_dr = max(replicated, default=None)
    gap_hours = None
    if newest_primary and only_primary:
        gap_hours = round(((newest_primary - newest_dr).total_seconds() / 3600)
                          if newest_dr else float("nan"), 2)
    checks = [{"node": "DR", "check": "missing-on-dr", "study_uid": u, "result": "fail",
               "diagnosis": None} for u in only_primary]
    checks += [{"node": "primary", "check": "missing-on-primary", "study_uid": u,
                "result": "warn", "diagnosis": None} for u in only_dr]
    checks += [{"node": "DR", "check": "count-mismatch", "result": "fail", "diagnosis": None, **m}
               for m in mismatches]
    return {"from": date_from, "to": date_to, "primary_studies": len(left),
            "dr_studies": len(right), "only_on_primary": only_primary, "only_on_dr": only_dr,
            "count_mismatches": mismatches, "replication_gap_studies": len(only_primary),
            "replication_gap_hours": gap_hours,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1), "checks": checks,
            "result": "fail" if only_primary or mismatches else "warn" if only_dr else "pass"}
