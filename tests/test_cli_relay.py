"""`pacs-console relay` as a script uses it: the first line names the address and port, one
JSON object per association as it ends, stops when standard input closes; bad input one line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydicom import dcmwrite

from tests.core.relay.support import cli_relay_to_scp
from tests.core.wire_peers import ROOT, stop
from tests.dicom_samples import ct_series

STORESCU, ECHOSCU = "/usr/bin/storescu", "/usr/bin/echoscu"


def test_relay_json_lines_and_the_trace_it_leaves(tmp_path):
    trace = tmp_path / "session.trace"
    scp, scp_info, relay, first = cli_relay_to_scp(tmp_path, trace)
    files = []
    for n, ds in enumerate(ct_series(2, patient_name="Darko^Abena")):
        files.append(tmp_path / f"{n}.dcm")
        dcmwrite(files[-1], ds, enforce_file_format=True)
    try:
        assert first["listening"] == "127.0.0.1" and first["trace"] == str(trace)
        port = str(first["port"])
        stored = subprocess.run([STORESCU, "-aet", "CTSCANNER", "-aec", "ANY-SCP", "127.0.0.1",
                                 port, *map(str, files)], capture_output=True, timeout=60)
        assert stored.returncode == 0
        line = json.loads(relay.stdout.readline())  # printed as the association ends
        assert {"calling_ae", "called_ae", "result", "messages", "diagnosis"} <= set(line)
        assert (line["calling_ae"], line["called_ae"], line["result"]) == (
            "CTSCANNER", "ANY-SCP", "released"), (line["diagnosis"], line["timeline"])
        assert [m["status"] for m in line["messages"]] == ["0x0000", "0x0000"]
        wrong = subprocess.run([ECHOSCU, "-aet", "CTSCANNER", "-aec", "ANY-SCP", "127.0.0.1",
                                str(scp_info["port"] + 0), "-to", "5"], capture_output=True, timeout=30)
        assert wrong.returncode == 0  # direct, not relayed: no line for it
    finally:
        code = stop(relay)
        stop(scp)
    assert code == 0
    rest = relay.stdout.read()
    assert rest.strip() == "" and "Darko" not in json.dumps(line)
    assert "1 association(s) relayed" in relay.stderr.read()
    shown = subprocess.run([sys.executable, "-m", "pacs_console", "trace", str(trace)],
                           capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert shown.returncode == 0 and "CTSCANNER -> ANY-SCP" in shown.stdout


def test_relay_text_first_line_names_address_and_port(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "pacs_console", "--data-dir", str(tmp_path),
                             "relay", "0", "--bind", "127.0.0.1", "--to", "127.0.0.1:9"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    line = proc.stdout.readline()
    proc.stdin.close()
    assert proc.wait(timeout=20) == 0
    assert line.startswith("Relay listening on 127.0.0.1:") and "forwarding to 127.0.0.1:9" in line
    assert list((tmp_path / "data" / "traces").glob("relay-*.trace"))


@pytest.mark.parametrize("args, words", [
    (["relay", "70000", "--to", "127.0.0.1:104"], "outside 0-65535"),
    (["relay", "0", "--to", "nowhere"], "not HOST:PORT"),
    (["relay", "0", "--to", "127.0.0.1:0"], "outside 1-65535"),
    (["relay", "0", "--to", "127.0.0.1:104", "--bind", "laptop"], "not an IP address"),
    (["relay", "0", "--to", "127.0.0.1:104", "--max-associations", "0"], "at least 1"),
    (["relay", "0", "--to", "127.0.0.1:104", "--tls", "--ca-file", "/nowhere/ca.pem"], "TLS files"),
    (["relay", "0", "--to", "127.0.0.1:104", "--cert", "c.pem"], "belong to --listen-tls"),
    (["relay", "0", "--to", "127.0.0.1:104", "--listen-tls"], "needs --cert"),
    (["relay", "0", "--to", "127.0.0.1:104", "--listen-tls", "--cert", "/nowhere/c.pem",
      "--key", "/nowhere/k.pem"], "--listen-tls files"),
])
def test_relay_bad_input_is_one_line_and_exit_2(tmp_path, args, words):
    done = subprocess.run([sys.executable, "-m", "pacs_console", "--data-dir", str(tmp_path), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and words in done.stderr
