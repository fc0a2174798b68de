"""One function per check kind. Each returns a CheckResult (PASS/WARN/FAIL with the console's own
diagnosis) and never raises for a network or peer failure."""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from pacs_console.core.errors import ConsoleError
from pacs_console.core.health.model import FAIL, PASS, SKIPPED, WARN, CheckResult
from pacs_console.core.health.plan import NodePlan, Thresholds

# How the test C-STORE's study is tagged: removal deletes nothing without both.
TEST_DESCRIPTION = "PACS CONSOLE HEALTH CHECK - TEST DATA"
TEST_PATIENT_ID = "PACSCONSOLE-TEST"


@dataclass
class NodeRun:
    """What one node's checks share: the node, how to reach it, its plan and the last run."""

    node: object  # NodeRecord
    target: object  # core.dicom.wire.target.Target
    plan: NodePlan
    thresholds: Thresholds
    previous: dict[str, CheckResult] = field(default_factory=dict)
    scratch: dict = field(default_factory=dict)  # e.g. the echo's association report
    secrets: object = None  # the secret store, for a DICOMweb endpoint's credentials
    today: date = field(default_factory=lambda: datetime.now(UTC).date())


def _p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _result(run: NodeRun, check: str, result: str, summary: str, *, diagnosis=None,
            metrics=None, start: float) -> CheckResult:
    return CheckResult(run.plan.node, check, result, summary,
                       diagnosis.to_dict() if diagnosis is not None else None, metrics or {},
                       round((time.perf_counter() - start) * 1000, 3))


def route(run: NodeRun) -> CheckResult:
    """TCP connects to the node's port: latency and loss from this laptop's route."""
    from pacs_console.core.dicom.diagnosis.diagnose import diagnose_socket_error

    start, times, last_error = time.perf_counter(), [], None
    target = run.target
    for _ in range(5):
        t0 = time.perf_counter()
        try:
            with socket.create_connection((target.host, target.port),
                                          timeout=target.timeouts.connect):
                times.append((time.perf_counter() - t0) * 1000)
        except OSError as exc:
            last_error = exc
    loss = 100.0 * (5 - len(times)) / 5
    metrics = {"sent": 5, "answered": len(times), "loss_pct": loss,
               "median_ms": round(statistics.median(times), 3) if times else None,
               "p95_ms": round(_p95(times), 3) if times else None}
    if not times:
        diagnosis = diagnose_socket_error(last_error, target.host, target.port,
                                          target.timeouts.connect)
        return _result(run, "route", FAIL, f"No TCP connection: {diagnosis.what}",
                       diagnosis=diagnosis, metrics=metrics, start=start)
    verdict = WARN if loss > run.thresholds.route_loss_warn_pct else PASS
    return _result(run, "route", verdict, f"TCP connect {metrics['median_ms']:.1f} ms median, "
                   f"{loss:.0f} % lost", metrics=metrics, start=start)


def echo(run: NodeRun) -> CheckResult:
    from pacs_console.core.dicom.ops.echo import echo_target

    start, times, failure = time.perf_counter(), [], None
    for _ in range(run.plan.echo_count):
        result = echo_target(run.target)
        if result.ok:
            times.append(result.total_ms or 0.0)
            run.scratch.setdefault("association", result.association)
        else:
            failure = result.diagnosis
    count = run.plan.echo_count
    metrics = {"sent": count, "ok": len(times), "loss_pct": 100.0 * (count - len(times)) / count,
               "median_ms": round(statistics.median(times), 3) if times else None,
               "p95_ms": round(_p95(times), 3) if times else None}
    if not times:
        return _result(run, "echo", FAIL, f"C-ECHO failed: {failure.what if failure else '?'}",
                       diagnosis=failure, metrics=metrics, start=start)
    slow = metrics["p95_ms"] > run.thresholds.echo_p95_warn_ms
    verdict = WARN if failure is not None or slow else PASS
    text = (f"{len(times)}/{count} C-ECHO OK, median {metrics['median_ms']:.1f} ms, "
            f"p95 {metrics['p95_ms']:.1f} ms")
    if slow:
        text += f" (over {run.thresholds.echo_p95_warn_ms:g} ms)"
    return _result(run, "echo", verdict, text, diagnosis=failure, metrics=metrics, start=start)


