"""The modality workflow against DCMTK wlmscpfs, the console's own SCPs and Orthanc's commitment."""

from __future__ import annotations

import queue

import pytest

from pacs_console.core.db.testruns import list_test_runs
from pacs_console.core.dicom.synth.studies import worklist_items
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.workflow.runner import WorkflowPlan, run_workflow
from pacs_console.core.workflow.scp import ScpBehaviour, WorkflowSCP
from tests.core.dicom_ops.helpers import QUICK, drain, free_port, target_of

MODALITY = "WFMODALITY"


@pytest.fixture
def site(stopped_after):
    """Start the console's workflow SCP with a chosen behaviour; stopped after the test."""
    def start(**behaviour):
        events: queue.SimpleQueue = queue.SimpleQueue()
        scp = stopped_after(WorkflowSCP("SITESCP", 0, host="127.0.0.1",
                                        items=worklist_items(4, seed=5),
                                        behaviour=ScpBehaviour(**behaviour), timeouts=QUICK,
                                        notify=events))
        return scp, Target("127.0.0.1", scp.port, "SITESCP", MODALITY, QUICK), events

    return start


def _by_step(result):
    return {s.step: s for s in result.steps}


def test_full_workflow_wlmscpfs_and_console_scps(wlmscpfs, site, ctx):
    scp, target, events = site()
    plan = WorkflowPlan(worklist=target_of(wlmscpfs, calling_ae=MODALITY), mpps=target,
                        store=target, commit=target, commit_wait=5)
    yielded, result = drain(run_workflow(plan, ctx.db))
    steps = _by_step(result)
    assert [s.step for s in yielded] == ["mwl", "mpps-create", "store", "commit", "mpps-set"]
    assert result.ok, [s.to_dict() for s in result.steps if not s.ok]
    assert steps["mwl"].details["matches"] == 10  # DCMTK's ten example items
    assert steps["commit"].details["report_association"] == "same"
    assert steps["commit"].details["committed"] == 2
    # the study carried the worklist's identifiers, and MPPS saw the scheduled step
    accession = result.item["AccessionNumber"]
    assert steps["store"].details["accession"] == accession
    mpps = next(iter(scp.mpps.values()))
    assert mpps["status"] == "COMPLETED" and mpps["accession"] == accession
    assert mpps["study_uid"] == steps["store"].details["study_uid"] == result.item[
        "StudyInstanceUID"]
    runs = list_test_runs(ctx.db)
    assert {r.kind for r in runs} == {"workflow-mwl", "workflow-mpps-create", "workflow-store",
                                      "workflow-commit", "workflow-mpps-set"}
    assert all(r.outcome == "ok" and r.duration_ms > 0 for r in runs)
    services = set()
    while not events.empty():
        services.add(events.get().service)
    assert {"mpps-create", "store", "commit", "report", "mpps-set"} <= services


def test_commitment_report_on_a_separate_association_and_discontinued(site):
    port = free_port()
    scp, target, _ = site(report="separate", peers={MODALITY: ("127.0.0.1", port)})
    plan = WorkflowPlan(worklist=target, mpps=target, store=target, commit=target,
                        commit_mode="separate", report_host="127.0.0.1", report_port=port,
                        finish="DISCONTINUED", commit_wait=5)
    _, result = drain(run_workflow(plan))
    steps = _by_step(result)
    assert result.ok, [s.to_dict() for s in result.steps]
    assert steps["commit"].details["report_association"] == "separate"
    assert next(iter(scp.mpps.values()))["status"] == "DISCONTINUED"


