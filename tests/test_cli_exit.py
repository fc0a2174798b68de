"""A finished command line ends without tearing the interpreter down (``cli.exit_quickly``):
what it printed, what it logged and its exit code all arrive as with the ordinary exit, and a
thread it still waits for keeps the ordinary exit."""

from __future__ import annotations

import os
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


_COLLECTS = """
import gc, os, sys, threading
from pacs_console import cli
real_main, returned = cli.main, []

def main():
    code = real_main(["--data-dir", sys.argv[2], "store", "-aec", "X", "127.0.0.1", "9",
                      os.path.join(sys.argv[2], "missing.dcm")])
    returned.append(gc.get_count()[0])  # the young objects the command leaves behind
    return code

cli.main = main
gc.callbacks.append(lambda phase, info: returned and phase == "start"
                    and os.write(1, b"collected\\n"))
waiting = threading.Event()
if sys.argv[1] == "thread":  # alive until the end: the ordinary exit waits for it
    threading.Thread(target=waiting.wait, args=(60,)).start()
cli.entry()
print(f"ordinary exit; collector enabled: {gc.isenabled()}, young objects: {returned[0]}")
waiting.set()
"""


def test_the_quick_exit_walks_no_young_objects_and_the_ordinary_exit_collects_again(tmp_path):
    """main() gives the collector back Python's threshold, and the command leaves thousands of
    young objects: a process that ends at once does not walk them (~2.5 ms after a store); one
    that waits for a live thread collects as ever."""
    quick = subprocess.run([sys.executable, "-c", _COLLECTS, "none", str(tmp_path)],
                           capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert quick.returncode == 2, quick.stderr[-2000:]  # nothing to send: usage
    assert "collected" not in quick.stdout and "ordinary exit" not in quick.stdout
    ordinary = subprocess.run([sys.executable, "-c", _COLLECTS, "thread", str(tmp_path)],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert ordinary.returncode == 0, ordinary.stderr[-2000:]
    line = next(x for x in ordinary.stdout.splitlines() if x.startswith("ordinary exit"))
    assert line.startswith("ordinary exit; collector enabled: True"), ordinary.stdout
    assert int(line.rsplit(" ", 1)[1]) > 700  # more than Python's threshold: it would collect


def test_output_into_a_closed_pipe_ends_quietly_as_a_unix_tool_does(tmp_path):
    """`pacs-console profile show | head -0`: the reader is gone before the command writes; the
    command ends by SIGPIPE, as cat would, with no BrokenPipeError traceback."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "pacs_console", "--data-dir", str(tmp_path),
                               "profile", "show"], stdout=write, stderr=subprocess.PIPE,
                              text=True, timeout=120, cwd=ROOT)
    finally:
        os.close(write)
    assert proc.returncode == -13, (proc.returncode, proc.stderr[-2000:])  # -SIGPIPE
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


_POOL_FROM_A_DAEMON = """
import sys, threading
from concurrent.futures import ProcessPoolExecutor
from pacs_console.cli import exit_quickly
pools = []
def start():  # as index's read-ahead starts the decode pool: from a daemon thread
    pools.append(ProcessPoolExecutor(2))
    print(sum(pools[0].map(abs, [-1, -2])), flush=True)
starter = threading.Thread(target=start, daemon=True)
starter.start()
starter.join()
exit_quickly(4)
print("ordinary exit", flush=True)
sys.exit(4)
"""


def test_a_process_pool_still_running_keeps_the_ordinary_exit_which_ends_its_workers():
    """A pool whose manager thread is a daemon (started from one) has workers that wait for
    work until told to end: only the ordinary exit tells them before multiprocessing's exit
    handler waits for them. The quick exit used to run that handler first and wait forever."""
    proc = subprocess.run([sys.executable, "-c", _POOL_FROM_A_DAEMON], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 4 and proc.stdout.split() == ["3", "ordinary", "exit"], proc


def test_index_of_a_folder_its_readers_help_with_ends(tmp_path):
    """`index` of more files than it reads alone (4 chunks of 24) starts the reader pool; the
    command ends when the work does, with and without thumbnails (it once never ended)."""
    from pacs_console.core.dicom.synth.studies import generate_study
    from tests.core.dicom_ops.helpers import part10

    folder = tmp_path / "study"
    folder.mkdir()
    for i, ds in enumerate(generate_study("CT", images=120, series=1, size=16, seed=3)):
        (folder / f"{i:03d}.dcm").write_bytes(part10(ds))
    for extra in ((), ("--thumbnails", str(tmp_path / "png"))):
        proc = _console("--data-dir", str(tmp_path / f"data{len(extra)}"), "index", *extra,
                        str(folder))
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "120 files (folder): 120 ok, 0 refused; 120 read" in proc.stdout
    assert len(list((tmp_path / "png").rglob("*.png"))) == 120 + 1  # and the series tile
