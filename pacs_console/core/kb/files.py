"""Files attached to knowledge articles (a trace, a log, a screenshot): PHI-free and bounded.

Articles travel to the helpdesk and to every colleague's laptop, so only what can be checked
goes in: text files are run through the one PHI module before they are kept; screenshots
(PNG, JPEG) only when the engineer confirms they show no patient; DICOM, PDF and anything
else are refused. One file holds at most ``MAX_FILE`` bytes, an article at most ``MAX_FILES``.
Files are kept by content (SHA-256) under the data folder; the article lists each as
``NAME sha256=HEX`` so every laptop and the helpdesk can tell which file is meant.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from pacs_console.core.kb.model import ArticleProblem
from pacs_console.core.phi import redact_text
from pacs_console.core.safepath import FileRefused, read_regular, read_regular_or

MAX_FILE = 1 << 20
MAX_FILES = 5
TEXT = {".txt": "text/plain", ".log": "text/plain", ".json": "application/json",
        ".csv": "text/csv", ".xml": "application/xml", ".cfg": "text/plain",
        ".conf": "text/plain", ".ini": "text/plain"}
IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_ENTRY = re.compile(r"^(?P<name>.+) sha256=(?P<sha>[0-9a-f]{64})$")
_NAME_BAD = re.compile(r"[\x00-\x1f\x7f/\\]+")


def display_name(name: str) -> str:
    """A label only (files are stored by hash): no folders, no control characters, bounded."""
    text = _NAME_BAD.sub("_", Path(str(name)).name).strip(" .") or "file"
    return text[-100:]


def entry(name: str, sha: str) -> str:
    return f"{display_name(name)} sha256={sha}"


def parse(item: str) -> tuple[str, str | None]:
    """(name, sha256) of an attachment entry; sha None for a name-only entry."""
    found = _ENTRY.match(item or "")
    return (found["name"], found["sha"]) if found else (item, None)


def media_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return TEXT.get(suffix) or IMAGES.get(suffix) or "application/octet-stream"


def path_of(files_dir: Path, sha: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha or ""):
        raise ArticleProblem(f"not a file digest: {sha!r}")
    return Path(files_dir) / sha[:2] / sha


def checked(name: str, data: bytes, *, confirm_no_phi: bool = False) -> bytes:
    """The bytes to keep for a file named ``name``, or ArticleProblem saying why not."""
    suffix = Path(name).suffix.lower()
    if len(data) > MAX_FILE:
        raise ArticleProblem(f"{name} holds {len(data)} bytes, more than the {MAX_FILE} an "
                             "article file may hold")
    if data[128:132] == b"DICM" or suffix in (".dcm", ".dicom"):
        raise ArticleProblem(f"{name} is a DICOM file: it carries patient data and is never "
                             "attached to an article (de-identify it and attach a screenshot)")
    if suffix in TEXT:
        text = data.decode("utf-8", errors="replace")
        return redact_text(text).encode("utf-8")
    if suffix in IMAGES:
        if not confirm_no_phi:
            raise ArticleProblem(f"{name} is an image: a screenshot may show a patient's name; "
                                 "check it shows none, then attach it with --confirm-no-phi")
        return data
    raise ArticleProblem(f"{name}: only text files ({', '.join(sorted(TEXT))}) and screenshots "
                         f"({', '.join(sorted(IMAGES))}) can be attached to an article")


def store(files_dir: Path, data: bytes) -> str:
    """Keep ``data`` by content; returns its SHA-256."""
    sha = hashlib.sha256(data).hexdigest()
    target = path_of(files_dir, sha)
    if target.exists():
        return sha
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return sha


def attach(db, files_dir: Path, ref, source: Path, *, confirm_no_phi: bool = False):
    """Check, scrub and keep a file, and list it on the article (which then goes out)."""
    from pacs_console.core.kb.store import get_article, update_article

    article = get_article(db, ref)
    kept = [a for a in article.attachments if parse(a)[1]]
    if len(kept) >= MAX_FILES:
        raise ArticleProblem(f"article {article.id} already has {MAX_FILES} files")
    data = read_regular_or(source, MAX_FILE, ArticleProblem)
    sha = store(files_dir, checked(Path(source).name, data, confirm_no_phi=confirm_no_phi))
    listed = entry(Path(source).name, sha)
    if listed in article.attachments:
        return article
    return update_article(db, article.id, attachments=(*article.attachments, listed))


def read(files_dir: Path, item: str) -> tuple[str, bytes] | None:
    """(name, bytes) of an attachment entry kept here; None when it is a name only or the
    file is not on this laptop (yet)."""
    name, sha = parse(item)
    if sha is None:
        return None
    try:
        data = read_regular(path_of(files_dir, sha), MAX_FILE)
    except (OSError, FileRefused):
        return None
    return (name, data) if hashlib.sha256(data).hexdigest() == sha else None
