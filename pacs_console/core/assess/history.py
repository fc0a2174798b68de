"""Assessments kept per site (JSON under ``data/assessments``) and compared with the previous
one of the same site: fixed, new, still open."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pacs_console.core.safepath import FileRefused, hashed, join, read_regular

FOLDER = "assessments"
MAX_FILE = 16 << 20  # a /16's assessment is a few MB


def site_folder(data_dir: Path, site_key: str) -> Path:
    """One folder per site (or target text); its name is a hash, never the text itself."""
    return join(data_dir, FOLDER, hashed(site_key.strip().lower(), "site"))


def save(data_dir: Path, data: dict) -> Path:
    """Write one assessment (``Assessment.to_dict()``) atomically; returns its path."""
    folder = site_folder(data_dir, data.get("site") or data.get("targets") or "")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = "".join(ch for ch in str(data["started_at"]) if ch.isalnum())[:40] or "undated"
    path = join(folder, stamp + ".json")
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temp, path)
    return path


def load(path: Path) -> dict | None:
    """One saved assessment, or None when it is unreadable (never raises on a bad file)."""
    try:
        data = json.loads(read_regular(path, MAX_FILE))
    except (OSError, FileRefused, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("findings"), list) else None


def saved(data_dir: Path, site_key: str) -> list[dict]:
    """Every readable assessment of the site, oldest first."""
    folder = site_folder(data_dir, site_key)
    items = [d for p in (folder.glob("*.json") if folder.is_dir() else ()) if (d := load(p))]
    return sorted(items, key=lambda d: str(d.get("started_at", "")))


def previous(data_dir: Path, site_key: str, before: str) -> dict | None:
    """The last assessment of the site that started before ``before`` (ISO time)."""
    older = [d for d in saved(data_dir, site_key) if str(d.get("started_at", "")) < before]
    return older[-1] if older else None


def _key(f: dict) -> tuple:
    return (str(f.get("host")), int(f.get("port") or 0), str(f.get("check")))


def compare(before: dict | None, after: dict) -> dict:
    """``{"previous": time or None, "fixed": [...], "new": [...], "still_open": [...]}``."""
    old = {_key(f): f for f in (before or {}).get("findings", []) if isinstance(f, dict)}
    new = {_key(f): f for f in after.get("findings", [])}
    return {"previous": (before or {}).get("started_at"),
            "previous_score": (before or {}).get("score"),
            "fixed": [old[k] for k in old if k not in new],
            "new": [new[k] for k in new if k not in old] if before else [],
            "still_open": [new[k] for k in new if k in old]}
