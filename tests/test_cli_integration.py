"""`pacs-console hl7`, `dicomweb` and `workflow` as scripts call them: exit codes and JSON."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import time

from pacs_console.core.dicom.synth.studies import generate_study, worklist_items, write_study
from pacs_console.core.hl7 import mllp, templates
from pacs_console.core.hl7.listener import Hl7Listener, ListenerOptions
from pacs_console.core.workflow.scp import ScpBehaviour, WorkflowSCP
from tests.conftest import ROOT, run_cli
from tests.core.dicom_ops.helpers import QUICK
from tests.peers.net import announced_port


def test_hl7_send_template_and_file(data_dir, tmp_path):
    server = Hl7Listener(0, host="127.0.0.1", notify=queue.SimpleQueue()).start()
    try:
        done = run_cli("hl7", "send", "127.0.0.1", str(server.port), "--template", "omi",
                       "--timeout", "5", "--json", data_dir=data_dir)
        assert done.returncode == 0, done.stderr
        doc = json.loads(done.stdout)
        assert doc["result"]["ack"]["code"] == "AA" and doc["test_run_id"]
        pasted = tmp_path / "pasted.hl7"
        text = templates.render("adt-a04", templates.test_patient_fields(2))
        pasted.write_bytes(text.replace("\r", "\r\n").encode())
        loose = run_cli("hl7", "send", "127.0.0.1", str(server.port), str(pasted), "--loose",
                        data_dir=data_dir)
        assert loose.returncode == 0, loose.stderr
        assert "CRLF" in loose.stdout and "MSA-1 AA" in loose.stdout
    finally:
        server.stop()


def test_hl7_send_ack_timeout_and_nack(data_dir):
    silent = Hl7Listener(0, host="127.0.0.1", options=ListenerOptions(answer="none")).start()
    rejecting = Hl7Listener(0, host="127.0.0.1", options=ListenerOptions(answer="AR")).start()
    try:
        start = time.perf_counter()
        done = run_cli("hl7", "send", "127.0.0.1", str(silent.port), "--template", "orm",
                       "--timeout", "0.5", data_dir=data_dir)
        assert done.returncode == 5, done.stdout + done.stderr
        assert "no ACK within 0.5 s" in done.stdout
        assert time.perf_counter() - start < 10
        nack = run_cli("hl7", "send", "127.0.0.1", str(rejecting.port), "--template", "orm",
                       data_dir=data_dir)
        assert nack.returncode == 9 and "MSA-1 AR" in nack.stdout
    finally:
        silent.stop()
        rejecting.stop()


def test_hl7_listen_answers_and_masks(data_dir):
    cmd = [sys.executable, "-m", "pacs_console", "--data-dir", str(data_dir), "hl7", "listen",
           "0", "--bind", "127.0.0.1", "--count", "1", "--duration", "30"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        port = announced_port(proc.stderr)  # any free port: the one it bound
        fields = templates.test_patient_fields(8)
        text = templates.render("orm", fields)
        for _ in range(100):
            result = mllp.send("127.0.0.1", port, text, ack_timeout=5)
            if result.ack is not None:
                break
            time.sleep(0.1)
        assert result.ok
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "ORM^O01" in out and "-> AA" in out
    assert fields["patient_id"] not in out


def test_dicomweb_commands_against_orthanc(orthanc, data_dir, tmp_path):
    study = generate_study("CR", images=2, size=32, seed=12)
    folder = tmp_path / "study"
    write_study(study, folder)
    url = orthanc.url + "/dicom-web"
    stow = run_cli("dicomweb", "stow", url, str(folder), "--json", data_dir=data_dir)
    assert stow.returncode == 0, stow.stderr
    assert json.loads(stow.stdout)["result"]["stored"] == 2
    qido = run_cli("dicomweb", "qido", url, "-k", f"PatientID={study[0].PatientID}", "--json",
                   data_dir=data_dir)
    assert json.loads(qido.stdout)["result"]["matches"][0]["StudyInstanceUID"] == str(
        study[0].StudyInstanceUID)
    wado = run_cli("dicomweb", "wado", url, str(study[0].StudyInstanceUID), data_dir=data_dir)
    assert wado.returncode == 0 and "2 instances" in wado.stdout
    assert len(list((data_dir).rglob("*.dcm"))) == 2
    wrong = run_cli("dicomweb", "qido", orthanc.url + "/nothing-here", data_dir=data_dir)
    assert wrong.returncode == 9 and "HTTP 404" in wrong.stdout


def test_workflow_run_pass_and_fail_lines(data_dir):
    ok_site = WorkflowSCP("SITESCP", 0, host="127.0.0.1", items=worklist_items(3, seed=2),
                          timeouts=QUICK).start()
    bad_site = WorkflowSCP("BADSITE", 0, host="127.0.0.1", items=worklist_items(3, seed=2),
                           behaviour=ScpBehaviour(mpps_create_status=0x0110),
                           timeouts=QUICK).start()
    try:
        done = run_cli("workflow", "run", f"SITESCP@127.0.0.1:{ok_site.port}", "-aet",
                       "WFMODALITY", "--report-port", "0", "--commit-wait", "5",
                       data_dir=data_dir)
        assert done.returncode == 0, done.stdout + done.stderr
        lines = [line for line in done.stdout.splitlines() if line.startswith(("PASS ", "FAIL "))]
        assert len(lines) == 5 and all(line.startswith("PASS") for line in lines)
        bad = run_cli("workflow", "run", f"BADSITE@127.0.0.1:{bad_site.port}", "--report-port",
                      "0", "--commit-wait", "5", "--json", data_dir=data_dir)
        assert bad.returncode == 10
        steps = {s["step"]: s for s in json.loads(bad.stdout)["result"]["steps"]}
        assert steps["mpps-create"]["outcome"] == "failed"
        assert steps["mpps-create"]["diagnosis"]["code"] == "dimse-failure-0110"
        assert steps["store"]["ok"] and steps["mpps-set"]["outcome"] == "skipped"
    finally:
        ok_site.stop()
        bad_site.stop()