def test_commitment_refused_for_some_instances(site):
    scp, target, _ = site()
    from pacs_console.core.workflow import runner

    original = runner.make_study

    def study_with_refusals(item, images):
        study = original(item, images)
        scp.behaviour.refuse_commit.add(str(study[0].SOPInstanceUID))
        return study

    runner.make_study = study_with_refusals
    try:
        plan = WorkflowPlan(worklist=target, mpps=target, store=target, commit=target, images=3,
                            commit_wait=5)
        _, result = drain(run_workflow(plan))
    finally:
        runner.make_study = original
    commit = _by_step(result)["commit"]
    assert commit.outcome == "failed"
    assert commit.diagnosis.code == "commit-failures"
    assert commit.details["committed"] == 2 and len(commit.details["failed"]) == 1
    assert commit.details["failed"][0]["reason"] == "0x0110"
    assert _by_step(result)["mpps-set"].ok  # the workflow carries on to close the step


def test_mpps_rejected(site):
    _, target, _ = site(mpps_create_status=0x0110)
    plan = WorkflowPlan(worklist=target, mpps=target, store=target, commit=target, commit_wait=5)
    _, result = drain(run_workflow(plan))
    steps = _by_step(result)
    assert steps["mpps-create"].outcome == "failed"
    assert steps["mpps-create"].details["status"] == "0x0110"
    assert "Processing failure" in steps["mpps-create"].diagnosis.what
    assert steps["mpps-set"].outcome == "skipped"
    assert steps["store"].ok and steps["commit"].ok
    assert not result.ok


def test_mpps_set_on_a_finished_step_is_refused(site):
    from pacs_console.core.workflow import datasets as wds
    from pacs_console.core.workflow import steps as st

    scp, target, _ = site()
    item = {"AccessionNumber": "A1", "StudyInstanceUID": "1.2.3", "PatientID": "P1"}
    created, uid = st.mpps_create(target, wds.mpps_in_progress(item, MODALITY, "CT"))
    assert created.ok
    assert st.mpps_set(target, uid, wds.mpps_final("COMPLETED", [], MODALITY)).ok
    again = st.mpps_set(target, uid, wds.mpps_final("DISCONTINUED", [], MODALITY))
    assert again.details["status"] == "0xA710" and not again.ok


def test_commitment_report_never_arrives(site):
    # The site sends its report on a separate association to an address where nobody listens.
    _, target, _ = site(report="separate", peers={MODALITY: ("127.0.0.1", free_port())})
    plan = WorkflowPlan(worklist=target, store=target, commit=target, commit_mode="same",
                        commit_wait=0.8)
    _, result = drain(run_workflow(plan))
    commit = _by_step(result)["commit"]
    assert commit.diagnosis.code == "commit-report-timeout"
    assert 0.7 < commit.duration_ms / 1000 < 3


def test_orthanc_storage_commitment(orthanc, wlmscpfs):
    """Orthanc commits what it stored and reports on a new association to the modality."""
    port = free_port()
    orthanc.add_modality(MODALITY, MODALITY, "127.0.0.1", port)
    pacs = target_of(orthanc, calling_ae=MODALITY)
    plan = WorkflowPlan(worklist=target_of(wlmscpfs, calling_ae=MODALITY), store=pacs,
                        commit=pacs, report_host="127.0.0.1", report_port=port, commit_wait=10)
    _, result = drain(run_workflow(plan))
    commit = _by_step(result)["commit"]
    assert commit.ok, commit.to_dict()
    assert commit.details["report_association"] == "separate"
    assert commit.details["committed"] == 2
    assert len(orthanc.rest("GET", "/instances")) == 2


def test_orthanc_refuses_commitment_of_instances_it_does_not_have(orthanc):
    from pacs_console.core.workflow import steps as st

    listener = st.ReportListener(MODALITY, "127.0.0.1", 0, QUICK)  # any free port, then told
    try:
        orthanc.add_modality(MODALITY, MODALITY, "127.0.0.1", listener.port)
        step = st.commit(target_of(orthanc, calling_ae=MODALITY),
                         [("1.2.840.10008.5.1.4.1.1.2", "1.2.3.999.1")], listener=listener,
                         wait=10)
    finally:
        listener.close()
    assert step.diagnosis.code == "commit-failures"
    assert step.details["failed"][0]["sop_instance_uid"] == "1.2.3.999.1"
