"""Thumbnails: a disk cache keyed by SOP Instance UID and mtime, filled by a process pool."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import struct
import threading
import time
import zlib
from collections.abc import Generator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from pacs_console.core.models import Progress

TYPE_CHECKING = False
if TYPE_CHECKING:  # numpy loads where an image is handled: an index's own process needs none
    import numpy as np

THUMB_SIZE = 128
CHUNK = 8  # tiles a pool task once there are enough to keep every worker busy


@dataclass(frozen=True)
class ThumbJob:
    """``key`` is the caller's handle (e.g. a series UID); the rest locates the image."""

    key: object
    path: str
    sop_uid: str
    mtime_ns: int


@dataclass(frozen=True)
class ThumbResult:
    key: object
    image: np.ndarray | None  # uint8 HxW or HxWx3
    reason: str = ""  # why there is no image
    cached: bool = False


@dataclass
class ThumbSummary:
    done: int = 0
    failed: int = 0
    cached: int = 0
    seconds: float = 0.0


def _make(path: str, size: int) -> tuple[np.ndarray | None, str]:
    """Runs in a pool process: never raises, a failure comes back as its reason."""
    from pacs_console.core.imaging.render import explain_decode_error, thumbnail

    try:
        return thumbnail(path, size), ""
    except Exception as exc:  # noqa: BLE001 - any decoder failure becomes a placeholder
        return None, explain_decode_error(exc)


def cached_or_made(cache: ThumbCache, path: str, sop_uid: str, mtime_ns: int, *,
                   keep: bool = True) -> tuple[np.ndarray | None, str, bool]:
    """(image, reason, whether it came from the cache): the cached tile, else one made now
    (and cached, with ``keep``). Never raises for one image."""
    hit = cache.get(sop_uid, mtime_ns)
    if hit is not None:
        return hit[0], hit[1], True
    image, reason = _make(path, cache.size)
    if keep:
        cache.put(sop_uid, mtime_ns, image, reason)
    return image, reason, False


def _tiles(root: str, size: int, jobs: Sequence[tuple[str, str, int]]
           ) -> list[tuple[np.ndarray | None, str, bool]]:
    """Runs in a pool process: each (path, SOP Instance UID, mtime) looked up in the cache or
    made and cached here, so the viewer's own process (whose GIL its GUI thread needs) only
    receives the tiles."""
    cache = ThumbCache(Path(root), size)
    return [cached_or_made(cache, *job) for job in jobs]


class ThumbCache:
    """``cache/thumbs/ab/<sha1>.npy`` (or ``.txt`` holding why it could not be made)."""

    def __init__(self, root: Path, size: int = THUMB_SIZE) -> None:
        self.root, self.size = Path(root), size

    def _base(self, sop_uid: str, mtime_ns: int) -> Path:
        digest = hashlib.sha1(f"{sop_uid}|{mtime_ns}|{self.size}".encode()).hexdigest()
        return self.root / digest[:2] / digest

    def get(self, sop_uid: str, mtime_ns: int) -> tuple[np.ndarray | None, str] | None:
        import numpy as np

        base = self._base(sop_uid, mtime_ns)
        try:
            return np.load(base.with_suffix(".npy"), allow_pickle=False), ""
        except (OSError, ValueError):
            pass
        try:
            return None, base.with_suffix(".txt").read_text(encoding="utf-8")
        except OSError:
            return None

    def put(self, sop_uid: str, mtime_ns: int, image: np.ndarray | None, reason: str) -> None:
        base = self._base(sop_uid, mtime_ns)
        base.parent.mkdir(parents=True, exist_ok=True)
        tmp = base.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            if image is not None:
                import numpy as np

                with open(tmp, "wb") as fh:
                    np.save(fh, image, allow_pickle=False)
                os.replace(tmp, base.with_suffix(".npy"))
            else:
                tmp.write_text(reason, encoding="utf-8")
                os.replace(tmp, base.with_suffix(".txt"))
        except OSError:
            tmp.unlink(missing_ok=True)  # a cache that cannot be written only costs speed


_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_WARM = threading.Event()  # the current pool's processes are up
_SHUTDOWNS = 0  # explicit shutdown_pool() calls: work running then stops instead of restarting
_STALL_S = 60.0  # no tile for this long: the decoders are wedged, not slow (a tile takes ~0.1 s)
# How the pool's processes start (configure_pool): niceness, and what the forkserver preloads.
RENDER_PRELOAD = ("pacs_console.core.imaging.render", "pydicom", "numpy")
_OPTIONS: dict = {"nice": 10, "preload": RENDER_PRELOAD}


