"""C-MOVE pre-flight: local SCP up, this laptop's addresses, a test move home, C-GET fallback."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pydicom.uid import generate_uid

from pacs_console.core.dicom.ops import query, retrieve
from pacs_console.core.dicom.ops.echo import echo_target
from pacs_console.core.dicom.ops.results import make_evidence
from pacs_console.core.dicom.wire import association as assoc_mod
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError, Diagnosis


@dataclass
class PreflightCheck:
    name: str
    ok: bool | None  # None: skipped
    detail: str
    diagnosis: Diagnosis | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "detail": self.detail,
                "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None}


@dataclass
class PreflightReport:
    checks: list[PreflightCheck] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    required: str = ""
    get_supported: bool | None = None
    duration_ms: float = 0.0
    target: Target | None = field(default=None, repr=False)
    scp_ae: str = ""
    scp_port: int = 0

    @property
    def ok(self) -> bool:
        return all(c.ok is not False for c in self.checks)

    @property
    def diagnosis(self) -> Diagnosis | None:
        return next((c.diagnosis for c in self.checks if c.ok is False and c.diagnosis), None)

    def check(self, name: str) -> PreflightCheck | None:
        return next((c for c in self.checks if c.name == name), None)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "checks": [c.to_dict() for c in self.checks],
                "addresses": self.addresses, "required": self.required,
                "get_supported": self.get_supported, "duration_ms": round(self.duration_ms, 3),
                "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None}

    def summary(self) -> str:
        failed = [c.name for c in self.checks if c.ok is False]
        text = "C-MOVE pre-flight passed" if not failed else f"C-MOVE pre-flight failed: {', '.join(failed)}"
        if failed and self.get_supported:
            text += "; C-GET is available as a fallback"
        return text

    def evidence(self) -> dict:
        return make_evidence("preflight", self.target or "unknown",
                             outcome="ok" if self.ok else "failed",
                             parameters={"scp_ae": self.scp_ae, "scp_port": self.scp_port},
                             metrics=self.to_dict(), diagnosis=self.diagnosis,
                             summary=self.summary(), duration_ms=self.duration_ms)


def _first_instance(target: Target) -> dict[str, str] | None:
    """UIDs of one instance on the node, for a one-image test move; None when empty."""
    keys: dict[str, str] = {}
    for level, uid_key in (("STUDY", "StudyInstanceUID"), ("SERIES", "SeriesInstanceUID"),
                           ("IMAGE", "SOPInstanceUID")):
        gen = query.find(target, level, dict(keys), limit=1)
        match = next(gen, None)
        gen.close()
        if not match or not match.get(uid_key):
            return None if not keys else keys
        keys[uid_key] = match[uid_key]
    return keys


def preflight_move(target: Target, local_scp_running: bool, scp_ae: str, scp_port: int, *,
                   scp=None) -> PreflightReport:
    """Check everything a C-MOVE to this console needs, cheapest first; never raises."""
    start = time.perf_counter()
    # The address the node sees us at (the route's source), not every interface we have.
    addresses = retrieve.callback_addresses(target.host, target.port)
    report = PreflightReport(addresses=addresses, target=target, scp_ae=scp_ae, scp_port=scp_port,
                             required=(f"On the node, DICOM peer {scp_ae!r} with IP "
                                       f"{' or '.join(addresses)} and port {scp_port}"))
    if local_scp_running:
        local = echo_target(Target("127.0.0.1", scp_port, scp_ae, target.calling_ae,
                                   target.timeouts))
        report.checks.append(PreflightCheck(
            "local-scp", local.ok, f"Storage SCP {scp_ae} on port {scp_port}: "
            + ("answers C-ECHO" if local.ok else "does not answer"), local.diagnosis))
    else:
        report.checks.append(PreflightCheck(
            "local-scp", False, "the console's Storage SCP is not running",
            Diagnosis("local-scp-stopped", "The console's Storage SCP is not running",
                      ("C-MOVE delivers to a listening Storage SCP; none is running",),
                      ("start the Storage SCP from the status bar",),
                      {"AE": scp_ae, "port": str(scp_port)})))
    node = echo_target(target)
    report.checks.append(PreflightCheck("node-echo", node.ok, node.summary(), node.diagnosis))
    if not node.ok:
        report.duration_ms = (time.perf_counter() - start) * 1000
        return report
    report.checks.append(PreflightCheck("addresses", None, report.required))
    _test_move(report, target, scp_ae, scp_port, scp, local_scp_running)
    report.get_supported = _get_supported(target)
    report.checks.append(PreflightCheck(
        "c-get", report.get_supported, "C-GET supported: offered as fallback"
        if report.get_supported else "C-GET not supported by the node"))
    if report.checks[-1].ok is False:
        report.checks[-1].ok = None  # C-GET is a fallback, not a requirement
    report.duration_ms = (time.perf_counter() - start) * 1000
    return report


def _test_move(report, target, scp_ae, scp_port, scp, local_scp_running) -> None:
    keys = _first_instance(target) if local_scp_running else None
    level = "IMAGE" if keys and "SOPInstanceUID" in keys else "STUDY"
    # No data (or no SCP to receive it): a UID that matches nothing still shows whether the
    # node knows the destination, since it resolves the AE before it searches.
    keys = keys if keys and level == "IMAGE" else {"StudyInstanceUID": generate_uid()}
    gen = retrieve.move(target, scp_ae, level, keys, scp=scp, local_port=scp_port)
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        result = stop.value
    ok = result.status == 0
    what = (f"test move of one image to {scp_ae}: {result.meaning or 'no answer'}" if level == "IMAGE"
            else f"test move of an empty selection to {scp_ae}: {result.meaning or 'no answer'} "
            "(the node knows the destination)" if ok else
            f"test move to {scp_ae}: {result.meaning or 'no answer'}")
    if ok and level == "IMAGE" and result.completed < 1:
        ok = False
    report.checks.append(PreflightCheck("test-move", ok, what, result.diagnosis))


def _get_supported(target: Target) -> bool | None:
    try:
        with assoc_mod.open_association(target, list(retrieve.GET_MODELS.values())) as assoc:
            return bool(assoc.accepted_contexts)
    except ConsoleError:
        return None
