"""A planted patient goes through every door of the console (store, find, move, get, QIDO,
WADO, HL7 send and listen, incidents, a signed report, a bundle), verbose logging on; then
every file under the data folder is searched for the patient's name, ID and birth date.
Only the places that must hold patient data (README: "Where patient data is kept") may."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

from pacs_console.core.dicom.synth.studies import PatientInfo, generate_study, write_study
from tests.conftest import ROOT, run_cli
from tests.peers.net import announced_port
from tests.peers.plugin import SCU_PORT

FAMILY, GIVEN, PID, BIRTH = "Quarshie", "Abenaa", "GH-PL4NT3D", "19670423"
NEEDLES = (FAMILY.lower(), GIVEN.lower(), PID.lower(), BIRTH)
PASS = {"PACS_CONSOLE_SIGNING_PASSPHRASE": "planted pass 7"}
# Relative to the --data-dir root: the local store of received images and the viewer's index.
MUST_HOLD_PHI = ("data/store/", "cache/index.sqlite3")


def _cli(data_dir: Path, *args: str, env=None) -> subprocess.CompletedProcess:
    proc = run_cli("-v", *args, data_dir=data_dir, env=env)
    assert proc.returncode == 0, (args, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc


def _pdf_text(data: bytes, tmp: Path) -> str:
    path = tmp / "extract.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _hits_in_bytes(where: str, data: bytes, tmp: Path) -> list[str]:
    if data.startswith(b"%PDF"):
        text = _pdf_text(data, tmp).lower()
        blobs = [text.encode(), data.lower()]
    else:
        blobs = [data.lower()]
    hits = []
    for needle in NEEDLES:
        forms = (needle.encode(), needle.encode("utf-16-le"), needle.upper().encode("utf-16-le"))
        if any(form.lower() in blob for blob in blobs for form in forms):
            hits.append(f"{where}: {needle}")
    return hits


def _hits_in_database(path: Path) -> list[str]:
    hits = []
    with sqlite3.connect(path) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                for (value,) in con.execute(f'SELECT "{column}" FROM "{table}"'):
                    text = (value.decode("utf-8", "replace") if isinstance(value, bytes)
                            else str(value)).lower()
                    hits += [f"{path.name} {table}.{column}: {n}" for n in NEEDLES if n in text]
    return hits


def _search(root: Path, tmp: Path) -> list[str]:
    hits: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if any(rel.startswith(place) for place in MUST_HOLD_PHI):
            continue
        if path.name.endswith((".sqlite3-wal", ".sqlite3-shm")):
            continue  # read through SQLite below, which applies the WAL
        if path.suffix == ".sqlite3":
            hits += _hits_in_database(path)
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    hits += _hits_in_bytes(f"{rel}!{name}", archive.read(name), tmp)
        else:
            hits += _hits_in_bytes(rel, path.read_bytes(), tmp)
    return hits


def _hl7_message() -> str:
    return "\r".join([
        "MSH|^~\\&|RIS|KATH|PACS|KATH|20261205101500||ORM^O01|PLANT1|P|2.3.1",
        f"PID|1||{PID}^^^KATH^MR||{FAMILY.upper()}^{GIVEN.upper()}||{BIRTH}|F|||"
        "12 Hospital Rd^^Kumasi^^^GH",
        "PV1|1|O",
        "ORC|NW|ORD1|||SC",
        "OBR|1|ORD1||CTHEAD^CT Head|||20261205",
    ]) + "\r"


def test_a_planted_patient_leaves_no_trace_outside_the_store_and_index(orthanc, data_dir,
                                                                       tmp_path):
    images = tmp_path / "planted"
    files = write_study(generate_study("CT", images=2, size=32, seed=11, patient=PatientInfo(
        f"{FAMILY}^{GIVEN}", PID, BIRTH, "F")), images)
    dimse = ["-aec", "ORTHANC", "--json"]
    node = [orthanc.host, str(orthanc.dicom_port)]
    _cli(data_dir, "store", *dimse, *node, str(images))
    found = json.loads(_cli(data_dir, "find", *dimse, "--name", f"{FAMILY.upper()}*",
                            "--patient-id", PID, "--birth-date", BIRTH, *node).stdout)
    assert found["count"] == 1 and found["matches"][0]["PatientID"] == PID  # shown, not kept
    study = found["matches"][0]["StudyInstanceUID"]
    _cli(data_dir, "move", *dimse, "--study-uid", study, "-k", f"PatientID={PID}",
         "--scp-port", str(SCU_PORT), *node)
    _cli(data_dir, "get", *dimse, "-P", "-L", "PATIENT", "--patient-id", PID,
         "--out", str(tmp_path / "got"), *node)
    web = f"{orthanc.url}/dicom-web"
    qido = json.loads(_cli(data_dir, "dicomweb", "qido", web, "-k", f"PatientID={PID}",
                           "-k", f"00100030={BIRTH}", "--json").stdout)
    assert qido["result"]["matches"] if "result" in qido else qido["matches"]
    _cli(data_dir, "dicomweb", "wado", web, study, "--json")

    listener = subprocess.Popen(
        [sys.executable, "-m", "pacs_console", "--data-dir", str(data_dir), "-v", "hl7",
         "listen", "0", "--bind", "127.0.0.1", "--count", "1", "--json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = announced_port(listener.stderr)  # any free port, the one it bound
        message = tmp_path / "order.hl7"
        message.write_text(_hl7_message())
        _cli(data_dir, "hl7", "send", "127.0.0.1", str(port), str(message), "--json")
        out, err = listener.communicate(timeout=60)
    finally:
        listener.kill() if listener.poll() is None else None
    assert listener.returncode == 0, err
    assert PID not in out  # the listener masks patient fields by default

    _cli(data_dir, "site", "add", "Komfo Anokye", "--json")
    visit = json.loads(_cli(data_dir, "visit", "start", "--site", "Komfo Anokye",
                            "--engineer", "Esi Owusu", "--json").stdout)
    incident = json.loads(_cli(data_dir, "incident", "new", "--severity", "high", "--title",
                               "Archive query slow", "--site", "Komfo Anokye", "--visit",
                               str(visit["id"]), "--json").stdout)
    _cli(data_dir, "incident", "attach", str(incident["id"]), "--test-run")
    _cli(data_dir, "visit", "end", "--json")
    _cli(data_dir, "profile", "set", "--name", "Esi Owusu", "--org", "Field Service Ltd")
    report = data_dir / "visit-report.pdf"
    _cli(data_dir, "report", "build", "--visit", str(visit["id"]), "--out", str(report),
         "--json", env=PASS)
    _cli(data_dir, "bundle", "--out", str(data_dir / "bundle.zip"), "--latest-runs", "50",
         "--reports", str(report), "--images", str(images), "--attach", str(incident["id"]),
         "--json")

    assert len(list((data_dir / "data" / "store").rglob("*.dcm"))) >= 2  # the store holds it
    assert list(data_dir.glob("logs/*.log"))
    hits = _search(data_dir, tmp_path)
    assert hits == [], "\n".join(hits)
    assert len(files) == 2
