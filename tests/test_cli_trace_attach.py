"""A relay trace attached to an incident (#20): the redacted decoded timeline goes in, never the
raw bytes; a patient name planted in a real relayed store is in neither the attachment nor a
bundle made afterwards."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile

from pydicom import dcmwrite

from pacs_console.paths import app_paths
from tests.conftest import run_cli
from tests.core.relay.support import cli_relay_to_scp
from tests.core.wire_peers import stop
from tests.dicom_samples import ct_series

STORESCU = "/usr/bin/storescu"
PLANTED = ("Owusu-Plantedname", "PLANT20ID")


def relayed_trace(tmp_path):
    trace = tmp_path / "session.trace"
    scp, _, relay, first = cli_relay_to_scp(tmp_path, trace)
    files = []
    for n, ds in enumerate(ct_series(2, patient_name=f"{PLANTED[0]}^Akosua",
                                     patient_id=PLANTED[1])):
        files.append(tmp_path / f"{n}.dcm")
        dcmwrite(files[-1], ds, enforce_file_format=True)
    try:
        stored = subprocess.run([STORESCU, "-aet", "CTSCANNER", "-aec", "ANY-SCP", "127.0.0.1",
                                 str(first["port"]), *map(str, files)], capture_output=True,
                                timeout=60)
        assert stored.returncode == 0, stored.stderr
        relay.stdout.readline()  # the association ended
    finally:
        assert stop(relay) == 0
        stop(scp)
    return trace


def test_a_trace_is_attached_as_its_redacted_timeline(tmp_path, data_dir):
    trace = relayed_trace(tmp_path)
    raw = trace.read_bytes()
    assert all(p.encode() in raw for p in PLANTED)  # the raw trace does hold patient data
    made = run_cli("incident", "new", "--title", "CT stores slow", "--severity", "medium",
                   "--json", data_dir=data_dir)
    assert made.returncode == 0, made.stderr
    ref = str(json.loads(made.stdout)["id"])

    said = run_cli("incident", "attach", ref, str(trace), data_dir=data_dir)
    assert said.returncode == 0, said.stderr
    assert "session.timeline.json" in said.stdout and "patient data redacted" in said.stdout
    assert "raw trace" in said.stdout
    [item] = json.loads(run_cli("incident", "attach", ref, str(trace), "--json",
                                data_dir=data_dir).stdout)
    assert item["filename"] == "session.timeline.json" and item["from"] == "session.trace"
    assert item["media_type"] == "application/json"

    store = app_paths(data_dir).data / "attachments"
    kept = [p for p in store.rglob("*") if p.is_file()]
    assert kept and hashlib.sha256(raw).hexdigest() not in {p.name for p in kept}
    for path in (p for p in data_dir.rglob("*") if p.is_file()):  # store, database, logs
        data = path.read_bytes()
        assert not any(p.encode() in data for p in PLANTED), path
    document = json.loads((store / item["sha256"][:2] / item["sha256"]).read_bytes())
    assert document["format"] == "pacs-console-trace-timeline/1"
    [conversation] = document["associations"]
    assert (conversation["calling_ae"], conversation["called_ae"]) == ("CTSCANNER", "ANY-SCP")
    assert [m["status"] for m in conversation["messages"]] == ["0x0000", "0x0000"]
    assert conversation["timeline"]  # the decoded events are there

    shown = json.loads(run_cli("incident", "show", ref, "--json", data_dir=data_dir).stdout)
    assert any("patient data redacted" in json.dumps(e) for e in shown["timeline"])
    assert not any(p in json.dumps(shown) for p in PLANTED)

    bundle = tmp_path / "bundle.zip"
    built = run_cli("bundle", "--out", str(bundle), "--latest-runs", "5", "--reports",
                    str(store / item["sha256"][:2] / item["sha256"]), "--attach", ref,
                    data_dir=data_dir)
    assert built.returncode == 0, built.stdout + built.stderr
    with zipfile.ZipFile(bundle) as archive:
        assert any(n.startswith("reports/") for n in archive.namelist()), archive.namelist()
        for name in archive.namelist():
            data = archive.read(name)
            assert not any(p.encode() in data for p in PLANTED), name


def test_a_damaged_capture_is_one_line_and_nothing_is_attached(tmp_path, data_dir):
    bad = tmp_path / "broken.pcap"
    bad.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 7)
    made = run_cli("incident", "new", "--title", "x", "--severity", "low", "--json",
                   data_dir=data_dir)
    ref = str(json.loads(made.stdout)["id"])
    proc = run_cli("incident", "attach", ref, str(bad), data_dir=data_dir)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "broken.pcap" in proc.stderr
    assert not [p for p in (app_paths(data_dir).data / "attachments").rglob("*")
                if p.is_file()]