def association(run: NodeRun) -> CheckResult:
    """What the node says about itself and the presentation contexts it accepts (one
    association proposing the common services and image classes), against the last run."""
    from pacs_console.core.health.contexts import accepted_contexts, context_changes

    start = time.perf_counter()
    contexts, probed, failure = accepted_contexts(run.target)
    report = run.scratch.get("association") or probed
    if report is None:
        what = failure.what if failure else "?"
        return _result(run, "association", FAIL, f"No association: {what}",
                       diagnosis=failure, start=start)
    peer = report.get("peer", {})
    metrics = {"implementation_class_uid": peer.get("implementation_class_uid", ""),
               "implementation_version_name": peer.get("implementation_version_name", ""),
               "max_pdu": peer.get("max_pdu"), "accepted": sorted(contexts or ()),
               "contexts": contexts}
    text = (f"{metrics['implementation_version_name'] or 'no version name'}, max PDU "
            f"{metrics['max_pdu']}, {len(contexts or ())} of the proposed SOP classes accepted")
    before = run.previous.get("association")
    changed = []
    if before is not None and before.metrics:
        for key, label in (("implementation_version_name", "version"),
                           ("implementation_class_uid", "implementation class"),
                           ("max_pdu", "max PDU")):
            if before.metrics.get(key) != metrics[key]:
                changed.append(f"{label} {before.metrics.get(key)} -> {metrics[key]}")
        if isinstance(before.metrics.get("contexts"), dict) and contexts is not None:
            diff = context_changes(before.metrics["contexts"], contexts)
            metrics["context_changes"] = diff.to_dict()
            changed += diff.lines()
    if changed:
        return _result(run, "association", WARN, "Changed since the last run: "
                       + "; ".join(changed), metrics=metrics, start=start)
    return _result(run, "association", PASS, text, metrics=metrics, start=start)


def _find(run: NodeRun, check: str, model: str, keys: dict, what: str) -> CheckResult:
    from pacs_console.core.dicom.ops.query import find

    start = time.perf_counter()
    try:
        generator = find(run.target, "STUDY", keys, model=model, limit=1000)
        while True:
            next(generator)
    except StopIteration as stop:
        result = stop.value
    except ConsoleError as exc:
        return _result(run, check, FAIL, f"{what} failed: {exc.diagnosis.what}",
                       diagnosis=exc.diagnosis, start=start)
    metrics = {"count": result.count, "status": result.status,
               "truncated": result.matches_truncated, "keys": keys,
               "duration_ms": round(result.duration_ms, 3)}
    if result.outcome == "failed":
        return _result(run, check, FAIL, result.summary(), diagnosis=result.diagnosis,
                       metrics=metrics, start=start)
    return _result(run, check, PASS, f"{what}: {result.count} match(es) in "
                   f"{result.duration_ms:.0f} ms", metrics=metrics, start=start)


def find_studies(run: NodeRun) -> CheckResult:
    since = run.today - timedelta(days=run.plan.find_days)
    keys = {"date": f"{since:%Y%m%d}-{run.today:%Y%m%d}"}
    return _find(run, "find", "study", keys, f"C-FIND studies of the last {run.plan.find_days} days")


def worklist(run: NodeRun) -> CheckResult:
    keys = {"station_ae": run.plan.station_ae} if run.plan.station_ae else {}
    what = "Worklist" + (f" for {run.plan.station_ae}" if run.plan.station_ae else "")
    return _find(run, "worklist", "worklist", keys, what)


