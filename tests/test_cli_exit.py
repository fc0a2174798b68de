"""A finished command line ends without tearing the interpreter down (``cli.exit_quickly``):
what it printed, what it logged and its exit code all arrive as with the ordinary exit, and a
thread it still waits for keeps the ordinary exit."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def _console(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pacs_console", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_output_log_and_exit_code_arrive_through_the_quick_exit(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.json").write_text("{not json")  # logged as an error
    missing = tmp_path / "nothing-here.dcm"
    proc = _console("--data-dir", str(tmp_path), "store", "-aec", "X", "127.0.0.1", "9",
                    str(missing))
    assert proc.returncode == 2, proc.stderr[-2000:]  # only unreadable input: usage
    assert f"skipped {missing}" in proc.stdout and "0 sent" in proc.stdout
    assert "Traceback" not in proc.stderr
    log = (tmp_path / "logs" / "pacs-console.log").read_text(encoding="utf-8")
    assert "Settings unusable, running on defaults" in log  # flushed and closed at exit


_WAITS = """
import atexit, sys, threading, time
from pacs_console.cli import exit_quickly
atexit.register(lambda: print("exit handler ran", flush=True))
late = threading.Thread(target=lambda: (time.sleep(0.3), print("thread done", flush=True)))
if sys.argv[1] == "thread":
    late.start()
print("result", flush=False)  # still buffered when the process ends
exit_quickly(3)
print("ordinary exit")
"""


def test_quick_exit_runs_exit_handlers_and_flushes_but_waits_for_live_threads():
    quick = subprocess.run([sys.executable, "-c", _WAITS, "none"], capture_output=True,
                           text=True, timeout=60, cwd=ROOT)
    assert quick.returncode == 3 and quick.stdout.split("\n") == [
        "result", "exit handler ran", ""], quick.stdout + quick.stderr
    ordinary = subprocess.run([sys.executable, "-c", _WAITS, "thread"], capture_output=True,
                              text=True, timeout=60, cwd=ROOT)
    assert ordinary.returncode == 0, ordinary.stderr[-2000:]
    assert ordinary.stdout.split("\n") == [
        "result", "ordinary exit", "thread done", "exit handler ran", ""], ordinary.stdout
