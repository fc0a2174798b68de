"""Clear words where it failed: no display, no terminal, no keyring, end of input at a prompt.

Every command runs as a child process the way a script, a cron job or an ssh session without
a display starts it: standard input closed (/dev/null) or a real terminal (a pty) that types
Ctrl+D at the prompt.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

from tests.conftest import ROOT, finished_visit

NO_KEYRING = "keyring.backends.fail.Keyring"
SAMPLE = "SAMPLE - not a real signature"


def _env(**changes: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PACS_CONSOLE_SIGNING_PASSPHRASE", None)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _run(*args: str, data_dir: Path, env: dict[str, str] | None = None, timeout: float = 120):
    """Like a script with nothing on standard input."""
    return subprocess.run([sys.executable, "-m", "pacs_console", "--data-dir", str(data_dir),
                           *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          cwd=ROOT, env=env or _env(), timeout=timeout)


def _one_clear_line(proc) -> str:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


# -- --self-check without a display -------------------------------------------------------------

def test_self_check_names_a_missing_display(data_dir):
    for platform in (None, "xcb"):
        proc = _run("--self-check", data_dir=data_dir,
                    env=_env(DISPLAY=None, WAYLAND_DISPLAY=None, QT_QPA_PLATFORM=platform))
        assert proc.returncode == 1, proc.stdout + proc.stderr
        (qt,) = [line for line in proc.stdout.splitlines() if "Qt platform" in line]
        assert qt.startswith("[FAIL]") and "no display" in qt
        assert "DISPLAY" in qt and "libxcb-cursor0" not in qt
    # Headless on purpose is not a missing display.
    proc = _run("--self-check", data_dir=data_dir,
                env=_env(DISPLAY=None, WAYLAND_DISPLAY=None, QT_QPA_PLATFORM="offscreen"))
    (qt,) = [line for line in proc.stdout.splitlines() if "Qt platform" in line]
    assert qt.startswith("[ OK ]") or "offscreen" in qt, qt


# -- the sample report with no terminal and no keyring ------------------------------------------

def test_sample_report_builds_with_no_terminal_and_no_keyring_and_says_it_is_a_sample(
        data_dir, tmp_path):
    out = tmp_path / "sample.pdf"
    proc = _run("report", "build", "--sample", "--out", str(out), data_dir=data_dir,
                env=_env(PYTHON_KEYRING_BACKEND=NO_KEYRING))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SAMPLE" in proc.stdout and "not a real signature" in proc.stdout
    # Made per run, never stored: no engineer's certificate came out of the sample.
    assert not list(data_dir.rglob("*.p12")) and not list(data_dir.rglob("*.cer"))
    page_text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                               check=True).stdout
    assert SAMPLE in page_text  # printed on the page, in the visible signature
    assert "SAMPLE report: the signature beside is made with a throw-away SAMPLE key" in (
        " ".join(page_text.split()))

    verify = subprocess.run([sys.executable, "-m", "pacs_console", "report", "verify",
                             str(out), "--json"], capture_output=True, text=True, cwd=ROOT,
                            stdin=subprocess.DEVNULL, timeout=120)
    assert verify.returncode == 8, verify.stdout + verify.stderr
    result = json.loads(verify.stdout)
    assert result["sample"] is True and result["state"] == "sample" and result["intact"]
    assert result["signatures"][0]["signer"].startswith(SAMPLE)

    # Two runs, two different throw-away keys.
    again = tmp_path / "again.pdf"
    assert _run("report", "build", "--sample", "--out", str(again), data_dir=data_dir,
                env=_env(PYTHON_KEYRING_BACKEND=NO_KEYRING)).returncode == 0
    second = json.loads(subprocess.run(
        [sys.executable, "-m", "pacs_console", "report", "verify", str(again), "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=120).stdout)
    assert (second["signatures"][0]["signer_fingerprint"]
            != result["signatures"][0]["signer_fingerprint"])


# -- end of input at a prompt ------------------------------------------------------------------

def test_end_of_input_at_the_helpdesk_token_prompt_is_one_line_and_exit_2(data_dir):
    proc = _run("helpdesk", "set", "--url", "http://127.0.0.1:9", "--queue", "General",
                "--user", "console", data_dir=data_dir,
                env=_env(PACS_CONSOLE_HELPDESK_TOKEN=None))
    assert proc.returncode == 2
    line = _one_clear_line(proc)
    assert "end of input" in line and "helpdesk API token" in line


def test_end_of_input_at_the_dicomweb_password_prompt_is_one_line_and_exit_2(data_dir):
    proc = _run("dicomweb", "qido", "http://127.0.0.1:9/dicom-web", "--auth", "basic",
                "--user", "viewer", data_dir=data_dir,
                env=_env(PACS_CONSOLE_DICOMWEB_SECRET=None))
    assert proc.returncode == 2
    line = _one_clear_line(proc)
    assert "end of input" in line and "password" in line


def _in_a_terminal(args: list[str], data_dir: Path, prompt: bytes, env: dict[str, str]):
    """Run with a real terminal (a pty as the controlling tty); type Ctrl+D at the prompt."""
    master, slave = pty.openpty()

    def controlling_tty() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen([sys.executable, "-m", "pacs_console", "--data-dir", str(data_dir),
                             *args], stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env,
                            start_new_session=True, preexec_fn=controlling_tty)
    os.close(slave)
    seen = b""
    typed = False
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if not typed and prompt in seen:
                os.write(master, b"\x04")  # Ctrl+D: end of input
                typed = True
            if proc.poll() is not None and not ready:
                break
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return proc.returncode, typed, seen.decode("utf-8", "replace")


def test_ctrl_d_at_the_signing_passphrase_prompt_is_one_line_and_exit_2(data_dir, tmp_path):
    visit = finished_visit(data_dir)
    profile = _run("profile", "set", "--name", "Esi Ɔwusu", "--org", "Volta Imaging Services",
                   data_dir=data_dir)
    assert profile.returncode == 0, profile.stderr
    code, typed, output = _in_a_terminal(
        ["report", "build", "--visit", str(visit), "--out", str(tmp_path / "visit.pdf")],
        data_dir, b"assphrase", _env(PYTHON_KEYRING_BACKEND=NO_KEYRING))
    assert typed, output
    assert code == 2, output
    assert "Traceback" not in output
    assert "end of input: no passphrase was given" in output
    assert not (tmp_path / "visit.pdf").exists()


def test_ctrl_d_at_the_pkcs12_passphrase_prompt_is_one_line_and_exit_2(data_dir, tmp_path):
    p12 = tmp_path / "company.p12"
    p12.write_bytes(b"not really a PKCS#12, never read: the prompt comes first")
    code, typed, output = _in_a_terminal(["report", "cert", "--import", str(p12)], data_dir,
                                         b"assphrase", _env(PYTHON_KEYRING_BACKEND=NO_KEYRING))
    assert typed and code == 2, output
    assert "Traceback" not in output and "end of input" in output


def test_a_piped_answer_is_bounded_and_must_be_text(data_dir):
    args = [sys.executable, "-m", "pacs_console", "--data-dir", str(data_dir), "helpdesk", "set",
            "--url", "http://127.0.0.1:9", "--queue", "General", "--user", "console"]
    env = _env(PACS_CONSOLE_HELPDESK_TOKEN=None)
    for data, words in ((b"x" * (200 * 1024) + b"\n", "longer than 64 KiB"),
                        (b"\xff\xfe\x00garbage\n", "not text")):
        proc = subprocess.run(args, input=data, capture_output=True, cwd=ROOT, env=env,
                              timeout=120)
        proc.stdout, proc.stderr = proc.stdout.decode(), proc.stderr.decode()
        assert proc.returncode == 2
        line = _one_clear_line(proc)
        assert words in line and "helpdesk API token" in line