def configure_pool(*, nice: int = 10, preload: Sequence[str] = RENDER_PRELOAD) -> None:
    """How the decode pool starts next time it starts: its processes' niceness (10 keeps a
    window responsive while every core decodes; the command line has no window, and a user
    waiting on it gets the workers at normal priority, 0) and the modules the forkserver loads
    once for all of them (a header-only index needs no renderer)."""
    _OPTIONS.update(nice=nice, preload=tuple(preload))


def pool(workers: int | None = None) -> ProcessPoolExecutor:
    """The shared decode pool, one process per core, started once and reused."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            methods = multiprocessing.get_all_start_methods()
            # forkserver: children never inherit the GUI's threads (fork would), and the
            # server preloads numpy and pydicom once; Windows and macOS builds use spawn.
            method = "forkserver" if "forkserver" in methods else "spawn"
            context = multiprocessing.get_context(method)
            if method == "forkserver":
                context.set_forkserver_preload(list(_OPTIONS["preload"]))
            _POOL = ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 2,
                                        mp_context=context, initializer=_worker_start,
                                        initargs=(_OPTIONS["nice"],))
        return _POOL


def _worker_start(nice: int = 10) -> None:
    _background_priority(nice)
    _keep_freed_memory()


def _keep_freed_memory() -> None:
    """glibc maps blocks past 128 KB afresh and hands freed heap back past a few hundred KB,
    so a decoder's per-image temporaries (a 512² frame's mask and sums) are paged in anew for
    every image: about a fifth of a thumbnail's time. A worker takes blocks up to 32 MB from
    its heap and keeps up to 64 MB of it free (the bounds glibc's own adaptive policy reaches
    for large blocks). Elsewhere (another C library) nothing changes."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 64 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass  # not glibc (musl has no mallopt): its own policy stands


def _background_priority(nice: int = 10) -> None:
    """Pool processes yield the CPU to the GUI: with one decoder per core busy, the window
    would otherwise wait for a time slice and stutter while thumbnails are made."""
    if not nice:
        return
    try:
        os.nice(nice)
    except (AttributeError, OSError):
        pass  # Windows has no nice(); its scheduler already favours the foreground window


def warm_pool() -> None:
    """Start the worker processes ahead of the first real job."""
    executor = pool()
    for future in [executor.submit(os.getpid) for _ in range(executor._max_workers)]:
        future.result()
    if executor is _POOL:
        _WARM.set()


def pool_warm() -> bool:
    return _WARM.is_set()


def _discard(executor: ProcessPoolExecutor) -> None:
    global _POOL
    with _POOL_LOCK:
        if _POOL is executor:
            _POOL = None
            _WARM.clear()


def _kill(executor: ProcessPoolExecutor) -> None:
    """End a wedged pool's processes: left blocked (a dead NFS mount, a FIFO named .dcm), they
    would hold the interpreter's exit, which waits for every pool's work."""
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.terminate()
    executor.shutdown(wait=False, cancel_futures=True)


def shutdown_pool() -> None:
    """Stop the decoders (app quit, end of a CLI run); generators still running stop too."""
    global _POOL, _SHUTDOWNS
    with _POOL_LOCK:
        executor, _POOL = _POOL, None
        _SHUTDOWNS += 1
        _WARM.clear()
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)


