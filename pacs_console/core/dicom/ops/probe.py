"""Capability probe: propose every known SOP class with common syntaxes, in batches of 128."""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass, field

from pydicom.uid import (
    JPEG2000,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)
from pynetdicom import build_context, build_role
from pynetdicom import sop_class as sc

from pacs_console.core.dicom.ops.results import make_evidence
from pacs_console.core.dicom.wire import association as assoc_mod
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.models import Progress

STORAGE_SYNTAXES = [ImplicitVRLittleEndian, ExplicitVRLittleEndian, JPEGBaseline8Bit,
                    JPEGLosslessSV1, JPEGLSLossless, JPEG2000Lossless, JPEG2000, RLELossless]
SERVICE_SYNTAXES = [ImplicitVRLittleEndian, ExplicitVRLittleEndian]
SERVICES = {
    sc.Verification: "verification",
    sc.PatientRootQueryRetrieveInformationModelFind: "query",
    sc.PatientRootQueryRetrieveInformationModelMove: "retrieve",
    sc.PatientRootQueryRetrieveInformationModelGet: "retrieve",
    sc.StudyRootQueryRetrieveInformationModelFind: "query",
    sc.StudyRootQueryRetrieveInformationModelMove: "retrieve",
    sc.StudyRootQueryRetrieveInformationModelGet: "retrieve",
    sc.PatientStudyOnlyQueryRetrieveInformationModelFind: "query",
    sc.ModalityWorklistInformationFind: "worklist",
    sc.ModalityPerformedProcedureStep: "mpps",
    sc.StorageCommitmentPushModel: "commitment",
    sc.UnifiedProcedureStepPush: "ups",
    sc.InstanceAvailabilityNotification: "notification",
}


@dataclass
class CapabilityMatrix:
    """SOP class -> accepted transfer syntaxes and roles, as the node answered."""

    entries: dict[str, dict] = field(default_factory=dict)
    proposed: int = 0
    batches: int = 0
    errors: list[dict] = field(default_factory=list)
    association: dict | None = None
    duration_ms: float = 0.0
    target: Target | None = field(default=None, repr=False)

    def accepts(self, sop_class: str, transfer_syntax: str | None = None) -> bool:
        entry = self.entries.get(str(sop_class))
        if not entry or not entry["transfer_syntaxes"]:
            return False
        return transfer_syntax is None or str(transfer_syntax) in entry["transfer_syntaxes"]

    @property
    def accepted(self) -> dict[str, dict]:
        return {uid: e for uid, e in self.entries.items() if e["transfer_syntaxes"]}

    @property
    def diagnosis(self) -> Diagnosis | None:
        if self.errors and not self.accepted:
            return Diagnosis(**{**self.errors[0]["diagnosis"], "causes": tuple(
                self.errors[0]["diagnosis"]["causes"]), "actions": tuple(
                self.errors[0]["diagnosis"]["actions"])})
        return None

    def to_dict(self) -> dict:
        return {"entries": self.entries, "proposed": self.proposed, "batches": self.batches,
                "accepted_count": len(self.accepted), "errors": self.errors,
                "duration_ms": round(self.duration_ms, 3)}

    def summary(self) -> str:
        services = sorted({e["service"] for e in self.accepted.values()})
        return (f"Probe: {len(self.accepted)} of {self.proposed} SOP classes accepted "
                f"({', '.join(services) or 'none'}) in {self.batches} associations")

    def evidence(self) -> dict:
        outcome = "ok" if self.accepted and not self.errors else "warning" if self.accepted else "failed"
        return make_evidence("probe", self.target or "unknown", outcome=outcome,
                             metrics={"accepted": len(self.accepted), "proposed": self.proposed,
                                      "batches": self.batches, "errors": len(self.errors)},
                             diagnosis=self.diagnosis, association=self.association,
                             summary=self.summary(), duration_ms=self.duration_ms)


def plan(storage: bool = True) -> list[tuple[str, str, list[str]]]:
    """(uid, service, syntaxes) for every class the probe proposes."""
    items = [(uid, service, SERVICE_SYNTAXES) for uid, service in SERVICES.items()]
    if storage:
        items += [(uid, "storage", STORAGE_SYNTAXES)
                  for uid in dict.fromkeys(sc._STORAGE_CLASSES.values())]
    return items


def _batches(items):
    batch, size = [], 0
    for item in items:
        if batch and size + len(item[2]) > assoc_mod.MAX_CONTEXTS:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += len(item[2])
    if batch:
        yield batch


def probe(target: Target, *, storage: bool = True, items: list | None = None
          ) -> Generator[Progress, None, CapabilityMatrix]:
    """Propose each SOP class once per transfer syntax; progress per association. ``items``
    ((uid, service, syntaxes) as ``plan`` gives) proposes only those."""
    start = time.perf_counter()
    items = items if items is not None else plan(storage)
    batches = list(_batches(items))
    matrix = CapabilityMatrix(proposed=len(items), target=target)
    for uid, service, _ in items:
        matrix.entries[str(uid)] = {"name": assoc_mod.uid_name(uid), "service": service,
                                    "transfer_syntaxes": [], "role": ""}
    try:
        for n, batch in enumerate(batches, 1):
            contexts = [build_context(uid, ts) for uid, _, syntaxes in batch for ts in syntaxes]
            roles = [build_role(uid, scu_role=True, scp_role=True)
                     for uid, service, _ in batch if service == "storage"]
            timing: dict = {}
            try:
                with assoc_mod.open_association(target, contexts, roles=roles,
                                                timing=timing) as assoc:
                    matrix.association = matrix.association or assoc_mod.association_report(
                        assoc, timing)
                    for cx in assoc.accepted_contexts:
                        entry = matrix.entries[str(cx.abstract_syntax)]
                        entry["transfer_syntaxes"].append(str(cx.transfer_syntax[0]))
                        entry["role"] = "/".join(r for r, ok in (("SCU", cx.as_scu),
                                                                 ("SCP", cx.as_scp)) if ok)
            except ConsoleError as exc:
                matrix.batches = n
                matrix.errors.append({"batch": n, "classes": [str(u) for u, _, _ in batch],
                                      "diagnosis": exc.diagnosis.to_dict()})
                if exc.diagnosis.code not in ("no-presentation-context",):
                    if n == 1 and exc.diagnosis.code in (
                            "connection-refused", "connect-timeout", "name-resolution", "no-route",
                            "called-ae-rejected", "calling-ae-rejected") or exc.diagnosis.code.startswith("tls-"):
                        break  # the node is unreachable: the other batches would fail the same way
            matrix.batches = n
            yield Progress(n, len(batches), f"association {n} of {len(batches)}")
    finally:
        matrix.duration_ms = (time.perf_counter() - start) * 1000
    return matrix