def tls(run: NodeRun) -> CheckResult:
    from pacs_console.core.dicom.diagnosis.diagnose_tls import diagnose_tls_error
    from pacs_console.core.dicom.wire.tls import handshake

    start = time.perf_counter()
    target = run.target
    if target.tls is None:
        return _result(run, "tls", SKIPPED, "No TLS configured for this node", start=start)
    try:
        shake = handshake(target.tls, target.host, target.port, target.timeouts.connect)
    except OSError as exc:
        diagnosis = diagnose_tls_error(exc, target.host, target.port)
        return _result(run, "tls", FAIL, f"TLS: {diagnosis.what}", diagnosis=diagnosis,
                       start=start)
    expires = datetime.strptime(shake.not_after, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=UTC)
    days = (expires - datetime.now(UTC)).days
    metrics = {"protocol": shake.protocol, "cipher": shake.cipher, "days_left": days,
               "not_after": expires.isoformat(), "subject": shake.peer_subject}
    verdict = WARN if days < run.thresholds.cert_days_warn or shake.protocol in (
        "TLSv1", "TLSv1.1") else PASS
    return _result(run, "tls", verdict, f"{shake.protocol}, certificate valid {days} more days",
                   metrics=metrics, start=start)


def store(run: NodeRun) -> CheckResult:
    """One generated test image (tagged as test data), only where the plan allows it."""
    start = time.perf_counter()
    if not run.plan.allow_store:
        return _result(run, "store", SKIPPED, "C-STORE not allowed for this node by the plan",
                       start=start)
    from pacs_console.core.dicom.ops.store import store as send
    from pacs_console.core.dicom.synth.studies import generate_study

    study = generate_study("CT", images=1, series=1, size=64)
    for ds in study:  # tagged so the site can find and remove it
        ds.StudyDescription = TEST_DESCRIPTION
        ds.PatientName = "TEST^HEALTHCHECK"
        ds.PatientID = TEST_PATIENT_ID
    try:
        generator = send(run.target, study)
        while True:
            next(generator)
    except StopIteration as stop:
        result = stop.value
    except ConsoleError as exc:
        return _result(run, "store", FAIL, f"C-STORE failed: {exc.diagnosis.what}",
                       diagnosis=exc.diagnosis, start=start)
    metrics = {"sent": result.sent, "failed": result.failed,
               "study_uid": str(study[0].StudyInstanceUID),
               "series_uid": str(study[0].SeriesInstanceUID),
               "instances": [str(ds.SOPInstanceUID) for ds in study]}
    if result.failed or not result.sent:
        return _result(run, "store", FAIL, result.summary(), metrics=metrics, start=start)
    return _result(run, "store", PASS, "Test image stored (study "
                   f"{metrics['study_uid']}; remove it after the visit: health SITE "
                   "--remove-test-data)", metrics=metrics,
                   start=start)


def dicomweb_url(run: NodeRun) -> str:
    scheme = "https" if run.target.tls is not None else "http"
    return run.plan.dicomweb_url or f"{scheme}://{run.target.host}:{run.target.port}/dicom-web"


def retrieve(run: NodeRun) -> CheckResult:
    """C-GET of the plan's known study into the console (a scratch folder): every instance
    arrives and decodes; throughput."""
    from pacs_console.core.health.archive import study_digests

    start = time.perf_counter()
    uid = run.plan.retrieve_study_uid
    if not uid:
        return _result(run, "retrieve", SKIPPED, "No known study in the plan "
                       "(retrieve_study_uid)", start=start)
    result, digests = study_digests(run.target, uid)
    bad = sorted(k for k, v in digests.items() if v.startswith("unreadable"))
    metrics = {"study_uid": uid, "completed": result.completed, "failed": result.failed,
               "received": len(digests), "undecodable": bad[:20],
               "mb_per_s": round(result.mb_per_s, 3),
               "images_per_s": round(result.images_per_s, 3),
               "duration_ms": round(result.duration_ms, 3)}
    if result.outcome == "failed" or not digests:
        what = result.diagnosis.what if result.diagnosis else "no instance arrived"
        return _result(run, "retrieve", FAIL, f"C-GET of the known study failed: {what}",
                       diagnosis=result.diagnosis, metrics=metrics, start=start)
    text = (f"C-GET {len(digests)} instance(s) in {result.duration_ms:.0f} ms "
            f"({result.mb_per_s:.1f} MB/s)")
    if result.failed or bad:
        return _result(run, "retrieve", WARN, text + f", {result.failed} failed, {len(bad)} "
                       "undecodable", diagnosis=result.diagnosis, metrics=metrics, start=start)
    return _result(run, "retrieve", PASS, text, metrics=metrics, start=start)


