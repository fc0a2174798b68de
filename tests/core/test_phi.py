"""One PHI module: every text pattern, nested JSON, the console's own evidence shapes, HL7
segments, crash output, and the same redaction used by logs, evidence and bundles."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys

import pytest

from pacs_console.core import phi
from pacs_console.core.db.testruns import get_test_run, save_test_run
from pacs_console.core.sync import bundle
from pacs_console.logs import redact, setup_logging
from tests.conftest import ROOT, run_cli
from tests.dicom_samples import ct_series, to_bytes

SECRETS = ("Kofi", "Mensah", "MENSAH", "KOFI", "GH-77123", "19790214")


@pytest.mark.parametrize("line", [
    "Name: Kofi Mensah",
    "name=Kofi",
    "Patient Name: Kofi Mensah",
    "patient_name=Kofi Mensah",
    "PatientName=Kofi Mensah PatientID=GH-77123",
    "patient_id=GH-77123 birth_date=19790214",
    "Patient ID: GH-77123, Birth Date: 19790214",
    "matched MENSAH^KOFI in CT1",
    "matched Mensah^Kofi^^^ in CT1",
    "GET http://127.0.0.11:8044/dicom-web/studies?00100010=MENSAH%5EKOFI&limit=5 200",
    "GET https://pacs/dicom-web/studies?PatientID=GH-77123 200",
    "00100010=MENSAH%5EKOFI",
    '{"PatientName": "Mensah^Kofi", "PatientID": "GH-77123"}',
    "(0010,0030) Patient's Birth Date                DA: '19790214'",
    "(0010,0020) LO [GH-77123]",
    "MSH|^~\\&|RIS|H|PACS|H|20260101||ORM^O01|77|P|2.3.1\rPID|1||GH-77123^^^H^MR||"
    "MENSAH^KOFI||19790214|M",
])
def test_every_pattern_is_redacted_and_the_line_still_reads(line):
    cleaned = phi.redact_text(line)
    for secret in SECRETS:
        assert secret not in cleaned, (line, cleaned)
    assert phi.REDACTED in cleaned


@pytest.mark.parametrize("line", [
    "C-FIND from CT1 to ORTHANC: 3 matches",
    "ORM^O01 sent to 127.0.0.1:2575, ACK AA",
    "the name of the node is CT1",
    "GET http://127.0.0.11:8044/dicom-web/studies 200",
])
def test_lines_without_patient_data_are_kept(line):
    assert phi.redact_text(line) == line


def _every_pattern(text: str) -> str:
    """redact_text without its pre-check: every pattern over the whole text."""
    for name, replace in (("hl7", lambda m: phi.mask_hl7(m.group(0), phi.REDACTED).rstrip("\r")),
                          ("url", lambda m: f"{m['url']}?{phi.REDACTED}"),
                          ("tag", lambda m: f"({m['tag']}){m['mid']}{phi._wrap(m['val'])}"),
                          ("key", phi._keep_key), ("caret", phi.REDACTED),
                          ("percent", phi.REDACTED)):
        text = phi._pattern(name).sub(replace, text)
    return text


def test_the_pre_check_skips_only_patterns_that_cannot_match():
    # Every key the key pattern knows holds one of the words that make redact_text search.
    for key in phi._TEXT_KEYS:
        assert any(word in key.lower() for word in phi._KEY_WORDS), key
    for tag in phi.DICOM_TAGS:
        assert f"({tag[:4]}," in phi._TRIGGERS["tag"], tag
    lines = [
        "Name: Kofi Mensah", "PatientName=Kofi Mensah PatientID=GH-77123",
        "(0010,0020) LO [GH-77123]", "matched MENSAH^KOFI in CT1", "00100010=MENSAH%5EKOFI",
        "GET https://pacs/dicom-web/studies?PatientID=GH-77123 200",
        "MSH|^~\\&|RIS|H\rPID|1||GH-77123^^^H^MR||MENSAH^KOFI||19790214|M",
        "C-ECHO OK in 3.1 ms (connect 1.0, associate 1.2, echo 0.9)", "OFFIS_DCMTK_367",
        "1.2.276.0.7230010.3.0.3.6.7", "DOB 19790214", "date_of_birth: 19790214",
        # IGNORECASE lets dotless i, long s and the Kelvin sign stand for ASCII letters
        "pat\u0131ent_name=Kofi Mensah", "PATIENT_NAME=\u212aofi", "Name: Ko\u017fi Mensah",
    ]
    for line in lines:
        assert phi.redact_text(line) == _every_pattern(line), line


def test_the_key_pattern_is_skipped_where_no_key_has_its_separator():
    """A peer's fingerprint names its "version name" in every saved echo: no key is followed
    by =, :, a VR or '":' there, so redacting it never compiles the key pattern."""
    basis = "version name 'OFFIS_DCMTK_367' and implementation UID; Orthanc reports DCMTK's"
    assert not phi._key_may_match(basis) and phi.redact_text(basis) == basis
    for line in ("Name: X", "name=X", "PatientName  PN: 'X'", '{"PatientName": "X"}',
                 "Patient's_Name LO [X]", "patient name\t=X", "dob:X", "Date of Birth = X"):
        assert phi._key_may_match(line), line


def test_the_key_pre_check_never_skips_a_match():
    """Random lines of keys, separators and values: the pre-checked redaction is the full one."""
    import random

    rng = random.Random(22)
    keys = [*phi._TEXT_KEYS, "name", "NAME", "version name", "patient"]
    seps = ["", " ", "  ", "=", ":", " = ", ": ", '"', '": ', '" :', " PN", " PN: ", "\tLO ",
            " pn ", "\u00a0:", " Pn", " UID", ";", ",", "_", "'"]
    values = ["Kofi Mensah", "'Kofi'", "[GH-77123]", '"19790214"', "OFFIS_DCMTK_367", "X",
              "*", "", "from CT1", "Kofi", "GH-77123"]
    for _ in range(3000):
        parts = []
        for _ in range(rng.randint(1, 4)):
            key = rng.choice(keys)
            key = rng.choice([key, key.lower(), key.upper(), key.replace(" ", "_")])
            parts += [rng.choice(["", " ", "x", "'", "("]), key, rng.choice(seps),
                      rng.choice(values)]
        line = "".join(parts)
        assert phi.redact_text(line) == _every_pattern(line), line


def test_both_words_of_a_name_but_not_the_words_after_it():
    assert phi.redact_text("PatientName=Kofi Mensah from CT1") == "PatientName=<redacted> from CT1"


def test_nested_json_in_the_shapes_the_commands_save():
    evidence = {
        # find/move/get: the convenience keys and any -k extras, as commands/find.py passes them
        "parameters": {"target": {"label": "ORTHANC@127.0.0.11:4244", "name": "CT room"},
                       "level": "STUDY",
                       "keys": {"name": "MENSAH*", "patient_id": "GH-77123",
                                "birth_date": "19790214", "accession": "A-9"},
                       "extra": {"00100010": "MENSAH^KOFI", "PatientBirthDate": "19790214"}},
        # QIDO: filters by tag; DICOM JSON matches nested under the tag
        "dicomweb": {"filters": {"00100020": "GH-77123", "limit": "5"},
                     "matches": [{"00100010": {"vr": "PN", "Value": [{"Alphabetic": "MENSAH^KOFI"}]}}]},
        "metrics": {"matches": [{"PatientName": "Mensah^Kofi", "StudyDescription": "CT HEAD"}]},
        "summary": "C-FIND PatientName=Kofi Mensah: 1 match",
    }
    cleaned = phi.redact_json(evidence)
    text = json.dumps(cleaned)
    for secret in SECRETS:
        assert secret not in text
    assert cleaned["parameters"]["keys"]["accession"] == "A-9"
    assert cleaned["parameters"]["target"]["name"] == "CT room"
    assert cleaned["parameters"]["keys"]["name"] == phi.REDACTED
    assert cleaned["metrics"]["matches"][0]["StudyDescription"] == "CT HEAD"
    assert phi.redact_json({"keys": {"name": "*"}}) == {"keys": {"name": "*"}}


def test_evidence_is_redacted_when_saved(ctx):
    run = save_test_run(ctx.db, kind="find", outcome="ok", node_label="ORTHANC@127.0.0.11:4244",
                        parameters={"keys": {"name": "MENSAH*", "patient_id": "GH-77123",
                                             "birth_date": "19790214"}},
                        metrics={"matches": [{"PatientName": "Mensah^Kofi"}]},
                        summary="PatientName=Kofi Mensah")
    assert get_test_run(ctx.db, run.id).parameters["keys"]["patient_id"] == phi.REDACTED
    with sqlite3.connect(ctx.paths.database) as con:
        rows = con.execute("SELECT * FROM test_run").fetchall()
    for secret in SECRETS:
        assert secret not in repr(rows)


def test_a_real_find_saves_no_patient_data(orthanc, data_dir):
    for ds in ct_series(1, patient_id="GH-77123", patient_name="Mensah^Kofi"):
        ds.PatientBirthDate = "19790214"
        orthanc.upload(to_bytes(ds))
    proc = run_cli("find", "-aec", "ORTHANC", orthanc.host, str(orthanc.dicom_port),
                   "--name", "MENSAH*", "--patient-id", "GH-77123", "--birth-date", "19790214",
                   "--json", data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["count"] == 1  # the engineer sees the match on screen
    logs = list(data_dir.rglob("*.log"))
    with sqlite3.connect(next(data_dir.rglob("pacs-console.sqlite3"))) as con:
        saved = repr(con.execute("SELECT parameters, metrics, summary FROM test_run").fetchall())
    assert "keys" in saved
    for secret in SECRETS:
        assert secret not in saved
        for log in logs:
            assert secret not in log.read_text("utf-8")


def test_logs_use_the_phi_module_and_redact_tracebacks(tmp_path):
    assert redact is phi.redact_text and bundle.scrub_json is phi.redact_json
    path = setup_logging(tmp_path)
    try:
        raise ValueError("no study for patient_name=Kofi Mensah")
    except ValueError:
        logging.getLogger("pacs_console.test").exception("failed")
    logging.getLogger("httpx").info("HTTP Request: GET http://h/studies?PatientID=GH-77123")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text("utf-8")
    assert "ValueError" in text and "Mensah" not in text and "GH-77123" not in text
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("httpcore").level == logging.WARNING
    setup_logging(tmp_path, verbose=True)
    assert logging.getLogger("httpx").level == logging.DEBUG
    setup_logging(tmp_path)


def test_an_uncaught_exception_prints_no_patient_data(tmp_path):
    code = ("import sys; from pathlib import Path; from pacs_console.logs import setup_logging;"
            f"setup_logging(Path({str(tmp_path)!r}));"
            "raise RuntimeError('C-FIND failed for PatientName=Kofi Mensah PatientID=GH-77123')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 1 and "RuntimeError" in proc.stderr
    log = (tmp_path / "pacs-console.log").read_text("utf-8")
    assert "RuntimeError" in log
    for secret in SECRETS:
        assert secret not in proc.stderr and secret not in log


def test_hl7_masking_uses_the_same_fields():
    from pacs_console.core.hl7.templates import PHI_FIELDS, mask_phi

    assert PHI_FIELDS is phi.HL7_FIELDS
    masked = mask_phi("MSH|^~\\&|A|B\rNK1|1|MENSAH^AMA|SPO|Tamale\rMRG|GH-77123\r")
    assert "MENSAH" not in masked and "GH-77123" not in masked and "SPO" in masked


def test_no_other_module_keeps_its_own_patient_key_list():
    """The diverged lists in logs.py and bundle.py are gone: both use core/phi.py."""
    for module in ("pacs_console/logs.py", "pacs_console/core/sync/bundle.py"):
        source = (ROOT / module).read_text("utf-8")
        assert "PatientBirthDate" not in source and "0010,0010" not in source, module
