"""The one safe-file-name function: every name built from network or file data goes through here.

A DICOM UID that matches the UID grammar (digits and dots, no empty component, at most 64
characters) is used as it is; anything else (``..``, ``/``, NUL, an absolute path, Unicode, an
over-long value) gets a name derived from its hash, so it can never steer a path. The final
path is then checked to lie inside its root.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

_UID = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}")
UID_MAX = 64


class UnsafePath(ValueError):
    """A path built from outside data would have left its root."""


def is_uid(value: str) -> bool:
    """True when ``value`` follows the DICOM UID grammar (PS3.5 9.1), at most 64 characters."""
    return len(value) <= UID_MAX and _UID.fullmatch(value) is not None


def hashed(value: object, prefix: str = "x") -> str:
    """A stable, safe name for any value: ``prefix-`` and 24 hex digits of its SHA-256."""
    import hashlib  # ~1-2 ms (OpenSSL) that most commands never need

    raw = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
    return f"{prefix}-{hashlib.sha256(raw).hexdigest()[:24]}"


def uid_name(value: object, fallback: str = "unknown") -> str:
    """A file or folder name for a UID read from the network or a file.

    Empty or missing values give ``fallback`` (a fixed word chosen by the caller); a valid
    UID is kept; anything else gets a hashed name."""
    text = "" if value is None else str(value)
    text = text.rstrip("\x00 ")  # DICOM pads UIDs with NUL (and careless writers with space)
    if not text:
        if not _PLAIN.fullmatch(fallback):
            raise ValueError(f"fallback {fallback!r} is not a plain name")
        return fallback
    return text if is_uid(text) else hashed(text)


def inside(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """``path`` if it lies inside ``root`` once symbolic links and ``..`` are resolved;
    raises UnsafePath otherwise."""
    # On strings (pathlib costs a received instance more than its checks): the same resolution
    # (realpath is what Path.resolve uses) and the same containment, case-folded where the
    # system folds case.
    base = os.path.realpath(root)
    target = os.fspath(path)
    if not os.path.isabs(target):
        target = os.path.join(base, target)
    resolved = os.path.normcase(os.path.realpath(target))
    folded = os.path.normcase(base)
    if resolved != folded and not resolved.startswith(os.path.join(folded, "")):
        raise UnsafePath(f"{str(path)!r} would be written outside {base!r}")
    return Path(target)


def join(root: str | os.PathLike[str], *names: str) -> Path:
    """``root/names...`` checked with :func:`inside`; each name must be a single component."""
    for name in names:
        if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
            raise UnsafePath(f"{name!r} is not a single safe path component")
    return inside(root, os.path.join(root, *names))


def instance_path(root: str | os.PathLike[str], study_uid: object, series_uid: object,
                  sop_uid: object, suffix: str = ".dcm") -> Path:
    """``root/STUDY/SERIES/SOP.dcm`` for a received instance, every name made safe."""
    return join(root, uid_name(study_uid, "unknown-study"), uid_name(series_uid, "unknown-series"),
                uid_name(sop_uid, "unknown-instance") + suffix)


class FileRefused(ValueError):
    """A file that is not read: not a regular file, or larger than its cap."""


def read_regular(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; devices, pipes, folders and larger
    files raise FileRefused before anything is read (OSError when it cannot be opened)."""
    import stat

    with open(path, "rb", buffering=0) as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(f"{os.fspath(path)} is not a regular file (a device, pipe or folder)")
        if st.st_size > max_bytes:
            raise FileRefused(f"{os.fspath(path)} holds {st.st_size} bytes, more than the "
                              f"{max_bytes} this reads")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileRefused(f"{os.fspath(path)} grew past {max_bytes} bytes while being read")
    return data


def read_regular_or(path: str | os.PathLike[str], max_bytes: int,
                    error: Callable[[str], Exception]) -> bytes:
    """``read_regular`` for a caller with its own error type: ``error`` with one line saying
    what was refused, or why the system could not read the file."""
    try:
        return read_regular(path, max_bytes)
    except FileRefused as exc:
        raise error(str(exc)) from exc
    except OSError as exc:
        raise error(f"Cannot read {os.fspath(path)}: {exc.strerror or exc}") from exc
