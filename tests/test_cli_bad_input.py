"""Bad input gets one line and the documented exit code, never a traceback (child processes)."""

from __future__ import annotations

import json
import socket
import struct
import threading

import pytest

from pacs_console.core.dicom.servers.storage import StorageSCP
from tests.conftest import run_cli
from tests.dicom_samples import ct_series


def _one_line(proc, code: int) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.parametrize("options", [
    ["-to", "-1"], ["-to", "nan"], ["-td", "inf"], ["-ta", "0"], ["--count", "-1"],
    ["--interval", "-2"],
])
def test_echo_numbers_are_checked(data_dir, options):
    proc = run_cli("echo", "127.0.0.1", "1", *options, data_dir=data_dir)
    _one_line(proc, 2)
    assert "0 sent" not in proc.stdout


def test_port_out_of_range(data_dir):
    _one_line(run_cli("echo", "127.0.0.1", "70000", data_dir=data_dir), 2)


def test_data_dir_that_is_a_file_or_cannot_be_created(tmp_path):
    afile = tmp_path / "file"
    afile.write_text("x")
    proc = run_cli("node", "list", data_dir=afile)
    _one_line(proc, 2)
    assert "is a file" in proc.stderr
    proc = run_cli("node", "list", data_dir=afile / "below")
    _one_line(proc, 2)
    assert "cannot be created" in proc.stderr


def test_text_that_is_not_text_and_dates_out_of_range(data_dir):
    proc = run_cli("incident", "new", "--severity", "low", "--title", b"\xff", data_dir=data_dir)
    _one_line(proc, 2)
    assert "not valid text" in proc.stderr
    proc = run_cli("incident", "new", "--severity", "low", "--title", "x", "--reported-at",
                   "9999-12-31T23:59", data_dir=data_dir)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "1970-2100" in proc.stderr


def test_incident_list_strips_control_and_bidi_characters(data_dir):
    title = "ok\x1b[2J\x1b]0;pwned\x07\rX\u202eevil\u2066"
    assert run_cli("incident", "new", "--severity", "low", "--title", title,
                   data_dir=data_dir).returncode == 0
    for args in (("incident", "list"), ("incident", "show", "1")):
        out = run_cli(*args, data_dir=data_dir).stdout
        assert "evil" in out
        assert not any(ch in out for ch in "\x1b\r\x07\u202e\u2066")
    doc = json.loads(run_cli("incident", "list", "--json", data_dir=data_dir).stdout)
    assert json.dumps(doc).count("\\u202e") == 1  # JSON keeps the stored text, escaped


@pytest.mark.parametrize("target, code", [
    ("0.0.0.0/24", "never swept"), ("255.255.255.255", "never swept"),
    ("100.64.0.0/16", "--allow-public"), ("169.254.0.0/16", "--allow-public"),
])
def test_scan_special_ranges(data_dir, target, code):
    proc = run_cli("scan", target, data_dir=data_dir)
    assert proc.returncode == 2 and code in proc.stderr and "Traceback" not in proc.stderr


def test_devices_are_refused_unread(data_dir):
    proc = run_cli("index", "/dev/zero", "--json", data_dir=data_dir, timeout=60)
    doc = json.loads(proc.stdout)
    assert doc["files"][0]["reason"] == "not-a-file" and proc.returncode == 0
    proc = run_cli("report", "verify", "/dev/zero", data_dir=data_dir, timeout=60)
    assert "not a regular file" in proc.stdout and "Traceback" not in proc.stderr


def test_store_of_only_unreadable_files_is_a_usage_error(data_dir, tmp_path):
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"\x00" * 4096)
    proc = run_cli("store", "127.0.0.1", "1", str(tmp_path / "missing.dcm"), str(junk),
                   "/dev/zero", data_dir=data_dir, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    proc = run_cli("store", "127.0.0.1", "1", "--generate", "1000000000", data_dir=data_dir)
    _one_line(proc, 2)
    proc = run_cli("store", "127.0.0.1", "1", "--generate", "6000", data_dir=data_dir)
    _one_line(proc, 2)


def test_store_with_some_files_skipped_is_partial(data_dir, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    from pydicom import dcmwrite

    for i, ds in enumerate(ct_series(2)):
        dcmwrite(folder / f"{i}.dcm", ds, enforce_file_format=True)
    (folder / "zeros.dcm").write_bytes(b"\x00" * 100_000)
    scp = StorageSCP(tmp_path / "store", "PACSCONSOLE", 0, host="127.0.0.1").start()
    try:
        proc = run_cli("store", "-aec", "PACSCONSOLE", "127.0.0.1", str(scp.port), str(folder),
                       "--json", data_dir=data_dir, timeout=90)
    finally:
        scp.stop()
    doc = json.loads(proc.stdout)
    assert proc.returncode == 10 and doc["exit_code"] == 10
    assert doc["result"]["sent"] == 2 and len(doc["result"]["skipped_files"]) == 1


def _resetting_listener():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)

    def loop():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conn.recv(16)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    threading.Thread(target=loop, daemon=True).start()
    return srv


def test_a_listener_that_resets_is_an_abort_not_a_dimse_failure(data_dir):
    srv = _resetting_listener()
    try:
        proc = run_cli("echo", "127.0.0.1", str(srv.getsockname()[1]), data_dir=data_dir)
    finally:
        srv.close()
    assert proc.returncode == 7, proc.stdout + proc.stderr


def test_dicomweb_timeout_is_the_one_given(data_dir):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)  # accepts, never answers
    try:
        proc = run_cli("dicomweb", "qido", f"http://127.0.0.1:{srv.getsockname()[1]}/dicom-web",
                       "--timeout", "2", "--no-save", data_dir=data_dir, timeout=60)
    finally:
        srv.close()
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert "within 2 s" in proc.stdout and "within 5 s" not in proc.stdout
