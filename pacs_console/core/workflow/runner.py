"""Play a modality against the site: worklist, MPPS, store, commitment, MPPS final; one run a step."""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass, field

from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.workflow import datasets as wds
from pacs_console.core.workflow import steps as st


@dataclass
class WorkflowPlan:
    """Which node plays which role; a role without a node is skipped (or simulated for MWL)."""

    worklist: Target | None = None
    mpps: Target | None = None
    store: Target | None = None
    commit: Target | None = None
    worklist_keys: dict = field(default_factory=dict)
    images: int = 2
    finish: str = "COMPLETED"  # or DISCONTINUED
    commit_mode: str = "any"  # same, separate or any
    report_host: str = "0.0.0.0"
    report_port: int | None = None  # None: no listener for reports on a separate association
    commit_wait: float = 30.0
    node_ids: dict = field(default_factory=dict)  # role -> address-book id, for the evidence

    def to_dict(self) -> dict:
        return {role: getattr(self, role).label if getattr(self, role) else None
                for role in ("worklist", "mpps", "store", "commit")} | {
            "images": self.images, "finish": self.finish, "commit_mode": self.commit_mode,
            "report_port": self.report_port, "worklist_keys": self.worklist_keys}


@dataclass
class WorkflowResult:
    steps: list[st.StepResult] = field(default_factory=list)
    item: dict = field(default_factory=dict)
    duration_ms: float = 0.0
    run_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok or s.outcome == "skipped" for s in self.steps)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "duration_ms": round(self.duration_ms, 3),
                "steps": [s.to_dict() for s in self.steps], "test_run_ids": self.run_ids,
                "scheduled": {k: self.item.get(k, "") for k in (
                    "AccessionNumber", "StudyInstanceUID", "RequestedProcedureID",
                    "ScheduledProcedureStepID", "Modality")}}


def _skip(step: str, why: str) -> st.StepResult:
    return st.StepResult(step, outcome="skipped", summary=why)


def worklist_step(target: Target | None, keys: dict) -> tuple[st.StepResult, dict | None]:
    """C-FIND the scheduled step; without a worklist node, a synthetic one (marked as such)."""
    from pacs_console.core.dicom.ops.query import find

    if target is None:
        from pacs_console.core.dicom.ops.query import flatten
        from pacs_console.core.dicom.synth.studies import worklist_items

        item = flatten(worklist_items(1, seed=int(time.time()) % 100000)[0])
        step = _skip("mwl", "no worklist node: a generated scheduled step is used")
        step.details = {"accession": item.get("AccessionNumber", "")}
        return step, item
    step = st.StepResult("mwl", target=target)
    start = time.perf_counter()
    search = find(target, "WORKLIST", keys, model="worklist", limit=50)
    matches = []
    while True:
        try:
            matches.append(next(search))
        except StopIteration as stop:
            found = stop.value
            break
    step.duration_ms = (time.perf_counter() - start) * 1000
    step.association = found.association
    step.details = {"matches": len(matches), "keys": keys}
    if not matches:
        step.diagnosis = found.diagnosis or Diagnosis(
            "mwl-empty", "The worklist returned no scheduled step", (), (), {})
        step.summary = step.diagnosis.what
        return step, None
    item = matches[0]
    step.outcome = "ok"
    step.details.update({"accession": item.get("AccessionNumber", ""),
                         "study_uid": item.get("StudyInstanceUID", ""),
                         "sps_id": item.get("ScheduledProcedureStepID", ""),
                         "modality": item.get("Modality", "")})
    step.summary = (f"{len(matches)} scheduled step(s); using accession "
                    f"{item.get('AccessionNumber', '') or '(none)'}")
    return step, item


def make_study(item: dict, images: int) -> list:
    """A generated study carrying the worklist's patient, accession and study UID."""
    from pydicom import Dataset
    from pydicom.sequence import Sequence as DicomSequence

    from pacs_console.core.dicom.synth.studies import SPECS, PatientInfo, generate_study

    modality = (item.get("Modality") or "CT").upper()
    if modality not in SPECS:
        modality = "CT"  # SPECS lacks some modalities; the identifiers are what matter here
    patient = PatientInfo(item.get("PatientName", "") or "Test^Patient",
                          item.get("PatientID", "") or "TEST0001",
                          item.get("PatientBirthDate", "") or "19800101",
                          item.get("PatientSex", "") or "O")
    study = generate_study(modality, images=images, series=1, size=64, patient=patient)
    for ds in study:
        if item.get("StudyInstanceUID"):
            ds.StudyInstanceUID = item["StudyInstanceUID"]
        ds.AccessionNumber = item.get("AccessionNumber", "")
        request = Dataset()
        request.RequestedProcedureID = item.get("RequestedProcedureID", "")
        request.ScheduledProcedureStepID = item.get("ScheduledProcedureStepID", "")
        request.AccessionNumber = item.get("AccessionNumber", "")
        ds.RequestAttributesSequence = DicomSequence([request])
    return study


