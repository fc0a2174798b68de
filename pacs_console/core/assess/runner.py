"""Run an assessment: nodes in parallel (at most ``concurrency``), each node's checks one after
another with ``interval`` between two connections; a generator yielding progress, cancelled by
closing it."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Generator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import UTC, datetime

from pacs_console.core.assess import dicom_checks, hl7_checks, software, tls_checks, web_checks
from pacs_console.core.assess.catalog import CHECKS
from pacs_console.core.assess.model import (
    Assessment,
    AssessOptions,
    AssessProgress,
    Finding,
    NodeReport,
    NotTested,
    Service,
)

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """The assessment was stopped: the node's remaining checks do not run."""


class NodeRun:
    """One node's checks: pacing, findings, what was not tested, identities seen."""

    def __init__(self, host: str, options: AssessOptions, stop: threading.Event,
                 hl7_ports: tuple[int, ...]) -> None:
        self.host, self.options, self.stop, self.hl7_ports = host, options, stop, hl7_ports
        self.report = NodeReport(host)
        self._last = 0.0
        self.identities: dict[int, tuple[str, str]] = {}  # port -> (product, version)
        self.titles: dict[int, str] = {}  # DICOM port -> AE title a web API announced

    def pace(self) -> None:
        """Wait until ``interval`` has passed since this node's previous connection."""
        if self.stop.is_set():
            raise Cancelled
        delay = self._last + self.options.interval - time.monotonic()
        if delay > 0 and self.stop.wait(delay):
            raise Cancelled
        self._last = time.monotonic()

    def add(self, check: str, service: Service, evidence: str) -> None:
        spec = CHECKS[check]
        if not self.options.wants(spec.family):
            return
        finding = Finding(service.host, service.port, check, spec.severity, evidence,
                          spec.remedy, spec.title)
        if all(f.key != finding.key for f in self.report.findings):
            self.report.findings.append(finding)

    def skip(self, check: str, service: Service, reason: str) -> None:
        if self.options.wants(CHECKS[check].family):
            self.report.not_tested.append(NotTested(service.host, service.port, check, reason))

    def identity(self, service: Service, class_uid: str, version_name: str) -> None:
        if class_uid or version_name:
            product, version = software.from_association(class_uid, version_name, service.port)
            self.identities.setdefault(service.port, (product, version))

    def web_identity(self, service: Service, product: str, version: str,
                     ae_title: str = "", dicom_port: int = 0) -> None:
        self.identities[service.port] = (product, version)
        if ae_title and dicom_port:
            self.titles[dicom_port] = ae_title[:16]
            # Orthanc answers DICOM with DCMTK's identity: its REST API names it for sure.
            self.identities[dicom_port] = (product, version)


def assess_node(run: NodeRun, services: list[Service]) -> NodeReport:
    start = time.perf_counter()
    wants = run.options.wants
    try:
        web_first = sorted(services, key=lambda s: s.kind not in ("http", "https"))
        for service in web_first:
            if service.kind in ("dicom", "dicom-tls", "probe") and not service.ae_title \
                    and service.port in run.titles:
                service = dataclasses.replace(service, ae_title=run.titles[service.port])
            if service.kind == "probe":
                facts = tls_checks.assess(run, service) if wants("transport") else \
                    _tls_only(run, service)
                if facts is None:
                    continue
                service = dataclasses.replace(service, kind="dicom-tls")
            elif service.kind in ("dicom-tls", "https") and wants("transport"):
                tls_checks.assess(run, service)
            run.report.services.append(service)
            if service.kind == "dicom" and wants("transport"):
                run.add("dicom-no-tls", service, f"port {service.port} answers DICOM "
                        "associations in clear (no TLS): images, reports and patient data "
                        "cross the network readable")
            if service.kind in ("dicom", "dicom-tls") and (wants("dicom") or wants("software")):
                if service.implementation_class_uid or service.implementation_version_name:
                    run.identity(service, service.implementation_class_uid,
                                 service.implementation_version_name)
                if wants("dicom"):
                    dicom_checks.assess(run, service)
            elif service.kind in ("http", "https") and (wants("web") or wants("software")):
                web_checks.assess(run, service)
            elif service.kind == "hl7" and wants("hl7"):
                hl7_checks.assess(run, service)
        if wants("hl7"):
            for port in run.hl7_ports:
                if all(s.port != port for s in services) and hl7_checks.is_open(run, run.host,
                                                                                port):
                    service = Service(run.host, port, "hl7")
                    run.report.services.append(service)
                    hl7_checks.assess(run, service)
        if wants("software"):
            for port, (product, version) in run.identities.items():
                found = software.age_finding(product, version)
                if found:
                    run.add(found[0], Service(run.host, port, "dicom"), found[1])
    except Cancelled:
        pass
    except Exception as exc:  # noqa: BLE001 - one odd node must not end the assessment
        log.exception("assessment of %s failed", run.host)
        run.report.not_tested.append(NotTested(run.host, 0, "all",
                                               f"stopped: {type(exc).__name__}: {exc}"[:200]))
    run.report.seconds = time.perf_counter() - start
    return run.report


