"""What an engineer can open: a folder, a DICOMDIR, a zip, single files, the received store."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pacs_console.core import safepath
from pacs_console.core.errors import ConsoleError, Diagnosis


@dataclass(frozen=True)
class SourceListing:
    """The files a source holds; ``key`` names the source in the index."""

    kind: str  # folder | dicomdir | zip | file
    key: str
    root: Path
    files: list[Path] = field(default_factory=list)
    notes: tuple[str, ...] = ()


def walk_folder(root: Path) -> list[Path]:
    """Every regular file under ``root``, recursively; unreadable folders are skipped."""
    out: list[Path] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file():
                    out.append(Path(entry.path))
            except OSError:
                continue
    out.sort()
    return out


def _find_dicomdir(folder: Path) -> Path | None:
    for name in ("DICOMDIR", "dicomdir", "DicomDir"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def dicomdir_files(dicomdir: Path) -> list[Path]:
    """The instance files a DICOMDIR references, through pydicom's FileSet."""
    import warnings

    from pydicom import dcmread
    from pydicom.fileset import FileSet

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fileset = FileSet(dcmread(dicomdir))
        return [Path(instance.path) for instance in fileset]


ZIP_MAX_ENTRIES = 50_000
ZIP_MAX_BYTES = 4 << 30  # everything extracted from one archive
ZIP_MAX_RATIO = 1000  # an entry inflating more than this is a zip bomb, not a study


def _copy_bounded(src, out, budget: int) -> int:
    """Copy at most ``budget`` bytes; raises ValueError when the entry holds more."""
    written = 0
    while True:
        chunk = src.read(min(1 << 20, budget - written + 1))
        if not chunk:
            return written
        written += len(chunk)
        if written > budget:
            raise ValueError("the archive holds more than the size cap")
        out.write(chunk)


def _extract_zip(archive: Path, cache_dir: Path, *, max_entries: int = ZIP_MAX_ENTRIES,
                 max_bytes: int = ZIP_MAX_BYTES) -> tuple[Path, list[str]]:
    import hashlib  # the zip path's modules load only for a zip (a store never needs them)
    import shutil
    import zipfile

    stat = archive.stat()
    digest = hashlib.sha1(f"{archive.resolve()}|{stat.st_mtime_ns}|{stat.st_size}".encode()).hexdigest()
    target = cache_dir / "zips" / digest[:16]
    done = target.with_name(target.name + ".complete")  # beside, so it is never listed
    notes: list[str] = []
    if done.exists():
        return target, notes
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True, exist_ok=True)
    left = max_bytes
    with zipfile.ZipFile(archive) as zf:
        members = [info for info in zf.infolist() if not info.is_dir()]
        if len(members) > max_entries:
            notes.append(f"the archive lists {len(members)} files: only the first {max_entries} "
                         "were extracted")
            members = members[:max_entries]
        for info in members:
            parts = [p for p in Path(info.filename.replace("\\", "/")).parts if p not in ("", ".")]
            try:
                if not parts or ".." in parts or Path(info.filename).is_absolute():
                    raise safepath.UnsafePath("absolute or parent path")
                dest = safepath.join(target, *parts)
            except safepath.UnsafePath:
                notes.append(f"skipped unsafe member name {info.filename!r}")
                continue
            if info.compress_size and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1024):
                notes.append(f"skipped {info.filename!r}: it inflates {info.file_size} bytes from "
                             f"{info.compress_size} (a zip bomb?)")
                continue
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as out:
                    left -= _copy_bounded(src, out, left)
            except ValueError:
                dest.unlink(missing_ok=True)
                notes.append(f"extraction stopped at {info.filename!r}: more than "
                             f"{max_bytes >> 20} MB in the archive")
                break
            except Exception as exc:  # noqa: BLE001 - one bad member is reported, the rest go on
                notes.append(f"member {info.filename!r} could not be extracted: {exc}")
                dest.unlink(missing_ok=True)
    done.touch()
    return target, notes


def list_source(source: str | os.PathLike[str], cache_dir: Path) -> SourceListing:
    """Resolve what the engineer opened into files; raises ConsoleError with a diagnosis."""
    path = Path(source).expanduser()
    if not path.exists():
        raise ConsoleError(Diagnosis(
            "imaging.source-missing", f"{path} does not exist",
            ("the disc or USB drive was removed", "a typing mistake in the path"),
            ("check the drive is mounted", "pick the folder again"), {"path": str(path)}))
    path = path.resolve()
    key = str(path)
    if path.is_dir():
        dicomdir = _find_dicomdir(path)
        if dicomdir is not None:
            try:
                files = dicomdir_files(dicomdir)
                return SourceListing("dicomdir", key, path, files)
            except Exception as exc:  # noqa: BLE001 - a broken DICOMDIR falls back to a scan
                note = f"DICOMDIR unusable ({type(exc).__name__}: {exc}); scanned the folder instead"
                return SourceListing("folder", key, path, walk_folder(path), (note,))
        return SourceListing("folder", key, path, walk_folder(path))
    if path.name.upper() == "DICOMDIR":
        try:
            return SourceListing("dicomdir", key, path.parent, dicomdir_files(path))
        except Exception as exc:  # noqa: BLE001
            note = f"DICOMDIR unusable ({type(exc).__name__}: {exc}); scanned its folder instead"
            return SourceListing("folder", key, path.parent, walk_folder(path.parent), (note,))
    if not path.is_file():  # a device or pipe: listed, and refused unread by read_header
        return SourceListing("file", key, path.parent, [path])
    import zipfile

    if zipfile.is_zipfile(path):
        try:
            root, notes = _extract_zip(path, cache_dir)
        except Exception as exc:  # noqa: BLE001 - any broken archive becomes a diagnosis
            raise ConsoleError(Diagnosis(
                "imaging.zip-unreadable", f"The zip file {path.name} cannot be opened",
                ("the download or copy was cut short", "the archive is damaged"),
                ("copy the file again", "open it with another tool to check"),
                {"path": str(path), "error": str(exc)})) from exc
        inner = _find_dicomdir(root)
        files = walk_folder(root)
        if inner is not None:
            try:
                files = dicomdir_files(inner)
            except Exception as exc:  # noqa: BLE001
                notes.append(f"DICOMDIR in the zip unusable ({exc}); scanned the files instead")
        return SourceListing("zip", key, root, files, tuple(notes))
    return SourceListing("file", key, path.parent, [path])
