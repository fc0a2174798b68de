"""The viewer's index: a rebuildable SQLite cache of header facts, re-reading only changed files."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Generator, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field, fields
from pathlib import Path

from pacs_console.core.imaging.header import Header, Refusal, read_header, read_headers
from pacs_console.core.imaging.sources import list_source
from pacs_console.core.models import Progress

SCHEMA_VERSION = 1  # bump on any change below: the cache is dropped and rebuilt, never migrated
# A column for each Header fact but its notes (those go in the detail column), in its order:
# a change to Header's fields changes this table, so it bumps SCHEMA_VERSION too.
_HEADER_COLUMNS = tuple(f.name for f in fields(Header) if f.name != "notes")
_COLUMNS = ("source", "path", "mtime_ns", "size", "status", "reason", "detail") + _HEADER_COLUMNS
_SCHEMA = f"""
CREATE TABLE files ({', '.join(_COLUMNS)}, PRIMARY KEY (source, path));
CREATE INDEX files_series ON files (study_uid, series_uid);
CREATE INDEX files_status ON files (source, status);
"""
_BATCH = 250


@dataclass(frozen=True)
class FileRow:
    """One file as indexed: ok with its keys, or refused with a reason."""

    source: str
    path: str
    status: str  # ok | refused | skipped
    reason: str
    detail: str
    patient_id: str
    study_uid: str
    series_uid: str
    sop_uid: str
    transfer_syntax: str
    size: int
    mtime_ns: int
    has_pixels: bool = False


@dataclass(frozen=True)
class StudyRow:
    study_uid: str
    patient_name: str
    patient_id: str
    study_date: str
    description: str
    accession: str
    modalities: str
    series_count: int
    instance_count: int


@dataclass(frozen=True)
class InstanceRow:
    path: str
    mtime_ns: int
    sop_uid: str
    series_uid: str
    instance_number: int | None
    frames: int
    rows: int
    columns: int
    transfer_syntax: str
    photometric: str
    has_pixels: bool


@dataclass(frozen=True)
class SeriesRow:
    study_uid: str
    series_uid: str
    number: int | None
    description: str
    modality: str
    instance_count: int
    frame_count: int
    burned_in: str
    representative: InstanceRow | None


@dataclass
class IndexResult:
    source: str
    kind: str
    total: int = 0
    read: int = 0
    unchanged: int = 0
    ok: int = 0
    refused: int = 0
    removed: int = 0
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())


class ImageIndex:
    """The cache file; every call opens its own connection, so any thread may use it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, closing(self._connect()) as con:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                con.executescript("DROP TABLE IF EXISTS files;" + _SCHEMA +
                                  f"PRAGMA user_version = {SCHEMA_VERSION};")

    @classmethod
    def for_cache(cls, cache_dir: Path) -> ImageIndex:
        return cls(Path(cache_dir) / "index.sqlite3")

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        return con

    def known(self, source: str) -> dict[str, tuple[int, int]]:
        with closing(self._connect()) as con:
            rows = con.execute("SELECT path, mtime_ns, size FROM files WHERE source = ?", (source,))
            return {p: (m, s) for p, m, s in rows}

    def write(self, rows: Sequence[tuple], remove: Iterable[tuple[str, str]] = ()) -> None:
        marks = ", ".join("?" * len(_COLUMNS))
        with self._lock, closing(self._connect()) as con, con:
            con.executemany(f"INSERT OR REPLACE INTO files VALUES ({marks})", rows)
            con.executemany("DELETE FROM files WHERE source = ? AND path = ?", list(remove))

    def _select(self, columns: str, sources: Sequence[str], rest: str = "",
                args: Sequence = ()) -> list[tuple]:
        """``SELECT columns FROM files`` of these sources, then ``rest`` (its marks: ``args``)."""
        marks = ", ".join("?" * len(sources))
        with closing(self._connect()) as con:
            return con.execute(f"SELECT {columns} FROM files WHERE source IN ({marks}) {rest}",
                               [*sources, *args]).fetchall()

    def _children(self, columns: str, sources: Sequence[str], parent: str, uid: str,
                  rest: str) -> list[tuple]:
        """The readable files of these sources whose ``parent`` column is ``uid``, then ``rest``."""
        return self._select(columns, sources, f"AND status = 'ok' AND {parent} = ? {rest}", [uid])

    def files(self, sources: Sequence[str]) -> list[FileRow]:
        rows = self._select(
            "source, path, status, coalesce(reason, ''), coalesce(detail, ''), "
            "coalesce(patient_id, ''), coalesce(study_uid, ''), coalesce(series_uid, ''), "
            "coalesce(sop_uid, ''), coalesce(transfer_syntax, ''), size, mtime_ns, "
            "coalesce(has_pixels, 0) = 1", sources, "ORDER BY path")
        return [FileRow(*r[:-1], bool(r[-1])) for r in rows]

    def studies(self, sources: Sequence[str]) -> list[StudyRow]:
        rows = self._select(
            "study_uid, max(patient_name), max(patient_id), max(study_date), max(study_desc), "
            "max(accession), group_concat(DISTINCT modality), count(DISTINCT series_uid), "
            "count(DISTINCT sop_uid)", sources,
            "AND status = 'ok' GROUP BY study_uid "
            "ORDER BY max(study_date) DESC, max(study_time) DESC")
        return [StudyRow(r[0] or "", r[1] or "", r[2] or "", r[3] or "", r[4] or "", r[5] or "",
                         r[6] or "", r[7], r[8]) for r in rows]

    def series(self, study_uid: str, sources: Sequence[str]) -> list[SeriesRow]:
        rows = self._children(
            "series_uid, min(series_number), max(series_desc), max(modality), "
            "count(DISTINCT sop_uid), sum(frames), max(coalesce(burned_in, ''))", sources,
            "study_uid", study_uid, "GROUP BY series_uid ORDER BY min(series_number), series_uid")
        out = []
        for uid, number, desc, modality, count, frames, burned in rows:
            members = self.instances(uid, sources)
            images = [m for m in members if m.has_pixels]
            rep = images[len(images) // 2] if images else (members[0] if members else None)
            out.append(SeriesRow(study_uid, uid, number, desc or "", modality or "", count,
                                 frames or 0, burned or "", rep))
        return out

    def instances(self, series_uid: str, sources: Sequence[str]) -> list[InstanceRow]:
        rows = self._children(
            "path, mtime_ns, sop_uid, series_uid, instance_number, frames, rows, columns, "
            "transfer_syntax, photometric, has_pixels", sources, "series_uid", series_uid,
            "ORDER BY instance_number IS NULL, instance_number, position DESC, path")
        seen: set[str] = set()
        out = []
        for r in rows:
            if r[2] in seen:  # the same instance opened from two sources: show it once
                continue
            seen.add(r[2])
            out.append(InstanceRow(r[0], r[1], r[2], r[3], r[4], r[5] or 0, r[6] or 0, r[7] or 0,
                                   r[8] or "", r[9] or "", bool(r[10])))
        return out


def _row(source: str, path: str, st: os.stat_result | None, result: Header | Refusal) -> tuple:
    mtime, size = (st.st_mtime_ns, st.st_size) if st else (0, 0)
    if isinstance(result, Refusal):
        status = "skipped" if result.reason == "dicomdir" else "refused"
        return (source, path, mtime, size, status, result.reason, result.detail) + \
            (None,) * len(_HEADER_COLUMNS)
    values = tuple(int(v) if isinstance(v, bool) else v
                   for v in (getattr(result, c) for c in _HEADER_COLUMNS))
    return (source, path, mtime, size, "ok", "", "; ".join(result.notes)) + values


def index_files(index: ImageIndex, source: str, files: Sequence[Path], *, prune: bool = True,
                kind: str = "files", notes: Sequence[str] = (), first_here: bool = True
                ) -> Generator[Progress, None, IndexResult]:
    """Index ``files`` under ``source``; unchanged files (same mtime and size) are not re-read.
    ``first_here``: as ``read_ahead``; without it (no window) rows go in fewer, larger writes."""
    start = time.perf_counter()
    result = IndexResult(source, kind, total=len(files), notes=tuple(notes))
    known = index.known(source)
    pending: list[tuple] = []
    seen: set[str] = set()
    last_flush = time.perf_counter()
    shown = False
    stats: list[os.stat_result | OSError] = []
    for path in files:
        try:
            stats.append(os.stat(path))
        except OSError as exc:
            stats.append(exc)
    headers = read_ahead([path for path, st in zip(files, stats, strict=True)
                          if not isinstance(st, OSError)
                          and known.get(str(path)) != (st.st_mtime_ns, st.st_size)],
                         first_here=first_here)
    try:
        for i, (path, st) in enumerate(zip(files, stats, strict=True)):
            key = str(path)
            seen.add(key)
            if isinstance(st, OSError):
                pending.append(_row(source, key, None, Refusal("unreadable", str(st))))
            elif known.get(key) == (st.st_mtime_ns, st.st_size):
                result.unchanged += 1
            else:
                result.read += 1
                pending.append(_row(source, key, st, next(headers)))
            now = time.perf_counter()
            # The first readable image goes in at once, so its series (and thumbnail) can show
            # while the rest is read; then batches by count or a quarter second.
            # Without a window (first_here=False) nobody watches: fewer, larger writes.
            first = first_here and not shown and bool(pending) and pending[-1][4] == "ok"
            if first or len(pending) >= (_BATCH if first_here else 4 * _BATCH) or \
                    (first_here and pending and now - last_flush > 0.25):
                shown = True
                index.write(pending)
                pending, last_flush = [], now
                yield Progress(i + 1, len(files), f"Indexed {i + 1} of {len(files)} files", source)
        removed = [(source, p) for p in known if p not in seen] if prune else []
        index.write(pending, removed)
        pending = []
        result.removed = len(removed)
    finally:
        headers.close()
        if pending:  # closed early (cancel): keep what was read, it is valid
            index.write(pending)
    for status, count in index._select("status, count(*)", [source], "GROUP BY status"):
        if status == "ok":
            result.ok = count
        elif status == "refused":
            result.refused = count
    result.seconds = time.perf_counter() - start
    yield Progress(len(files), len(files), f"Indexed {len(files)} files", source)
    return result


def read_ahead(paths: Sequence[Path], chunk: int = 24, *, first_here: bool = True
               ) -> Generator[Header | Refusal, None, None]:
    """``read_header`` of each path, in order. The first at once on this thread (with
    ``first_here``: a window shows it while the rest is read); the rest on this thread too
    until the decode pool's processes are up (started in the background, unless already
    warm), then chunk by chunk in them, a few chunks ahead, while this thread reads the chunk
    in hand: the lean header reader is quick enough that waiting for a pool to start would
    cost more than it saves, yet a large folder still gets every core."""
    if not paths:
        return
    rest = list(paths)
    if first_here:
        yield read_header(rest.pop(0))
    if len(rest) <= 4 * chunk:
        for path in rest:
            yield read_header(path)
        return
    from pacs_console.core.imaging.thumbs import pool, pool_warm, warm_pool

    chunks = [rest[i:i + chunk] for i in range(0, len(rest), chunk)]
    starter = None if pool_warm() else threading.Thread(target=_start_quietly, args=(warm_pool,),
                                                        name="pool-start", daemon=True)
    if starter is not None:
        starter.start()
    executor, usable = None, True
    ahead: dict[int, object] = {}
    try:
        for i, batch in enumerate(chunks):
            if executor is None and usable and pool_warm():
                executor = pool()
            if executor is not None:
                for j in range(i + 1, min(len(chunks), i + 1 + 2 * (executor._max_workers or 1))):
                    if j not in ahead:
                        try:
                            ahead[j] = executor.submit(read_headers, chunks[j])
                        except RuntimeError:  # the pool was shut down or broke: read here
                            executor, usable = None, False
                            break
            future = ahead.pop(i, None)
            results = None
            if future is not None:
                try:
                    results = future.result(timeout=60)
                except Exception:  # noqa: BLE001 - a worker died or hung: this chunk is read here
                    results = None
            yield from results if results is not None else (read_header(p) for p in batch)
    finally:
        for future in ahead.values():
            future.cancel()
        if starter is not None:
            starter.join(timeout=60)  # never leave a pool half started at exit


def _start_quietly(start) -> None:
    try:
        start()
    except Exception:  # noqa: BLE001 - no pool (no processes allowed): this thread reads all
        pass


def index_source(index: ImageIndex, source: str | os.PathLike[str], cache_dir: Path, *,
                 first_here: bool = True) -> Generator[Progress, None, IndexResult]:
    """Open a folder, DICOMDIR, zip or file and index it (raises ConsoleError if it is gone);
    ``first_here``: as ``read_ahead``."""
    yield Progress(0, None, f"Listing {source}")
    listing = list_source(source, cache_dir)
    result = yield from index_files(index, listing.key, listing.files, kind=listing.kind,
                                    notes=listing.notes, first_here=first_here)
    return result
