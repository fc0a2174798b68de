"""C-MOVE and C-GET with progress from the pending responses, decoded statuses and throughput."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Generator
from dataclasses import field
from pathlib import Path

from pacs_console.core import safepath
from pacs_console.core.dicom.diagnosis import diagnose
from pacs_console.core.dicom.diagnosis.dimse_status import (
    category,
    describe_status,
)
from pacs_console.core.dicom.identifiers import Tree, keyword_for, set_key
from pacs_console.core.dicom.ops.results import OperationResult
from pacs_console.core.dicom.wire.params import MAX_CONTEXTS, ascii_host
from pacs_console.core.dicom.wire.retrieve import Response, get_responses, move_responses
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.records import record

# Study and Patient Root MOVE and GET SOP classes (as pynetdicom.sop_class names them).
MOVE_MODELS = {"study": "1.2.840.10008.5.1.4.1.2.2.2", "patient": "1.2.840.10008.5.1.4.1.2.1.2"}
GET_MODELS = {"study": "1.2.840.10008.5.1.4.1.2.2.3", "patient": "1.2.840.10008.5.1.4.1.2.1.3"}
# Explicit and Implicit VR Little Endian, JPEG 2000 Lossless, JPEG-LS Lossless, RLE Lossless,
# JPEG Lossless SV1; then JPEG Baseline, JPEG Extended, JPEG 2000, JPEG-LS Near-Lossless and
# Deflated Explicit VR Little Endian.
_IMAGE_SYNTAXES = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.4.90",
                   "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.70"]
_ALL_SYNTAXES = [*_IMAGE_SYNTAXES, "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
                 "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.1.99"]
# C-GET must name every storage class it will accept, within 128 contexts: the common image
# classes with their usual syntaxes, documents and reports uncompressed only (pynetdicom's
# sop_class names; C-GET loads pynetdicom anyway).
GET_IMAGE_CLASSES = [
    "CTImageStorage", "MRImageStorage", "ComputedRadiographyImageStorage",
    "DigitalXRayImageStorageForPresentation", "DigitalXRayImageStorageForProcessing",
    "DigitalMammographyXRayImageStorageForPresentation", "UltrasoundImageStorage",
    "UltrasoundMultiFrameImageStorage", "SecondaryCaptureImageStorage",
    "NuclearMedicineImageStorage", "PositronEmissionTomographyImageStorage",
    "XRayAngiographicImageStorage", "XRayRadiofluoroscopicImageStorage",
    "EnhancedCTImageStorage", "EnhancedMRImageStorage", "RTImageStorage",
    "MultiFrameGrayscaleByteSecondaryCaptureImageStorage",
]
GET_OTHER_CLASSES = [
    "BasicTextSRStorage", "EnhancedSRStorage", "ComprehensiveSRStorage",
    "KeyObjectSelectionDocumentStorage", "GrayscaleSoftcopyPresentationStateStorage",
    "EncapsulatedPDFStorage", "RTDoseStorage", "RTStructureSetStorage", "RTPlanStorage",
]


@record(frozen=True)
class RetrieveProgress:
    """The sub-operation counts of a pending C-MOVE/C-GET response and the bytes received."""

    remaining: int | None
    completed: int
    failed: int
    warning: int
    bytes_received: int
    elapsed_s: float

    @property
    def mb_per_s(self) -> float:
        return self.bytes_received / 1e6 / self.elapsed_s if self.elapsed_s > 0 else 0.0


@record
class RetrieveResult(OperationResult):
    """A C-MOVE or C-GET run: the final status, its counts and what arrived."""

    service: str
    status: int | None = None
    meaning: str = ""
    completed: int = 0
    failed: int = 0
    warning: int = 0
    remaining: int | None = None
    failed_instances: list[str] = field(default_factory=list)
    bytes_received: int = 0
    files: list[Path] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.service

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def mb_per_s(self) -> float:
        seconds = self.duration_ms / 1000
        return self.bytes_received / 1e6 / seconds if seconds > 0 else 0.0

    @property
    def images_per_s(self) -> float:
        seconds = self.duration_ms / 1000
        return self.completed / seconds if seconds > 0 else 0.0

    @property
    def outcome(self) -> str:
        if self.cancelled:
            return "cancelled"
        if self.status is None or category(self.status) == "failure":
            return "failed"
        return "warning" if self.status != 0 else "ok"

    def metrics(self) -> dict:
        return {"status": self.status, "completed": self.completed, "failed": self.failed,
                "warning": self.warning, "bytes_received": self.bytes_received,
                "mb_per_s": round(self.mb_per_s, 3), "images_per_s": round(self.images_per_s, 2)}

    def to_dict(self) -> dict:
        return {"service": self.service, "meaning": self.meaning, **self.metrics(),
                "remaining": self.remaining, "failed_instances": self.failed_instances,
                "files": [str(p) for p in self.files], "duration_ms": round(self.duration_ms, 3),
                "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
                "association": self.association, "cancelled": self.cancelled,
                "parameters": self.parameters}

    def summary(self) -> str:
        if self.status is None and self.diagnosis:
            return f"C-{self.service.upper()} failed: {self.diagnosis.what}"
        return (f"C-{self.service.upper()} {self.meaning}: {self.completed} completed, "
                f"{self.failed} failed, {self.warning} warnings, {self.mb_per_s:.1f} MB/s")


def local_ipv4_addresses() -> list[str]:
    """This laptop's IPv4 addresses, LAN ones first; loopback only when there is nothing else."""
    import psutil

    found: list[str] = []
    for addrs in psutil.net_if_addrs().values():
        for addr in addrs:
            if addr.family == socket.AF_INET and addr.address not in found:
                found.append(addr.address)
    lan = [a for a in found if not a.startswith("127.")]
    return lan or found


