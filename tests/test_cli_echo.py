"""`pacs-console echo` against real Orthanc and DCMTK: output, JSON, evidence and exit codes."""

from __future__ import annotations

import json
import socket
import threading

from pacs_console.commands import exit_codes
from tests.conftest import run_cli


def test_echo_orthanc_succeeds_and_saves_evidence(orthanc, data_dir):
    proc = run_cli("echo", "-aec", "ORTHANC", orthanc.host, str(orthanc.dicom_port), data_dir=data_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith(f"#1 OK ORTHANC@{orthanc.host}:{orthanc.dicom_port}")
    assert "Orthanc" in proc.stdout or "ORTHANC" in proc.stdout
    proc = run_cli("echo", "-aec", "ORTHANC", orthanc.host, str(orthanc.dicom_port), "--json",
                   data_dir=data_dir)
    data = json.loads(proc.stdout)
    assert data["ok"] and data["exit_code"] == 0 and data["test_run_id"] == 2
    assert data["result"]["echo_ms"] > 0


def test_echo_dcmqrscp_by_node_name(dcmqrscp, data_dir, ctx):
    from pacs_console.core.db.nodes import save_node

    save_node(ctx.db, "QR", "DCMQRSCP", dcmqrscp.host, dcmqrscp.dicom_port)
    proc = run_cli("--data-dir", str(ctx.paths.data.parent), "echo", "--node", "QR", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"]["called_ae"] == "DCMQRSCP"


def test_wrong_called_ae_exits_6_with_diagnosis(orthanc, data_dir):
    proc = run_cli("echo", "-aec", "NOT_ORTHANC", orthanc.host, str(orthanc.dicom_port), data_dir=data_dir)
    assert proc.returncode == exit_codes.REJECTED
    assert "called AE title not recognised" in proc.stdout and "spelling, case" in proc.stdout


def test_closed_port_exits_4(data_dir):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = run_cli("echo", "127.0.0.1", str(port), "--json", data_dir=data_dir)
    assert proc.returncode == exit_codes.REFUSED
    assert json.loads(proc.stdout)["result"]["diagnosis"]["code"] == "connection-refused"


def test_a_series_nobody_answers_says_so_instead_of_none_figures(data_dir):
    """No echo answered: no "median None ms", in the output or in the saved run's summary."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # released: nothing listens there
    proc = run_cli("echo", "--count", "2", "--interval", "0", "127.0.0.1", str(port),
                   data_dir=data_dir)
    assert proc.returncode == exit_codes.REFUSED, proc.stdout + proc.stderr
    assert "2 sent, 0 OK, loss 100 %; no round trip measured (no echo answered)" in proc.stdout
    assert "None" not in proc.stdout + proc.stderr
    from pacs_console.core.db.engine import Database
    from pacs_console.core.db.testruns import list_test_runs
    from pacs_console.paths import app_paths

    database = Database(app_paths(data_dir).database, migrate=False)
    try:
        summaries = [run.summary for run in list_test_runs(database)]  # what History shows
    finally:
        database.close()
    assert summaries == ["2 C-ECHO, 0 OK, loss 100 %"], summaries


def test_silent_listener_times_out_at_the_given_acse_timeout(data_dir):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
    thread.start()
    try:
        proc = run_cli("echo", "-ta", "1", "127.0.0.1", str(listener.getsockname()[1]), "--json",
                       data_dir=data_dir)
    finally:
        listener.close()
    data = json.loads(proc.stdout)
    assert proc.returncode == exit_codes.TIMEOUT
    assert data["result"]["diagnosis"]["code"] == "association-timeout"
    assert 900 <= data["result"]["total_ms"] < 5000


def test_continuous_echo_with_count_and_no_interval(orthanc, data_dir):
    proc = run_cli("echo", "-aec", "ORTHANC", "--count", "5", "--interval", "0", orthanc.host,
                   str(orthanc.dicom_port), "--json", data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["stats"]["sent"] == 5 and data["stats"]["loss_pct"] == 0
    assert len(data["results"]) == 5 and data["stats"]["round_trip_ms"]["p95"] is not None
    assert proc.stderr.count(" OK ") == 5  # progress lines go to stderr with --json


def test_usage_problems_exit_2(data_dir):
    assert run_cli("echo", data_dir=data_dir).returncode == exit_codes.USAGE
    proc = run_cli("echo", "--node", "nope", data_dir=data_dir)
    assert proc.returncode == exit_codes.USAGE and "no node 'nope'" in proc.stderr
    proc = run_cli("echo", "-aec", "WAY_TOO_LONG_AE_TITLE", "127.0.0.1", "104", data_dir=data_dir)
    assert proc.returncode == exit_codes.USAGE and "16" in proc.stderr
