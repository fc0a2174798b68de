"""Archive integrity: spot-check a sample of studies (primary-vs-DR comparison: ``dr``).

Spot-check: a random sample of studies, stratified by year and modality; for each, the counts
C-FIND gives at study, series and image level must agree, every instance must arrive over
C-GET or C-MOVE (``fetch``), decode, and match the SHA-256 of its pixel data recorded at the
last check (kept in the data folder: ``archive/<node>.json``, SOP Instance UID -> digest).
Politeness is the engineer's: studies start ``interval`` seconds apart, ``parallel`` at once.
Every caller (CLI, GUI, benchmark) runs ``run_spot_check``, which resolves the address-book
name and keeps the outcome as evidence.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.health.pixels import read_instance
from pacs_console.core.models import Progress, drain

MAX_SAMPLE = 1000
MAX_STUDIES = 200_000
MIN_QUERY_INTERVAL_S = 0.2  # politeness: queries to a production archive start this far apart
PARALLEL_STUDIES = 2  # politeness: studies checked at once (their starts still paced)
MAX_INTERVAL_S, MAX_PARALLEL = 60.0, 8  # the most an engineer may set either to
PROGRESS_EVERY, PROGRESS_EVERY_S = 250, 0.25  # matches or seconds between progress reports
CHECK_KIND = "archive-check"
MAX_SAVED_FINDINGS = 200
FINDINGS = ("missing", "corrupt", "changed", "unreadable")


class Pacer:
    """Starts of queries at least ``interval`` seconds apart: a bound on the query rate that
    costs nothing when each query takes longer than that anyway."""

    def __init__(self, interval: float = MIN_QUERY_INTERVAL_S) -> None:
        import threading

        self.interval, self.last, self.lock = interval, None, threading.Lock()

    def wait(self) -> None:
        with self.lock:  # threads sharing a pacer start one at a time, spaced
            if self.last is not None:
                left = self.interval - (time.monotonic() - self.last)
                if left > 0:
                    time.sleep(left)
            self.last = time.monotonic()


def address_book_node(db, name: str):
    """The address-book node ``name``; ConsoleError naming it when there is none."""
    from pacs_console.core.db.nodes import get_node

    node = get_node(db, name)
    if node is None:
        raise ConsoleError(Diagnosis("archive-node-unknown",
                                     f"no node {name!r} in the address book",
                                     ("the name is spelt differently there",),
                                     ("pacs-console node list shows the names",)))
    return node


def list_studies(target, date_range: str | None, limit: int = MAX_STUDIES
                 ) -> Generator[Progress, None, list[dict]]:
    """One study-level C-FIND; progress every few hundred matches or a quarter second, so a
    cancel is seen soon. Closing it cancels the query (C-CANCEL)."""
    from pacs_console.core.dicom.ops.query import find

    rows: list[dict] = []
    keys = {"date": date_range} if date_range else {}
    steps = find(target, "STUDY", keys, limit=limit)
    last = time.monotonic()
    try:
        while True:
            rows.append(next(steps))
            if len(rows) % PROGRESS_EVERY == 0 or time.monotonic() - last > PROGRESS_EVERY_S:
                last = time.monotonic()
                yield Progress(len(rows), None, f"{target.label}: {len(rows)} studies listed")
    except StopIteration as stop:
        result = stop.value
    finally:
        steps.close()
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
    short: int = 0  # instances the study level counts that never arrived (not listed by UID)

    @property
    def result(self) -> str:
        if self.missing or self.corrupt or self.changed or self.unreadable or self.short:
            return "fail"
        return "warn" if self.problems else "pass"


@dataclass
class SpotCheck:
    node: str
    sampled: list[StudyCheck] = field(default_factory=list)
    population: int = 0
    retrieve: str = "get"  # how the instances were brought in: C-GET or C-MOVE
    # Politeness the check ran with: seconds between study starts, studies at once.
    interval: float = MIN_QUERY_INTERVAL_S
    parallel: int = PARALLEL_STUDIES

    def counts(self) -> dict:
        out = defaultdict(int)
        for s in self.sampled:
            out[s.result] += 1
            for key in ("missing", "unreadable", "corrupt", "changed"):
                out[f"instances_{key}"] += len(getattr(s, key))
            out["instances_missing"] += s.short
        return dict(out)

    def to_dict(self) -> dict:
        return {"node": self.node, "population": self.population, "counts": self.counts(),
                "retrieve": self.retrieve,
                "politeness": {"interval_s": self.interval, "parallel": self.parallel},
                "checks": [{"node": self.node, "check": "study", "study_uid": s.study_uid,
                            "result": s.result, "diagnosis": None, **asdict(s)}
                           for s in self.sampled]}

    def exit_code(self) -> int:
        results = {s.result for s in self.sampled}
        return 0 if results <= {"pass"} else 1 if results == {"fail"} else 10

    @property
    def result(self) -> str:
        return {0: "pass", 1: "fail"}.get(self.exit_code(), "warn")

    def summary(self) -> str:
        counts = self.counts()
        return (f"Archive spot-check: {len(self.sampled)} studies, {counts.get('fail', 0)} with "
                f"problems ({counts.get('instances_missing', 0)} missing, "
                f"{counts.get('instances_corrupt', 0)} corrupt, "
                f"{counts.get('instances_changed', 0)} changed instances)")


def study_line(s: StudyCheck) -> str:
    """One sampled study as an engineer reads it (CLI, GUI table, visit report)."""
    line = f"{s.received}/{max(s.listed, s.expected or 0)} received"
    for key in FINDINGS:
        if getattr(s, key):
            line += f", {len(getattr(s, key))} {key}"
    if s.short:
        line += f", {s.short} never arrived"
    if s.new:
        line += f", {s.new} checksums recorded"
    if s.problems:
        line += "; " + "; ".join(s.problems)
    return line


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


def study_digests(target, study_uid: str) -> tuple[object, dict[str, str]]:
    """C-GET one study into a scratch folder (removed after): the RetrieveResult and, per SOP
    Instance UID received, the SHA-256 of its pixel data (or "unreadable: why")."""
    from pacs_console.core.dicom.ops.retrieve import get

    digests: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="pacs-health-retrieve-") as folder:
        result = drain(get(target, "STUDY", {"StudyInstanceUID": study_uid}, folder))
        for path in result.files:
            sop, digest, problem = read_instance(path)
            digests[sop or path.name] = digest or f"unreadable: {problem}"
        result.files = []  # gone with the folder
    return result, digests


def _number(value) -> int | None:
    return int(value) if str(value or "").strip().isdigit() else None


def _series_counts(target, study: dict, check: StudyCheck) -> None:
    """The series level against the study level: how many series, and their instances."""
    from pacs_console.core.dicom.ops.query import find

    rows: list[dict] = []
    listing = drain(find(target, "SERIES", {"StudyInstanceUID": check.study_uid}), rows)
    if listing.outcome == "failed":
        what = listing.diagnosis.what if listing.diagnosis else "no answer"
        check.problems.append(f"series-level C-FIND failed: {what}")
        return
    series = _number(study.get("NumberOfStudyRelatedSeries"))
    if series is not None and series != len(rows):
        check.problems.append(f"study level says {series} series, series level lists "
                              f"{len(rows)}")
    counts = [_number(r.get("NumberOfSeriesRelatedInstances")) for r in rows]
    if rows and None not in counts and check.expected is not None \
            and sum(counts) != check.expected:
        check.problems.append(f"study level says {check.expected} instances, its series "
                              f"{sum(counts)}")


def _listings(target, study: dict, check: StudyCheck) -> list[dict]:
    """The counts at series level, then the image-level listing (series and SOP Instance UIDs
    only: archives answer those from their index, where Orthanc reads every file for a SOP
    Class UID)."""
    from pacs_console.core.dicom.ops.query import find

    _series_counts(target, study, check)
    listed: list[dict] = []
    listing = drain(find(target, "IMAGE", {"StudyInstanceUID": check.study_uid},
                         returns=["SeriesInstanceUID", "SOPInstanceUID"]), listed)
    if listing.outcome == "failed":
        what = listing.diagnosis.what if listing.diagnosis else "no answer"
        check.problems.append(f"image-level C-FIND failed: {what}")
    elif check.expected is not None and check.expected != len(listed):
        check.problems.append(f"study level says {check.expected} instances, image level lists "
                              f"{len(listed)}")
    return listed


def _examine(target, study: dict, fetcher, pacer: Pacer, queries) -> tuple[StudyCheck, dict]:
    """A worker thread's part: the counts at every level (C-FINDs on the ``queries`` pool,
    while the study arrives), the retrieval and the read of every file (SOP Instance UID ->
    (digest, problem)); compared with the known digests after."""
    pacer.wait()
    uid = study.get("StudyInstanceUID", "")
    expected = study.get("NumberOfStudyRelatedInstances")
    check = StudyCheck(uid, (study.get("StudyDate") or "")[:4],
                       (study.get("ModalitiesInStudy") or "").split("\\")[0],
                       int(expected) if str(expected or "").isdigit() else None)
    listing = queries.submit(_listings, target, study, check)
    try:
        _result, files = fetcher.fetch(uid)
    finally:
        listed = listing.result()
    check.listed = len(listed)
    read: dict[str, tuple[str | None, str]] = {}  # SOP Instance UID -> (digest, problem)
    for item in files:  # a file to read, or what was read from the bytes as they arrived
        if isinstance(item, tuple):
            sop, digest, problem = item
        else:
            sop, digest, problem = read_instance(item)
            item.unlink(missing_ok=True)  # checked: free the disk
        if sop is None:
            check.unreadable.append(item.name)
        else:
            read[sop] = (digest, problem)
    check.received = len(read)
    listed_uids = [row.get("SOPInstanceUID", "") for row in listed]
    check.missing = [sop for sop in listed_uids if sop not in read]
    expected = max(check.expected or 0, len(listed_uids))
    if check.received < expected and not check.missing:
        check.short = expected - check.received  # never arrived, UIDs unknown (no listing)
    return check, read


def _verify(check: StudyCheck, read: dict, known: dict[str, str]) -> StudyCheck:
    """Against the digests of the last check (one thread: ``known`` is not shared)."""
    # Every instance that arrived is checked, listed or not.
    for sop, (digest, problem) in read.items():
        if problem:
            check.corrupt.append(f"{sop}: {problem}")
        elif sop in known and known[sop] != digest:
            check.changed.append(sop)
        elif sop not in known:
            known[sop] = digest
            check.new += 1
    return check


def spot_check(target, node_name: str, data_dir: Path, sample: int, *,
               since: str | None = None, seed: int | None = None, retrieve: str = "get",
               settings=None, interval: float = MIN_QUERY_INTERVAL_S,
               parallel: int = PARALLEL_STUDIES) -> Generator[Progress, None, SpotCheck]:
    """``retrieve``: "get" (C-GET) or "move" (C-MOVE to this console, received on the
    receiving port of ``settings``). Politeness: studies start at least ``interval`` seconds
    apart, at most ``parallel`` at once."""
    from pacs_console.core.health.fetch import fetcher

    if not 1 <= sample <= MAX_SAMPLE:
        raise ValueError(f"sample must be 1-{MAX_SAMPLE}")
    if not (0 <= interval <= MAX_INTERVAL_S and 1 <= parallel <= MAX_PARALLEL):
        raise ValueError(f"interval 0-{MAX_INTERVAL_S:g} s, parallel 1-{MAX_PARALLEL}")
    yield Progress(0, None, f"Listing the studies of {node_name}")
    studies = yield from list_studies(target, f"{since}-" if since else None)
    rng = random.Random(seed)
    chosen = stratified_sample(studies, sample, rng)
    outcome = SpotCheck(node_name, population=len(studies), retrieve=retrieve,
                        interval=interval, parallel=parallel)
    path = digests_path(data_dir, node_name)
    known = _load_digests(path)
    pacer, results = Pacer(interval), {}
    with tempfile.TemporaryDirectory(prefix="pacs-archive-check-") as scratch, \
            fetcher(retrieve, target, settings, Path(scratch)) as fetch, \
            ThreadPoolExecutor(parallel, thread_name_prefix="spot-check-find") as queries, \
            ThreadPoolExecutor(parallel, thread_name_prefix="spot-check") as pool:
        futures = {pool.submit(_examine, target, study, fetch, pacer, queries): n
                   for n, study in enumerate(chosen)}
        try:
            for future in as_completed(futures):
                check, read = future.result()
                results[futures[future]] = _verify(check, read, known)
                yield Progress(len(results), len(chosen), f"Study {len(results)} of "
                               f"{len(chosen)} checked")
        except GeneratorExit:  # cancelled: the studies under way finish, no new one starts
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    outcome.sampled = [results[n] for n in sorted(results)]
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(known, indent=0), encoding="utf-8")
    temp.replace(path)
    yield Progress(len(chosen), len(chosen), "Spot-check done")
    return outcome


def spot_check_evidence(outcome: SpotCheck, *, sample: int, since: str | None) -> dict:
    """The evidence row's fields (kind 'archive-check'): History, incidents, the visit report."""
    findings = [{"study_uid": s.study_uid, "year": s.year, "modality": s.modality,
                 "result": s.result, "text": study_line(s),
                 **{key: getattr(s, key)[:20] for key in FINDINGS}}
                for s in outcome.sampled if s.result != "pass"][:MAX_SAVED_FINDINGS]
    return dict(kind=CHECK_KIND, node_label=outcome.node, summary=outcome.summary(),
                outcome={"pass": "ok", "warn": "warning"}.get(outcome.result, "failed"),
                parameters={"node": outcome.node, "sample": sample, "since": since,
                            "retrieve": outcome.retrieve, "interval_s": outcome.interval,
                            "parallel": outcome.parallel},
                metrics={"population": outcome.population, **outcome.counts(),
                         "sampled": len(outcome.sampled), "result": outcome.result,
                         "findings": findings})