def run_workflow(plan: WorkflowPlan, db=None) -> Generator[st.StepResult, None, WorkflowResult]:
    """Yield each step's result as it finishes; with ``db`` each step is saved as a test run."""
    result = WorkflowResult()
    start = time.perf_counter()
    listener = None

    def done(step: st.StepResult) -> st.StepResult:
        result.steps.append(step)
        if db is not None and step.outcome != "skipped":
            from pacs_console.core.db.testruns import save_test_run

            role = {"mwl": "worklist", "mpps-create": "mpps", "mpps-set": "mpps"}.get(
                step.step, step.step)
            run = save_test_run(db, node_id=plan.node_ids.get(role), **step.evidence())
            result.run_ids.append(run.id)
        return step

    try:
        step, item = worklist_step(plan.worklist, plan.worklist_keys)
        yield done(step)
        if item is None:
            for name in st.STEPS[1:]:
                yield done(_skip(name, "no scheduled step"))
            return result
        result.item = item
        calling = next((t.calling_ae for t in (plan.mpps, plan.store, plan.commit) if t),
                       "PACSCONSOLE")
        modality = (item.get("Modality") or "CT").upper()
        mpps_uid = ""
        if plan.mpps is not None:
            step, mpps_uid = st.mpps_create(plan.mpps, wds.mpps_in_progress(item, calling, modality))
            yield done(step)
            if not step.ok:
                mpps_uid = ""
        else:
            yield done(_skip("mpps-create", "no MPPS node"))
        study = make_study(item, plan.images)
        if plan.store is not None:
            yield done(store_step(plan.store, study))
        else:
            yield done(_skip("store", "no storage node"))
        stored_ok = plan.store is not None and result.steps[-1].ok
        if plan.commit is not None and stored_ok:
            if plan.report_port is not None and plan.commit_mode in ("separate", "any"):
                try:
                    listener = st.ReportListener(calling, plan.report_host, plan.report_port,
                                                 plan.commit.timeouts)
                except (OSError, ValueError) as exc:
                    yield done(_listener_failed(plan, exc))
                    listener = False
            if listener is not False:
                instances = [(str(ds.SOPClassUID), str(ds.SOPInstanceUID)) for ds in study]
                yield done(st.commit(plan.commit, instances, mode=plan.commit_mode,
                                     listener=listener or None, wait=plan.commit_wait))
        else:
            yield done(_skip("commit", "no commitment node" if plan.commit is None
                             else "nothing stored to commit"))
        if mpps_uid:
            final = plan.finish if plan.finish in ("COMPLETED", "DISCONTINUED") else "COMPLETED"
            yield done(st.mpps_set(plan.mpps, mpps_uid, wds.mpps_final(final, study, calling)))
        else:
            yield done(_skip("mpps-set", "no MPPS step in progress"))
    finally:
        if listener:
            listener.close()
        result.duration_ms = (time.perf_counter() - start) * 1000
    return result


def _listener_failed(plan: WorkflowPlan, exc: Exception) -> st.StepResult:
    step = st.StepResult("commit", target=plan.commit)
    step.diagnosis = Diagnosis(
        "report-port-busy", f"Cannot listen for commitment reports on port {plan.report_port}: "
        f"{exc}", ("another program (or the console's Storage SCP) uses the port",),
        ("choose another report port and configure it on the node",), {})
    step.summary = step.diagnosis.what
    return step


def store_step(target: Target, study: list) -> st.StepResult:
    from pacs_console.core.dicom.ops.store import store

    step = st.StepResult("store", target=target)
    start = time.perf_counter()
    operation = store(target, study)
    try:
        while True:
            next(operation)
    except StopIteration as stop:
        stored = stop.value
    except ConsoleError as exc:
        step.diagnosis = exc.diagnosis
        return step
    step.duration_ms = (time.perf_counter() - start) * 1000
    step.association = stored.association
    step.outcome = "ok" if stored.outcome == "ok" else ("warning" if stored.outcome == "warning"
                                                         else "failed")
    step.diagnosis = stored.diagnosis
    step.details = {**stored.metrics(), "study_uid": str(study[0].StudyInstanceUID),
                    "accession": str(study[0].AccessionNumber)}
    step.summary = stored.summary() if step.ok or not stored.diagnosis else stored.diagnosis.what
    return step