def route_source_address(host: str, port: int) -> str | None:
    """The local address of the route to ``host``: what the node sees as this laptop's address
    and must call back for C-MOVE. A connected UDP socket's own address (the kernel picks the
    route and its source; no packet is sent); None when there is no route."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            ascii_host(host), port, socket.AF_INET, socket.SOCK_DGRAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.connect(address)
            return str(probe.getsockname()[0])
    except (OSError, IndexError, UnicodeError):
        return None


def callback_addresses(host: str, port: int) -> list[str]:
    """The address(es) a node must configure for this console: the route's own source when
    known, else every IPv4 address of the laptop."""
    route = route_source_address(host, port)
    return [route] if route else local_ipv4_addresses()


def retrieve_identifier(level: str, keys: dict[str, str], model: str = "study") -> Tree:
    """The C-MOVE/C-GET identifier as an ``identifiers`` tree (the wire layer encodes it)."""
    tree: Tree = {0x00080052: ("CS", level.upper())}
    for name, value in (keys or {}).items():
        if value is not None:
            set_key(tree, keyword_for(name, level.upper(), False), str(value))
    return tree


def _run(result: RetrieveResult, target: Target, responses, *, received=lambda: 0,
         diag_kwargs: dict | None = None) -> Generator[RetrieveProgress, None, RetrieveResult]:
    """Progress from the wire layer's ``Response`` stream; closing it early cancels."""
    start = time.perf_counter()
    finished = False
    try:
        for response in responses:
            finished = not response.pending
            if response.code is None:
                result.diagnosis = (diagnose.diagnose_abort(
                    f"during C-{result.service.upper()}") if response.aborted else Diagnosis(
                    "dimse-timeout", f"No C-{result.service.upper()} response within "
                    f"{target.timeouts.dimse:g} s", ("the node is slow to start the transfer",),
                    ("raise the DIMSE timeout",), {}))
                break
            for name, value in response.counts.items():
                setattr(result, name, value)
            result.bytes_received = received()
            if response.pending:
                yield RetrieveProgress(result.remaining, result.completed, result.failed,
                                       result.warning, result.bytes_received,
                                       time.perf_counter() - start)
                continue
            _final(result, response, diag_kwargs or {})
            break
    except ConsoleError as exc:
        finished = True
        result.diagnosis = exc.diagnosis
    finally:
        if not finished and result.association is not None:
            result.cancelled = True
        responses.close()  # an early close sends C-CANCEL
        result.bytes_received = received()
        result.duration_ms = (time.perf_counter() - start) * 1000
    return result


def _final(result: RetrieveResult, response: Response, diag_kwargs: dict) -> None:
    code = result.status = response.code
    result.cancelled = code == 0xFE00
    if "remaining" not in response.counts and category(code) in ("success", "warning"):
        # A successful final response leaves Remaining out (PS3.7 C.4.2.3.1): none left,
        # whatever the last pending response said.
        result.remaining = 0
    result.failed_instances = list(response.failed)
    result.meaning, result.diagnosis = describe_status(result.service, code, **diag_kwargs)
    if result.service == "move" and category(code) == "failure" and code != 0xA801:
        if result.completed == 0 and result.failed:
            result.diagnosis = _unreachable_destination(result, diag_kwargs)
        elif not (result.completed or result.failed or result.warning):
            result.diagnosis = _destination_probably_unknown(result, diag_kwargs)


def _unreachable_destination(result: RetrieveResult, kw: dict) -> Diagnosis:
    base = result.diagnosis
    where = ", ".join(kw.get("addresses") or ()) or "this laptop"
    return Diagnosis(
        "move-destination-unreachable",
        f"The node knows the destination but delivered nothing ({result.failed} failed)",
        ("the node cannot open a connection to the destination: wrong IP or port configured "
         "for it on the node, this laptop's IP changed, or a firewall blocks the way back",
         "the destination's Storage SCP is not running or refuses the node's AE"),
        (f"check the IP ({where}) and port {kw.get('port') or ''} configured for "
         f"{kw.get('local_ae', 'the destination')!r} on the node",
         "allow the port through this laptop's firewall", "or use C-GET"),
        dict(base.evidence) if base else {})


