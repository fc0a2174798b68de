"""Shared plumbing for the whole-process benchmarks: the peers on this run's random loopback
network (tests/peers/net.py, OS-assigned ports), timed child processes and generated studies."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.peers.net import addr, free_port

ROOT = Path(__file__).resolve().parents[2]  # the checkout under test (python -m runs from here)
SCU = "PACSCONSOLE"  # the console's default AE title, and the DCMTK tools' calling AE
SINK_AET = "BENCHSTORE"
DCMTK_ENV = {**os.environ, "TCP_NODELAY": "1"}
CONSOLE = [sys.executable, "-m", "pacs_console"]
_state: dict = {}
# Python children (the console and the plain loops) keep byte-code caches as an installed
# program has them: in a private prefix, since PYTHONDONTWRITEBYTECODE may be set here (it
# made every start-up compile the console's sources again, ~100 ms).
_PYCACHE = tempfile.mkdtemp(prefix="pacs-bench-pycache-")
atexit.register(shutil.rmtree, _PYCACHE, True)
PY_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
PY_ENV["PYTHONPYCACHEPREFIX"] = _PYCACHE


def scratch(prefix: str) -> Path:
    """A temp folder removed at exit (studies hold hundreds of MB)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path


GNU_TIME = "/usr/bin/time"


def _tree_rss_kb(pid: int) -> int:
    """The resident memory of a process and all its descendants, summed (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as fh:
                total += next((int(line.split()[1]) for line in fh
                               if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as fh:
                    stack.extend(int(child) for child in fh.read().split())
        except (OSError, ValueError):
            continue  # gone meanwhile
    return total


def _sample_tree(proc: subprocess.Popen, peak: list[int]) -> None:
    while proc.returncode is None and os.path.exists(f"/proc/{proc.pid}"):
        peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
        time.sleep(0.05)


def timed(args: list[str], *, env: dict | None = None, ok=(0,), rusage: bool = False):
    """Run a whole process; its wall time in seconds (with ``rusage`` also its peak memory in
    MB: the largest of its own peak, that of any process it waited for, and the summed RSS of
    its whole process tree sampled every 50 ms, which counts a worker pool it does not wait
    for). A child of this process counts this process's own peak (Linux records the memory
    it had before exec), so with ``rusage`` the command runs under GNU time, a small parent,
    where it is installed."""
    import threading

    report, tree_peak, sampler = None, [0], None
    if rusage and os.path.exists(GNU_TIME):
        fd, report = tempfile.mkstemp(prefix="pacs-bench-rss-")
        os.close(fd)
        args = [GNU_TIME, "-f", "%M", "-o", report, *args]
    start = time.perf_counter()
    try:
        with tempfile.TemporaryFile() as out:
            proc = subprocess.Popen(args, stdout=out, stderr=out, cwd=ROOT, env=env or PY_ENV)
            if rusage and os.path.exists(f"/proc/{proc.pid}/task"):
                sampler = threading.Thread(target=_sample_tree, args=(proc, tree_peak),
                                           daemon=True)
                sampler.start()
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            if sampler is not None:
                sampler.join()
            if proc.returncode not in ok:
                out.seek(0)
                raise RuntimeError(f"{' '.join(map(str, args[:6]))}... exit {proc.returncode}: "
                                   f"{out.read().decode(errors='replace')[-400:]}")
        peak_kb = usage.ru_maxrss
        if report is not None:  # its last line: the peak in KB
            peak_kb = int(Path(report).read_text().split()[-1])
        peak_kb = max(peak_kb, tree_peak[0])
    finally:
        if report is not None:
            os.unlink(report)
    return (elapsed, peak_kb / 1024) if rusage else elapsed


def first_line(args: list[str]) -> tuple[float, float]:
    """(seconds to the first line on stdout, seconds to exit): what the user waits to see the
    answer, and to get the prompt back."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            env=PY_ENV)
    proc.stdout.readline()
    shown = time.perf_counter() - start
    out, err = proc.communicate()
    done = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {err.decode(errors='replace')[-400:]}")
    return shown, done


def dcmtk(*args: str) -> float:
    return timed(list(args), env=DCMTK_ENV)


# -- peers ------------------------------------------------------------------------------------
def ports() -> dict[str, int]:
    if "ports" not in _state:
        _state["ports"] = {"console_scp": free_port("127.0.0.1")}
    return _state["ports"]


