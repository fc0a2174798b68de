"""Headless smoke test of the frozen app: self-check, demo PACS, Orthanc, JPEG 2000, report, window."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Its own loopback address, so the smoke test never collides with the test suite's Orthanc.
ORTHANC_HOST, ORTHANC_DICOM, ORTHANC_HTTP = "127.0.0.51", 4242, 8042
JPEG2000_LOSSLESS = "1.2.840.10008.1.2.4.90"


class StepFailed(Exception):
    """A step that failed, or could not run: every step is required, none is optional."""


def _require(condition: bool, what: str) -> None:
    """A missing tool or part fails its step by name; no step is ever passed over."""
    if not condition:
        raise StepFailed(f"missing: {what}")


@dataclass
class Smoke:
    exe: Path
    data_dir: Path
    results: list[tuple[str, str, str, float]] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
        # The frozen app must stand alone: nothing from the build venv or the source tree.
        for name in ("PYTHONPATH", "PYTHONHOME", "PYTHON_KEYRING_BACKEND", "VIRTUAL_ENV",
                     "PACS_CONSOLE_TEST_KEYRING"):
            env.pop(name, None)
        env.update(extra)
        return env

    def run(self, *args: str, timeout: float = 120, env: dict | None = None,
            data_dir: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.exe)] + (["--data-dir", str(self.data_dir)] if data_dir else []) + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=env or self.env(), cwd=tempfile.gettempdir(), stdin=subprocess.DEVNULL)

    def step(self, name: str, fn: Callable[[], str]) -> None:
        start = time.perf_counter()
        try:
            detail, verdict = fn(), "OK"
        except Exception as exc:  # noqa: BLE001 - every step reports, the run goes on
            detail, verdict = f"{type(exc).__name__}: {exc}", "FAIL"
        seconds = time.perf_counter() - start
        self.results.append((verdict, name, detail, seconds))
        print(f"[{verdict:^4}] {name} ({seconds:.1f} s): {detail}", flush=True)

    @property
    def failed(self) -> list[str]:
        return [name for verdict, name, _, _ in self.results if verdict == "FAIL"]


def _check(proc: subprocess.CompletedProcess, what: str, code: int = 0) -> None:
    if proc.returncode != code:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise StepFailed(f"{what}: exit {proc.returncode} (expected {code})\n{tail}")


# -- steps -----------------------------------------------------------------------------------
def version(s: Smoke) -> str:
    from pacs_console import __version__

    proc = s.run("--version", data_dir=False)
    _check(proc, "--version")
    if proc.stdout.strip() != f"pacs-console {__version__}":
        raise StepFailed(f"--version printed {proc.stdout.strip()!r}")
    return proc.stdout.strip()


def subcommands(s: Smoke) -> str:
    """Every registered subcommand imports in the frozen app (a missed hidden import fails here)."""
    from pacs_console.commands import COMMAND_MODULES

    problems, names = [], []
    top = s.run("--help", data_dir=False)
    if top.returncode != 0:
        problems.append(f"--help: exit {top.returncode}: {top.stderr.strip().splitlines()[-1:]}")
    for module in COMMAND_MODULES:
        command = module_command(module)
        if command is None:
            continue
        sub = s.run(command, "--help", data_dir=False)
        if sub.returncode != 0:
            problems.append(f"{command} --help: exit {sub.returncode}: "
                            f"{sub.stderr.strip().splitlines()[-1:]}")
        names.append(command)
    if problems:
        raise StepFailed("; ".join(problems))
    return f"--help and {len(names)} subcommand --help pages: {', '.join(names)}"


def module_command(module: str) -> str | None:
    """The first subcommand a COMMAND_MODULES entry registers (source parser as the reference)."""
    import argparse
    from importlib import import_module

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    import_module(f"pacs_console.commands.{module}").register(sub)
    return next(iter(sub.choices), None)


def self_check(s: Smoke) -> str:
    """Without a Secret Service: everything passes but the keyring, which must say memory-only."""
    proc = s.run("--self-check", env=s.env(DBUS_SESSION_BUS_ADDRESS="disabled:"))
    lines = proc.stdout.strip().splitlines()
    failed = [line for line in lines if line.startswith("[FAIL]")]
    others = [line for line in failed if not line.startswith("[FAIL] keyring:")]
    if others or proc.returncode not in (0, 1) or not lines:
        raise StepFailed("\n".join(others or lines[-10:] or [proc.stderr[-2000:]]))
    keyring = next((line for line in lines if "keyring:" in line), "")
    if failed and "memory only" not in keyring:
        raise StepFailed(f"keyring line does not say secrets stay in memory: {keyring}")
    return f"{len(lines) - 1} checks; keyring: {keyring.split('keyring:', 1)[1].strip()[:110]}"


def self_check_secret_service(s: Smoke) -> str:
    """Inside a D-Bus session with GNOME Keyring: keyring found its backends through metadata."""
    _require(bool(shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
             "dbus-run-session and gnome-keyring-daemon (Debian: dbus, gnome-keyring; "
             "dev-install.sh --build installs them)")
    script = ("echo -n smoke | gnome-keyring-daemon --unlock --components=secrets >/dev/null; "
              f"exec '{s.exe}' --data-dir '{s.data_dir}' --self-check")
    env = s.env()
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    proc = subprocess.run(["dbus-run-session", "--", "sh", "-c", script], capture_output=True,
                          text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)
    _check(proc, "--self-check with a Secret Service")
    keyring = next(line for line in proc.stdout.splitlines() if "keyring:" in line)
    if "SecretService" not in keyring:
        raise StepFailed(f"expected the SecretService backend: {keyring}")
    return "all checks passed; " + keyring.split("keyring:", 1)[1].strip()[:90]


def demo_pacs(s: Smoke) -> str:
    proc = subprocess.Popen([str(s.exe), "--data-dir", str(s.data_dir), "demo-pacs", "--port", "0",
                             "--json"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=s.env())
    try:
        line = proc.stdout.readline()
        if not line:
            raise StepFailed(f"demo-pacs printed nothing: {proc.stderr.read()[-2000:]}")
        info = json.loads(line)
        port = str(info["port"])
        echo = s.run("echo", "-aec", "DEMOPACS", "127.0.0.1", port, "--json")
        _check(echo, "echo the demo PACS")
        find = s.run("find", "-aec", "DEMOPACS", "--name", "*", "127.0.0.1", port, "--json")
        _check(find, "C-FIND on the demo PACS")
        matches = len(json.loads(find.stdout).get("matches", []))
        proc.stdin.close()  # end of input stops the server
        code = proc.wait(timeout=20)
        if code != 0:
            raise StepFailed(f"demo-pacs exit {code} after stdin closed")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return (f"DEMOPACS on 127.0.0.1:{port} ({info['instances']} instances): echo OK, "
            f"C-FIND {matches} studies, stopped cleanly on end of input")


def orthanc(s: Smoke) -> str:
    _require(Path("/usr/sbin/Orthanc").exists(),
             "Orthanc (Debian: orthanc; tests/peers/install.sh installs it)")
    sys.path.insert(0, str(ROOT))
    from tests.peers.orthanc import OrthancPeer

    peer = OrthancPeer("ORTHANC", ORTHANC_HOST, ORTHANC_DICOM, ORTHANC_HTTP,
                       modalities={"PACSCONSOLE": ("127.0.0.1", 11114)})
    peer.start()
    try:
        target = ["-aec", "ORTHANC", ORTHANC_HOST, str(ORTHANC_DICOM)]
        echo = s.run("echo", *target, "--json")
        _check(echo, "echo Orthanc")
        ms = json.loads(echo.stdout)["result"]["total_ms"]
        store = s.run("store", *target, "--generate", "3", "--compression", "jpeg2000", "--json")
        _check(store, "store JPEG 2000 into Orthanc")
        stored = len(peer.rest("GET", "/instances"))
        if stored != 3:
            raise StepFailed(f"Orthanc holds {stored} instances after storing 3")
    finally:
        peer.stop()
    return f"echo OK in {ms:.1f} ms; 3 generated JPEG 2000 instances stored and counted by REST"


def jpeg2000_decode(s: Smoke) -> str:
    from pacs_console.core.dicom.synth.studies import generate_study, write_study

    folder = Path(tempfile.mkdtemp(prefix="pacs-smoke-j2k-"))
    thumbs = folder / "thumbs"
    try:
        study = generate_study("CT", images=3, size=256, compression="jpeg2000", seed=9)
        write_study(study, folder / "in")
        proc = s.run("index", str(folder / "in"), "--thumbnails", str(thumbs), "--json")
        _check(proc, "index --thumbnails")
        files = json.loads(proc.stdout)["files"]
        bad = [f for f in files if f.get("transfer_syntax") != JPEG2000_LOSSLESS
               or "thumbnail" not in f or not Path(f["thumbnail"]).stat().st_size]
        if not files or bad:
            raise StepFailed(f"not decoded: {bad or 'no files'}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return f"{len(files)} JPEG 2000 lossless CT slices decoded to PNG thumbnails (process pool)"


def signed_report(s: Smoke) -> str:
    # A missing `report` subcommand is the missing hidden import this test exists to catch.
    probe = s.run("report", "--help", data_dir=False)
    _require("invalid choice" not in probe.stderr, "the `report` subcommand in the frozen app")
    _check(probe, "report --help")
    out = Path(tempfile.mkdtemp(prefix="pacs-smoke-report-")) / "sample-report.pdf"
    # No keyring and no terminal, as in CI: the sample signs with a throw-away SAMPLE key made
    # for the run, and verify says so with its own exit code (8).
    env = s.env(DBUS_SESSION_BUS_ADDRESS="disabled:")
    try:
        build = s.run("report", "build", "--sample", "--out", str(out), env=env)
        _check(build, "report build --sample")
        verify = s.run("report", "verify", str(out), env=env)
        _check(verify, "report verify", code=8)
        if "SAMPLE" not in verify.stdout or "intact" not in verify.stdout:
            raise StepFailed(f"report verify did not call the sample a sample:\n{verify.stdout}")
        size = out.stat().st_size
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    return f"sample report built ({size // 1024} KiB) and its sample signature verified"


def window(s: Smoke) -> str:
    start = time.perf_counter()
    proc = subprocess.Popen([str(s.exe), "--data-dir", str(s.data_dir), "--quit-after", "0.5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=s.env(PACS_CONSOLE_REPORT_SHOWN="1"))
    line = proc.stdout.readline()
    shown = time.perf_counter() - start
    code = proc.wait(timeout=60)
    if "WINDOW_SHOWN" not in line or code != 0:
        raise StepFailed(f"window not shown (exit {code}): {proc.stderr.read()[-2000:]}")
    return f"main window shown {shown:.2f} s after process start (offscreen), exit 0"


def licences(s: Smoke) -> str:
    """THIRD-PARTY-LICENSES travels with the app; no GPL-3.0 libjpeg inside it."""
    folder = s.exe.parent
    found = list(folder.rglob("THIRD-PARTY-LICENSES.txt"))
    _require(bool(found), "THIRD-PARTY-LICENSES.txt in the bundle")
    gpl = [p.relative_to(folder).as_posix() for p in folder.rglob("*")
           if p.name.startswith(("_libjpeg.", "pylibjpeg_libjpeg")) or p.parent.name == "libjpeg"]
    if gpl:
        raise StepFailed(f"GPL-3.0 pylibjpeg-libjpeg in the bundle: {', '.join(gpl[:5])}")
    lines = found[0].read_text(encoding="utf-8").splitlines()
    return f"{found[0].relative_to(folder)}: {len(lines) - 5} components; no pylibjpeg-libjpeg"


STEPS: list[tuple[str, Callable[[Smoke], str]]] = [
    ("version", version), ("subcommands import", subcommands), ("--self-check", self_check),
    ("--self-check with a Secret Service", self_check_secret_service),
    ("demo PACS: demo-pacs + echo + find", demo_pacs), ("real Orthanc: echo + store", orthanc),
    ("JPEG 2000 decode", jpeg2000_decode), ("signed report", signed_report),
    ("GUI start", window), ("licences", licences),
]


def run_smoke(exe: Path) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="pacs-smoke-"))
    smoke = Smoke(exe, data_dir)
    print(f"smoke test of {exe}", flush=True)
    try:
        for name, fn in STEPS:
            smoke.step(name, lambda fn=fn: fn(smoke))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    counts = {v: sum(r[0] == v for r in smoke.results) for v in ("OK", "FAIL")}
    print(f"smoke: {counts['OK']} passed, {counts['FAIL']} failed"
          + (f" ({', '.join(smoke.failed)})" if smoke.failed else ""), flush=True)
    return 1 if smoke.failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    default = ROOT / "dist" / "pacs-console" / "pacs-console"
    raise SystemExit(run_smoke(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
