"""Captures opened offline: pcap and pcapng written by the tests from a real relay session
(DCMTK storescu -> relay -> the console's Storage SCP), reordered, retransmitted, cut short,
begun mid-association; HL7 MLLP beside it; the `trace` command on all of them."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

import pytest

from pacs_console.core.relay.capture import CaptureError, read_capture
from pacs_console.core.relay.tracefile import read_trace
from tests.core.relay.captures import (
    CLIENT,
    SERVER,
    disorder,
    frames,
    session,
    write_pcap,
    write_pcapng,
)
from tests.core.wire_peers import ROOT

STORESCU = "/usr/bin/storescu"


def _untimed(messages: list[dict]) -> list[dict]:
    return [{k: v for k, v in m.items() if k not in ("t", "duration_ms")} for m in messages]


def _stores(report: dict) -> list[str]:
    return [m.get("status", "none") for m in report["messages"] if m["command"] == "C-STORE-RQ"]


def test_the_relay_trace_reads_back_as_the_session(relayed):
    reports, problems = read_trace(relayed)
    assert problems == []
    [report] = reports
    assert (report["calling_ae"], report["called_ae"], report["result"]) == (
        "CTSCANNER", "ANY-SCP", "released")
    assert _stores(report) == ["0x0000"] * 3
    assert "Owusu" not in json.dumps(report)


@pytest.mark.parametrize("writer", [write_pcapng, write_pcap])
def test_a_capture_on_an_unusual_port_is_found_by_pdu_structure(relayed, tmp_path, writer):
    path = writer(tmp_path / "capture", frames(session(relayed)))
    [report], problems = read_capture(path)
    assert problems == [] and SERVER[1] not in (104, 11_112)  # not a well-known DICOM port
    assert report["protocol"] == "dicom" and report["calling_ae"] == "CTSCANNER"
    assert report["client"] == f"{CLIENT[0]}:{CLIENT[1]}" and not report["mid_association"]
    assert report["result"] == "released" and _stores(report) == ["0x0000"] * 3
    assert report["messages"][0]["dataset"]["Modality"] == "CT"
    assert "Owusu" not in json.dumps(report)


def test_reordered_and_retransmitted_segments_decode_the_same(relayed, tmp_path):
    plain = read_capture(write_pcapng(tmp_path / "plain.pcapng", frames(session(relayed))))[0][0]
    packets = disorder(frames(session(relayed)))
    assert len(packets) > len(frames(session(relayed)))  # some segments really came twice
    messy = read_capture(write_pcapng(tmp_path / "messy.pcapng", packets))[0][0]
    assert _untimed(messy["messages"]) == _untimed(plain["messages"])
    assert messy["result"] == "released" and messy["diagnosis"] == []


def test_a_capture_that_starts_mid_association(relayed, tmp_path):
    packets = frames(session(relayed), handshake=False)
    store_bytes = sum(len(f) for _, d, f in packets if d == "rq")
    start = next(i for i, p in enumerate(packets) if sum(
        len(f) for _, d, f in packets[:i] if d == "rq") > store_bytes // 2)
    [report], _ = read_capture(write_pcapng(tmp_path / "late.pcapng", packets[start:]))
    assert report["mid_association"] and report["calling_ae"] == ""
    assert report["result"] == "released"
    assert 1 <= len(report["messages"]) < 3 and _stores(report)[-1] == "0x0000"
    assert not [d for d in report["diagnosis"] if d["code"] == "protocol-error"]


def _mllp(text: str) -> bytes:
    return b"\x0b" + text.replace("\n", "\r").encode() + b"\x1c\x0d"


ORM = ("MSH|^~\\&|RIS|HOSP|PACS|HOSP|20240101120000||ORM^O01|MSG001|P|2.3\n"
       "PID|1||GH-778||Asante^Ama||19800101|F\nORC|NW|A1\n")
ORM2 = ORM.replace("MSG001", "MSG002")
ACK = "MSH|^~\\&|PACS|HOSP|RIS|HOSP|20240101120001||ACK^O01|A1|P|2.3\nMSA|AA|MSG001\n"


def test_hl7_over_mllp_beside_dicom(relayed, tmp_path):
    hl7 = frames([("rq", _mllp(ORM), 10.0), ("ac", _mllp(ACK), 10.1), ("rq", _mllp(ORM2), 10.2)],
                 client=("10.20.0.7", 40001), server=("10.20.0.8", 2575))
    dicom = frames(session(relayed))
    web = frames([("rq", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 3000, 11.0)],
                 client=("10.20.0.7", 40002), server=("10.20.0.8", 80))
    reports, problems = read_capture(write_pcapng(tmp_path / "mixed.pcapng",
                                                  sorted(hl7 + dicom + web, key=lambda p: p[0])))
    assert problems == [] and sorted(r["protocol"] for r in reports) == ["dicom", "hl7"]
    [message] = [r for r in reports if r["protocol"] == "hl7"]
    assert [(m["type"], m["control_id"]) for m in message["messages"]] == [
        ("ORM^O01", "MSG001"), ("ACK^O01", "A1"), ("ORM^O01", "MSG002")]
    assert message["messages"][0]["answered_with"] == "AA"
    assert [d["code"] for d in message["diagnosis"]] == ["hl7-no-ack"]
    assert "Asante" not in json.dumps(message) and "GH-778" not in json.dumps(message)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pacs_console", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def test_the_trace_command_reads_captures_and_relay_traces(relayed, tmp_path):
    capture = write_pcapng(tmp_path / "c.pcapng", disorder(frames(session(relayed))))
    done = _cli("trace", str(capture), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["kind"] == "capture" and data["associations"][0]["calling_ae"] == "CTSCANNER"
    text = _cli("trace", str(relayed), "--timeline")
    assert text.returncode == 0 and "relay trace, 1 conversation(s)" in text.stdout
    assert "CTSCANNER -> ANY-SCP" in text.stdout and "C-STORE-RSP: status 0x0000" in text.stdout
    assert "Owusu" not in text.stdout + done.stdout


def test_damaged_and_foreign_files(relayed, tmp_path):
    capture = write_pcapng(tmp_path / "c.pcapng", frames(session(relayed)))
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(capture.read_bytes()[:capture.stat().st_size // 2])
    done = _cli("trace", str(cut))
    assert done.returncode == 10 and "cut short" in done.stdout and "CTSCANNER" in done.stdout
    foreign = tmp_path / "notes.pcap"
    foreign.write_text("not a capture\n")
    for path in (foreign, tmp_path / "missing.pcap"):
        done = _cli("trace", str(path))
        assert done.returncode == 2 and done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    with pytest.raises(CaptureError):
        read_capture(foreign)
    lying = tmp_path / "lying.pcap"  # one record claiming 4 GB: refused, nothing allocated
    lying.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 0xFFFFFFFF, 1)
                      + struct.pack("<IIII", 1, 0, 0xFFFFFFF0, 0xFFFFFFF0) + bytes(100))
    reports, _ = read_capture(lying)
    assert reports == []