def orthanc():
    from tests.peers.orthanc import OrthancPeer

    peer = _state.get("orthanc")
    if peer is None:
        host = addr(21)
        peer = OrthancPeer("ORTHANC", host, free_port(host), free_port(host), modalities={
            SCU: ("127.0.0.1", ports()["console_scp"]), SINK_AET: (addr(22), sink().dicom_port)})
        _state["orthanc"] = peer
    if not peer.running:
        peer.start()
    return peer


def sink():
    """DCMTK storescp, the destination movescu moves into."""
    from tests.peers.dcmtk import StorescpPeer

    peer = _state.get("sink")
    if peer is None:
        host = addr(22)
        peer = StorescpPeer(SINK_AET, host, free_port(host))
        _state["sink"] = peer
    if not peer.running:
        peer.start()
    return peer


def stop_peers() -> None:
    for key in ("orthanc", "sink"):
        peer = _state.pop(key, None)
        if peer is not None:
            peer.stop()


def data_dir() -> Path:
    """The console's --data-dir for this run (settings on defaults: AE title PACSCONSOLE)."""
    if "data" not in _state:
        _state["data"] = scratch("pacs-bench-data-")
    return _state["data"]


def console(*args: str, data: Path | None = None) -> list[str]:
    return [*CONSOLE, "--data-dir", str(data or data_dir()), *args]


def target_args() -> list[str]:
    peer = orthanc()
    return ["-aec", peer.aet, peer.host, str(peer.dicom_port)]


def dcmtk_target() -> list[str]:
    peer = orthanc()
    return ["-aet", SCU, "-aec", peer.aet, peer.host, str(peer.dicom_port)]


# -- studies ------------------------------------------------------------------------------------
def study(name: str, modality: str, images: int, series: int, size: int, *,
          parts: int = 1) -> Path:
    """A generated study on disk, made in a child process (its datasets never sit in this one),
    split into ``parts`` sub-folders (for several storescu processes)."""
    key = f"study:{name}"
    if key not in _state:
        folder = scratch(f"pacs-bench-{name}-") / "study"
        subprocess.run([sys.executable, "-c", _GENERATE, modality, str(images), str(series),
                        str(size), str(parts), str(folder)], check=True, cwd=ROOT)
        _state[key] = folder
    return _state[key]


_GENERATE = """
import sys
from pathlib import Path
from pacs_console.core.dicom.synth.studies import generate_study, write_study
modality, images, series, size, parts, folder = sys.argv[1], *map(int, sys.argv[2:6]), Path(sys.argv[6])
done = 0
for part in range(parts):
    count = images // parts + (1 if part < images % parts else 0)
    sets = generate_study(modality, images=images, series=series, size=size, seed=77)[done:done + count]
    write_study(sets, folder / f"part{part}" if parts > 1 else folder)
    done += count
"""

# A large study made from a small one: each series' template image saved again under new
# instance UIDs, so 10,000 images never sit in memory together.
_REPLICATE = """
import sys
from pathlib import Path
from pydicom.uid import generate_uid
from pacs_console.core.dicom.synth.studies import generate_study
images, series, size, folder = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
folder.mkdir(parents=True, exist_ok=True)
templates = generate_study("CT", images=series, series=series, size=size, seed=78)
per = images // series
for s, ds in enumerate(templates):
    root = ds.SOPInstanceUID
    for i in range(per):
        uid = generate_uid(None, [root, str(i)])
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
        ds.InstanceNumber = i + 1
        ds.SliceLocation = ds.ImagePositionPatient[2] = float(i)
        ds.save_as(folder / f"S{s + 1:02d}_I{i + 1:05d}.dcm", enforce_file_format=True)
"""


def large_study(images: int, series: int, size: int) -> Path:
    key = f"large:{images}:{series}:{size}"
    if key not in _state:
        folder = scratch("pacs-bench-large-") / "study"
        subprocess.run([sys.executable, "-c", _REPLICATE, str(images), str(series), str(size),
                        str(folder)], check=True, cwd=ROOT)
        _state[key] = folder
    return _state[key]


def study_uid(folder: Path) -> str:
    import pydicom

    first = next(p for p in sorted(folder.rglob("*.dcm")))
    return str(pydicom.dcmread(first, stop_before_pixels=True).StudyInstanceUID)
