"""Rendered page images of a report for previews, with poppler's pdftoppm."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from pacs_console.core.errors import ConsoleError, Diagnosis


def render_pages(pdf: Path, out_dir: Path, *, dpi: int = 60, first: int | None = None,
                 last: int | None = None, timeout: float = 60) -> list[Path]:
    """PNG files, one per page, in page order."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise ConsoleError(Diagnosis(
            "preview-tool-missing", "Pages cannot be previewed: pdftoppm is not installed",
            ("poppler-utils is missing on this computer",),
            ("Install poppler-utils (Linux) or open the PDF in any PDF reader",)))
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("page-*.png"):
        old.unlink()
    cmd = [tool, "-r", str(dpi), "-png"]
    if first:
        cmd += ["-f", str(first)]
    if last:
        cmd += ["-l", str(last)]
    proc = subprocess.run(cmd + [str(pdf), str(out_dir / "page")], capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise ConsoleError(Diagnosis(
            "preview-failed", f"pdftoppm could not render {Path(pdf).name}",
            ("The PDF is damaged",), ("Generate the report again",),
            {"stderr": proc.stderr.strip()[:300], "exit": str(proc.returncode)}))
    return sorted(out_dir.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