def _destination_probably_unknown(result: RetrieveResult, kw: dict) -> Diagnosis:
    """A failure before any sub-operation: Orthanc answers 0xC000 for an unknown destination."""
    _, base = describe_status("move", 0xA801, **kw)
    return Diagnosis(
        "move-destination-unknown",
        f"C-MOVE failed 0x{result.status:04X} ({result.meaning}) before sending anything: the node "
        f"most likely does not know the destination {kw.get('local_ae', '')!r}",
        (*base.causes, "Orthanc answers 0xC000 rather than 0xA801 for an unknown destination",
         "the node could not read the requested data"),
        base.actions, {**base.evidence, "status": f"0x{result.status:04X} ({result.meaning})"})


def move(target: Target, destination_ae: str, level: str, keys: dict[str, str], *,
         model: str = "study", scp=None, local_port: int | None = None
         ) -> Generator[RetrieveProgress, None, RetrieveResult]:
    """C-MOVE to ``destination_ae``; ``scp`` (the console's StorageSCP) gives bytes received."""
    sop_class = MOVE_MODELS[model]
    identifier = retrieve_identifier(level, keys, model)
    base = scp.received_bytes if scp is not None else 0
    if scp is not None:
        scp.expect(target.called_ae)  # the node stores its C-MOVE results under its own AE
    result = RetrieveResult("move", target=target, parameters={
        "destination_ae": destination_ae, "level": level.upper(), "model": model,
        "keys": dict(keys or {})})
    diag = {"local_ae": destination_ae, "addresses": tuple(callback_addresses(target.host, target.port)),
            "port": local_port or (scp.port if scp is not None else None)}
    return (yield from _run(
        result, target, move_responses(target, sop_class, identifier, destination_ae, result),
        received=(lambda: scp.received_bytes - base) if scp is not None else (lambda: 0),
        diag_kwargs=diag))


def get_contexts(sop_class: str, sop_classes=None) -> tuple[list, list]:
    """Presentation contexts and SCP role items for C-GET (at most 128 contexts)."""
    from pynetdicom import build_context, build_role
    from pynetdicom import sop_class as sc

    contexts = [build_context(sop_class)]
    if sop_classes:
        per_class = max(1, min(len(_ALL_SYNTAXES), (127 // len(sop_classes))))
        plan = [(uid, _ALL_SYNTAXES[:per_class]) for uid in sop_classes]
    else:
        plan = [(getattr(sc, name), _IMAGE_SYNTAXES) for name in GET_IMAGE_CLASSES]
        plan += [(getattr(sc, name), _IMAGE_SYNTAXES[:2]) for name in GET_OTHER_CLASSES]
    for uid, syntaxes in plan:
        for ts in syntaxes:
            if len(contexts) < MAX_CONTEXTS:
                contexts.append(build_context(uid, ts))
    roles = [build_role(uid, scp_role=True) for uid, _ in plan]
    return contexts, roles


class _Receiver:
    """C-STORE handler of a C-GET association: writes Part 10 files under ``store_dir``."""

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = Path(store_dir)
        self.bytes = 0
        self.files: list[Path] = []
        self._lock = threading.Lock()

    def __call__(self, event) -> int:
        try:
            ds = event.dataset
            path = safepath.instance_path(
                self.store_dir, getattr(ds, "StudyInstanceUID", ""),
                getattr(ds, "SeriesInstanceUID", ""), event.request.AffectedSOPInstanceUID)
            path.parent.mkdir(parents=True, exist_ok=True)
            data = event.encoded_dataset()
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except safepath.UnsafePath:
            return 0xC212
        except OSError:
            return 0xA700
        except Exception:  # noqa: BLE001 - an undecodable dataset becomes a failure status
            return 0xC211
        with self._lock:
            self.bytes += len(data)
            self.files.append(path)
        return 0x0000


def get(target: Target, level: str, keys: dict[str, str], store_dir: str | Path,
        sop_classes=None, *, model: str = "study"
        ) -> Generator[RetrieveProgress, None, RetrieveResult]:
    """C-GET into ``store_dir`` over the same association (no move destination needed)."""
    sop_class = GET_MODELS[model]
    identifier = retrieve_identifier(level, keys, model)
    contexts, roles = get_contexts(sop_class, sop_classes)
    receiver = _Receiver(Path(store_dir))
    result = RetrieveResult("get", target=target, parameters={
        "level": level.upper(), "model": model, "keys": dict(keys or {}),
        "store_dir": str(store_dir)})
    try:
        return (yield from _run(
            result, target, get_responses(target, sop_class, identifier, contexts, roles,
                                          receiver, result),
            received=lambda: receiver.bytes))
    finally:
        result.files = list(receiver.files)