def run_spot_check(db, settings, data_dir: Path, node_name: str, sample: int, *,
                   since: str | None = None, seed: int | None = None, save: bool = True,
                   retrieve: str = "get", interval: float = MIN_QUERY_INTERVAL_S,
                   parallel: int = PARALLEL_STUDIES, database: Path | None = None
                   ) -> Generator[Progress, None, SpotCheck]:
    """Spot-check the address-book node ``node_name`` and keep the outcome as evidence.

    ``db``: the Database, or a callable giving it. With ``database`` (its SQLite file) the
    node is read and the evidence appended with sqlite3 (``db.light``), so a command line
    never loads the ORM (a second or more on a loaded laptop); ``db`` is asked only when that
    path cannot serve (an unknown name, an older schema)."""
    from pacs_console.core.dicom.wire.target import Target

    def orm():
        return db() if callable(db) else db

    light = None
    if database is not None:
        from pacs_console.core.db.light import get_node_light

        light = get_node_light(database, node_name)
    node = light or address_book_node(orm(), node_name)
    outcome = yield from spot_check(Target.from_node(node, settings), node_name, data_dir,
                                    sample, since=since, seed=seed, retrieve=retrieve,
                                    settings=settings, interval=interval, parallel=parallel)
    if save:
        evidence = spot_check_evidence(outcome, sample=sample, since=since)
        saved = None
        if light is not None:
            from pacs_console.core.db.light import save_test_run_light

            saved = save_test_run_light(database, node_id=node.id, **evidence)
        if saved is None:
            from pacs_console.core.db.testruns import save_test_run

            save_test_run(orm(), node_id=node.id, **evidence)
    return outcome
