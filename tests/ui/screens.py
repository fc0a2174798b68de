"""``python -m tests.ui.screens OUT_DIR``: a PNG of every panel and the main dialogs, populated.

The real main window runs offscreen on a fresh data folder with the embedded demo PACS, at
1366×768 (OUT_DIR), 1920×1080 (OUT_DIR/1920x1080) and at 2× scaling of a 1366×768 desktop
(OUT_DIR/2x). Each size runs in its own child process because the offscreen screen and the
scale factor are fixed when Qt starts. This is a screenshot tool for reviewers and for the
README, not a test: it fills the panels through core functions and the panels' own buttons.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README_SHOT = ROOT / "resources" / "docs" / "main-window.png"
# (subfolder, physical screen size, scale factor): logical desktop = size / scale.
RUNS = (("", (1366, 768), 1), ("1920x1080", (1920, 1080), 1), ("2x", (2732, 1536), 2))


def offscreen_env(width: int, height: int, scale: int, folder: Path) -> dict[str, str]:
    """Environment for a Qt child whose offscreen screen is width×height at the given scale."""
    config = folder / f"screen-{width}x{height}.json"
    config.write_text(json.dumps({"screens": [{"name": "laptop", "x": 0, "y": 0, "width": width,
                                               "height": height, "logicalDpi": 96}]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
           "PYTHON_KEYRING_BACKEND": "tests.memkeyring.MemoryKeyring",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("QT_SCALE_FACTOR", None)
    if scale != 1:
        env["QT_SCALE_FACTOR"] = str(scale)
    return env


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--one":
        return _one(Path(argv[1]))
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python -m tests.ui.screens OUT_DIR", file=sys.stderr)
        return 2
    out = Path(argv[0]).resolve()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="screens-") as scratch:
        for sub, (width, height), scale in RUNS:
            target = out / sub if sub else out
            target.mkdir(parents=True, exist_ok=True)
            env = offscreen_env(width, height, scale, Path(scratch))
            started = time.monotonic()
            done = subprocess.run([sys.executable, "-m", "tests.ui.screens", "--one", str(target)],
                                  cwd=ROOT, env=env, timeout=900)
            count = len(list(target.glob("*.png")))
            print(f"{sub or '1366x768'}: {count} PNGs in {target} "
                  f"({time.monotonic() - started:.0f} s, exit {done.returncode})")
            failed += done.returncode != 0
    main_png = out / "tests-verify.png"
    if not failed and main_png.exists():
        README_SHOT.parent.mkdir(parents=True, exist_ok=True)
        README_SHOT.write_bytes(main_png.read_bytes())
        print(f"README screenshot: {README_SHOT}")
    return 1 if failed else 0


def _one(out: Path) -> int:
    from tests.ui.screens_fill import Shooter

    os.environ["PACS_CONSOLE_SIGNING_PASSPHRASE"] = "screenshots only"
    with tempfile.TemporaryDirectory(prefix="screens-data-") as data:
        shooter = Shooter(Path(data), out)  # the Storage SCP on any free port
        try:
            shooter.run()
        finally:
            shooter.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
