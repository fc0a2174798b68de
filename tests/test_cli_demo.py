"""`pacs-console demo-pacs`: serves the demo headless, answers echo, stops when stdin closes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT, run_cli


def test_demo_pacs_serves_until_stdin_closes(data_dir):
    proc = subprocess.Popen(
        [sys.executable, "-m", "pacs_console", "--data-dir", str(data_dir), "demo-pacs",
         "--port", "0", "--json"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, cwd=ROOT, env=dict(os.environ))
    try:
        info = json.loads(proc.stdout.readline())
        assert info["ae_title"] == "DEMOPACS" and info["host"] == "127.0.0.1"
        assert info["port"] > 0 and info["instances"] > 0 and info["worklist_items"] > 0
        echo = run_cli("echo", "-aec", "DEMOPACS", "127.0.0.1", str(info["port"]), "--json",
                       data_dir=data_dir)
        assert echo.returncode == 0, echo.stderr
        assert json.loads(echo.stdout)["ok"] is True
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_demo_pacs_names_a_taken_port(data_dir):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_cli("demo-pacs", "--port", str(port), "--no-stdin", data_dir=data_dir,
                       timeout=60)
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr and "--port 0" in proc.stderr