def qido_studies(run: NodeRun, date_range: str, limit: int):
    """A QIDO-RS study search over ``date_range``: the WebResult (ConsoleError when the
    endpoint cannot be used, e.g. an unreadable CA file)."""
    from pacs_console.core.dicomweb.auth import Credentials, load_credentials
    from pacs_console.core.dicomweb.client import Endpoint, qido

    url = dicomweb_url(run)
    creds = load_credentials(run.secrets, url) if run.secrets is not None else Credentials()
    endpoint = Endpoint(url, creds, run.target.timeouts.connect, run.target.timeouts.dimse,
                        getattr(run.node, "tls_ca_file", "") or True)
    return qido(endpoint, "study", {"StudyDate": date_range}, limit=limit)


def dicomweb(run: NodeRun) -> CheckResult:
    """A QIDO-RS study search for the last days (at most a few matches), timed."""
    start = time.perf_counter()
    url = dicomweb_url(run)
    since = run.today - timedelta(days=run.plan.find_days)
    try:
        result = qido_studies(run, f"{since:%Y%m%d}-{run.today:%Y%m%d}", 10)
    except ConsoleError as exc:
        return _result(run, "dicomweb", FAIL, f"QIDO-RS not possible: {exc.diagnosis.what}",
                       diagnosis=exc.diagnosis, start=start)
    metrics = {"url": url, "status": result.status, "matches": len(result.matches),
               "duration_ms": round(result.duration_ms, 3)}
    if not result.ok:
        return _result(run, "dicomweb", FAIL, result.summary(), diagnosis=result.diagnosis,
                       metrics=metrics, start=start)
    return _result(run, "dicomweb", PASS, f"QIDO-RS {url}: HTTP {result.status}, "
                   f"{len(result.matches)} studies of the last {run.plan.find_days} days "
                   f"(at most 10) in {result.duration_ms:.0f} ms", metrics=metrics, start=start)


def hl7(run: NodeRun) -> CheckResult:
    """A test ADT^A04 (processing ID T, a synthetic patient) to an HL7 test interface, only with
    the engineer's consent in the plan; PASS on an accepting ACK."""
    start = time.perf_counter()
    if not run.plan.allow_hl7:
        return _result(run, "hl7", SKIPPED, "Test ADT not allowed for this interface by the "
                       "plan (allow_hl7)", start=start)
    from pacs_console.core.hl7.mllp import send
    from pacs_console.core.hl7.templates import render, test_patient_fields

    port = run.plan.hl7_port or run.target.port
    message = render("adt-a04", test_patient_fields(), processing_id="T",
                     sending_app=run.target.calling_ae, receiving_app=run.target.called_ae)
    result = send(run.target.host, port, message, connect_timeout=run.target.timeouts.connect,
                  ack_timeout=run.target.timeouts.dimse, tls=run.target.tls)
    ack = result.ack.code if result.ack else None
    metrics = {"port": port, "ack_code": ack, "connect_ms": result.connect_ms,
               "ack_ms": result.ack_ms, "control_id": result.message.get("control_id", ""),
               "message_type": result.message.get("type", "")}
    verdict = {"ok": PASS, "warning": WARN}.get(result.outcome, FAIL)
    return _result(run, "hl7", verdict, result.summary(), diagnosis=result.diagnosis,
                   metrics=metrics, start=start)


CHECK_FUNCTIONS: dict[str, Callable[[NodeRun], CheckResult]] = {
    "route": route, "echo": echo, "association": association, "tls": tls,
    "find": find_studies, "worklist": worklist, "retrieve": retrieve, "dicomweb": dicomweb,
    "hl7": hl7,
    "store": store}
