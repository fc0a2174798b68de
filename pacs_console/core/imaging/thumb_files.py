"""Thumbnails written as PNG files by the decode pool itself (the command line's ``index
--thumbnails``): each worker decodes and writes the PNGs for a chunk of images, so no pixels
travel back to the calling process, which never loads numpy. The viewer's thumbnail cache
serves what it holds; it is filled only for the jobs that ask (the series' representative
images, the study tree's tiles): a cache file for every image would double the files made."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pacs_console.core.imaging import thumbs
from pacs_console.core.models import Progress

CHUNK = 8  # images per pool task: few round trips, yet both workers busy to the end


@dataclass(frozen=True)
class PngJob:
    """One image: where it is, its cache key, every PNG file it becomes, and whether a tile
    made for it goes into the viewer's cache."""

    path: str
    sop_uid: str
    mtime_ns: int
    targets: tuple[str, ...]
    cache: bool = True


def _write_chunk(jobs: Sequence[PngJob], cache_root: str, size: int) -> list[tuple[str, str]]:
    """Runs in a pool process: ("thumbnail", first PNG) or ("thumbnail_error", why) per job;
    never raises for one image (a decoder failure or an unwritable target is its result)."""
    cache = thumbs.ThumbCache(Path(cache_root), size)
    out, made = [], set()
    for job in jobs:
        image, reason, _ = thumbs.cached_or_made(cache, job.path, job.sop_uid, job.mtime_ns,
                                                 keep=job.cache)
        if image is None:
            out.append(("thumbnail_error", reason))
            continue
        try:
            for target in job.targets:
                parent = Path(target).parent
                if parent not in made:  # a series' images share a folder: made once
                    parent.mkdir(parents=True, exist_ok=True)
                    made.add(parent)
                thumbs.write_png(target, image)
            out.append(("thumbnail", job.targets[0]))
        except OSError as exc:  # one unwritable thumbnail is reported, the rest go on
            out.append(("thumbnail_error", f"cannot write {target}: {exc.strerror}"))
    return out


def write_thumbnail_files(jobs: Sequence[PngJob], cache: thumbs.ThumbCache
                          ) -> Generator[Progress, None, list[tuple[str, str]]]:
    """Every job's PNG files, made in the decode pool a chunk per task; returns one
    (key, text) per job, in order. A crashed or wedged worker fails its own chunk only."""
    chunks = [jobs[i:i + CHUNK] for i in range(0, len(jobs), CHUNK)]
    results: list[tuple[str, str]] = []
    executor = thumbs.pool()
    limit = 3 * (executor._max_workers or 1)
    ahead: dict[int, concurrent.futures.Future | None] = {}

    def submit(i: int) -> None:
        nonlocal executor
        for attempt in (0, 1):
            try:
                ahead[i] = executor.submit(_write_chunk, chunks[i], str(cache.root), cache.size)
                return
            except (RuntimeError, concurrent.futures.process.BrokenProcessPool):
                if attempt:
                    ahead[i] = None
                    return
                thumbs._discard(executor)  # a worker died: a new pool for the rest
                executor = thumbs.pool()

    try:
        for i in range(min(limit, len(chunks))):
            submit(i)
        for i, batch in enumerate(chunks):
            future = ahead.pop(i)
            try:
                if future is None:
                    raise RuntimeError("the decode pool cannot start")
                got = future.result(timeout=thumbs._STALL_S * len(batch))
            except concurrent.futures.TimeoutError:
                got = [("thumbnail_error", "the decoder did not answer within "
                        f"{thumbs._STALL_S:.0f} s")] * len(batch)
                thumbs._discard(executor)
                thumbs._kill(executor)
                executor = thumbs.pool()
            except Exception as exc:  # noqa: BLE001 - a crashed worker fails its chunk
                got = [("thumbnail_error", f"decoder crashed: {type(exc).__name__}: {exc}")] \
                    * len(batch)
            results.extend(got)
            if i + limit < len(chunks):
                submit(i + limit)
            yield Progress(len(results), len(jobs), f"{len(results)} thumbnails", None)
    finally:
        for future in ahead.values():
            if future is not None:
                future.cancel()
    return results