def _tls_only(run: NodeRun, service: Service) -> dict | None:
    run.pace()
    try:
        return tls_checks.handshake(service.host, service.port, run.options.timeout)
    except tls_checks.NotTls:
        return None


def run_assessment(hosts: dict[str, list[Service]], options: AssessOptions, *, site: str = "",
                   targets: str = "", hl7_ports: tuple[int, ...] = hl7_checks.DEFAULT_PORTS,
                   discovery_s: float = 0.0
                   ) -> Generator[AssessProgress, None, Assessment]:
    """Assess every host; yield progress as nodes finish; return the Assessment."""
    started_at, start = datetime.now(UTC), time.perf_counter()
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max(1, options.concurrency),
                              thread_name_prefix="assess")
    total = len(hosts)
    reports: list[NodeReport] = []
    try:
        pending = {pool.submit(assess_node, NodeRun(host, options, stop, hl7_ports), services)
                   for host, services in hosts.items()}
        yield AssessProgress(0, total, f"assessing {total} nodes")
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                report = future.result()
                reports.append(report)
                text = (f"{report.host}: {len(report.findings)} findings, score {report.score}"
                        if report.services else f"{report.host}: no service answered")
                yield AssessProgress(len(reports), total, text, node=report)
            if not done:
                yield AssessProgress(len(reports), total, f"{len(reports)} of {total} nodes")
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
    order = list(hosts)
    reports.sort(key=lambda r: order.index(r.host))
    quiet = [r.host for r in reports if not r.services and not r.findings and not r.not_tested]
    return Assessment(site, targets, started_at, [r for r in reports if r.host not in quiet],
                      options, time.perf_counter() - start + discovery_s, discovery_s, quiet)


def assess_targets(target_set, options: AssessOptions, sweep_options, *, site: str = "",
                   hl7_ports: tuple[int, ...] = hl7_checks.DEFAULT_PORTS,
                   titles: dict[tuple[str, int], str] | None = None
                   ) -> Generator[AssessProgress, None, Assessment]:
    """Discovery sweep first (its progress as phase 'discover'), then the assessment."""
    from pacs_console.core.assess.plan import from_sweep
    from pacs_console.core.discovery.sweep import sweep

    start = time.perf_counter()
    generator = sweep(target_set, sweep_options)
    try:
        while True:
            progress = next(generator)
            yield AssessProgress(progress.done, progress.total, progress.message,
                                 phase="discover")
    except StopIteration as stop:
        result = stop.value
    finally:
        generator.close()
    hosts = from_sweep(result, titles=titles)
    return (yield from run_assessment(hosts, options, site=site, targets=target_set.text,
                                      hl7_ports=hl7_ports,
                                      discovery_s=time.perf_counter() - start))
