"""The command line: --version, --help, --self-check with its exit codes."""

from __future__ import annotations

import time

from pacs_console import __version__
from tests.conftest import run_cli


def test_version_is_fast_and_exact(data_dir):
    start = time.perf_counter()
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"pacs-console {__version__}"
    # Not a speed target (that lives in tests/bench): a guard that --version imports nothing heavy.
    assert time.perf_counter() - start < 10


def test_version_imports_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys; from pacs_console.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('PySide6', 'pydicom', 'pynetdicom', 'sqlalchemy') if m in sys.modules]\n"
            "print(heavy); sys.exit(1 if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_help_lists_global_options():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for option in ("--demo", "--data-dir", "--version", "--self-check", "--verbose"):
        assert option in proc.stdout


def test_self_check_passes_with_a_secure_keyring(data_dir):
    proc = run_cli("--self-check", data_dir=data_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == "all checks passed"
    names = [line.split("]", 1)[1].split(":", 1)[0].strip() for line in lines[:-1]]
    for expected in ("versions", "data dir", "database", "Qt platform", "keyring", "report fonts",
                     "decoder JPEG 2000 Image Compression (Lossless Only)", "decoder RLE Lossless"):
        assert expected in names
    assert "tests.memkeyring.MemoryKeyring" in proc.stdout
    assert (data_dir / "data" / "pacs-console.sqlite3").exists()


def test_self_check_fails_and_names_the_keyring_when_only_the_fail_backend_exists(data_dir):
    proc = run_cli("--self-check", data_dir=data_dir,
                   env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert proc.returncode == 1
    failed = [line for line in proc.stdout.splitlines() if line.startswith("[FAIL]")]
    assert len(failed) == 1 and "keyring" in failed[0] and "fail.Keyring" in failed[0]
    assert "1 check(s) failed" in proc.stdout


def test_self_check_fails_when_the_data_dir_is_not_writable(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data dir should be")
    proc = run_cli("--self-check", data_dir=blocker)
    assert proc.returncode == 1
    assert any(line.startswith("[FAIL] data dir") for line in proc.stdout.splitlines())


def test_self_check_fails_when_the_qt_platform_is_missing(data_dir):
    proc = run_cli("--self-check", data_dir=data_dir, env={"QT_QPA_PLATFORM": "nonexistent"})
    assert proc.returncode == 1
    assert any(line.startswith("[FAIL] Qt platform") for line in proc.stdout.splitlines())