def generate_thumbnails(jobs: Sequence[ThumbJob], cache: ThumbCache, *,
                        inline_first: int | None = None, in_flight: int | None = None
                        ) -> Generator[Progress, None, ThumbSummary]:
    """Yield a Progress whose ``item`` is a ThumbResult for each job, as each completes.

    The pool's processes look each job up in the cache and make (and cache) what is missing,
    a few tasks of up to ``CHUNK`` jobs in flight at a time, so this process does no
    per-image file work: in the viewer it shares its GIL with the GUI thread, and 2,000 cache
    lookups at a series click took ~75 ms of it. Unless the pool is already up, the first
    ``inline_first`` jobs (default 1) are looked up or made on this thread while it starts,
    so something paints at once.
    """
    if inline_first is None:
        # A warm pool decodes without competing for this process's GIL: faster than inline.
        inline_first = 0 if pool_warm() else 1
    start = time.perf_counter()
    summary = ThumbSummary()
    total = len(jobs)
    shutdowns = _SHUTDOWNS
    executor = pool() if len(jobs) > inline_first else None
    workers = executor._max_workers if executor else 1
    rest = list(jobs[inline_first:])
    # A series' thousands of tiles go a few a task (each round trip costs this process's GIL:
    # pickling, the pool's result thread, a wake-up); a handful go one a task, so a wedged
    # or crashing file fails only itself.
    per_task = max(1, min(CHUNK, len(rest) // (8 * workers)))
    limit = in_flight or (4 if per_task == 1 else 2) * workers
    running: dict[Future, list[ThumbJob]] = {}
    queue = [rest[i:i + per_task] for i in range(0, len(rest), per_task)][::-1]

    def feed() -> None:
        nonlocal executor
        while queue and len(running) < limit:
            chunk = queue.pop()
            args = (_tiles, str(cache.root), cache.size,
                    [(job.path, job.sop_uid, job.mtime_ns) for job in chunk])
            try:
                future = executor.submit(*args)
            except (RuntimeError, BrokenProcessPool):  # shut down or a worker died: start anew
                if _SHUTDOWNS != shutdowns:
                    return  # shut down on purpose: the loop below stops
                _discard(executor)
                executor = pool()
                future = executor.submit(*args)
            running[future] = chunk

    def result(job: ThumbJob, image, reason: str, cached: bool = False) -> Progress:
        summary.done += 1
        summary.cached += cached
        summary.failed += image is None
        return Progress(summary.done, total, "", ThumbResult(job.key, image, reason, cached))

    try:
        if executor is not None:
            feed()  # the pool works on these while the first tiles are made here
        for job in jobs[:inline_first]:
            yield result(job, *cached_or_made(cache, job.path, job.sop_uid, job.mtime_ns))
        last = time.perf_counter()
        while running:
            if executor is not _POOL:
                if _SHUTDOWNS != shutdowns:  # shut down on purpose (quit): stop, do not restart
                    break
                # Discarded as broken: hand the unfinished jobs to a new pool.
                queue.extend(chunk for future, chunk in running.items() if not future.done())
                running = {f: j for f, j in running.items() if f.done()}
                executor = pool()
                feed()
            finished, _ = wait(list(running), timeout=0.1, return_when=FIRST_COMPLETED)
            if finished:
                last = time.perf_counter()
            elif time.perf_counter() - last > _STALL_S:
                # Wedged decoders would otherwise hold this thread (and the app's exit) forever:
                # fail what they hold, drop the pool, go on with the rest in a new one.
                reason = f"the decoder did not answer within {_STALL_S:.0f} s"
                for future, chunk in running.items():
                    future.cancel()  # not cached: the file may be fine once decoders answer
                    for job in chunk:
                        yield result(job, None, reason)
                running, last = {}, time.perf_counter()
                _discard(executor)
                _kill(executor)
                executor = pool()
            for future in finished:
                chunk = running.pop(future)
                try:
                    got = future.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker fails its tiles
                    crashed = (None, f"decoder crashed: {type(exc).__name__}: {exc}")
                    for job in chunk:
                        cache.put(job.sop_uid, job.mtime_ns, *crashed)
                    got = [crashed] * len(chunk)
                for job, tile in zip(chunk, got, strict=True):
                    yield result(job, *tile)
            feed()
    finally:
        for future in running:
            future.cancel()
    summary.seconds = time.perf_counter() - start
    return summary


def write_png(path: str | os.PathLike[str], image: np.ndarray) -> None:
    """A minimal PNG writer (grey or RGB, 8-bit) so the CLI needs no imaging library."""
    import numpy as np

    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width = image.shape[:2]
    color = 2 if image.ndim == 3 else 0
    rows = np.zeros((height, 1 + width * (3 if color else 1)), np.uint8)  # filter 0 a row
    rows[:, 1:] = image.reshape(height, -1)
    raw = rows.tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + \
            struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    # zlib's fastest level: a thumbnail's PNG comes out ~5% larger than at the default level
    # 6, in half the time (the encode is a good part of what a thumbnail costs).
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + \
        chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b"")
    # A link planted where the file goes is not followed out of the folder (OSError instead).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_BINARY", 0), 0o666)
    with open(fd, "wb") as fh:
        fh.write(data)
