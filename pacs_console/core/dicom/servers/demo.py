"""DemoPacs: an in-process pynetdicom PACS on loopback with synthetic studies and a worklist."""

from __future__ import annotations

import hashlib
import logging
import queue
import tempfile
import threading
from collections.abc import Callable, Iterable
from typing import Any

from pydicom import Dataset, dcmread
from pydicom.dataset import FileMetaDataset
from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pynetdicom.sop_class import (
    ModalityWorklistInformationFind,
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from pacs_console.core.dicom.servers import demo_handlers
from pacs_console.core.dicom.synth.studies import generate_demo_studies, worklist_items
from pacs_console.core.dicom.wire.ae import (
    STORAGE_SOP_CLASSES,
    Timeouts,
    limit_per_address,
    make_ae,
)

LOG = logging.getLogger(__name__)
# Every syntax the demo stores as received; it never decodes pixels, so accepting compressed
# data costs nothing, and C-MOVE later proposes exactly the syntax each dataset is in.
STORAGE_SYNTAXES = [
    ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless, JPEG2000Lossless, JPEGLSLossless,
    JPEG2000, JPEGLSNearLossless, JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLosslessSV1,
    DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian,
]
SERVICES = [
    Verification, ModalityWorklistInformationFind,
    PatientRootQueryRetrieveInformationModelFind, PatientRootQueryRetrieveInformationModelMove,
    PatientRootQueryRetrieveInformationModelGet, StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelMove, StudyRootQueryRetrieveInformationModelGet,
]
DEMO_MAX_ASSOCIATIONS = 256  # see start(): most of these are bare connects about to time out
Resolver = Callable[[str], "tuple[str, int] | None"]


class DemoPacs:
    """A small PACS for demos and tests: Verification, Q/R (find, move, get), storage, worklist.

    Handlers run on pynetdicom's threads; they only touch the locked memory store and, when
    given, put small dict records on ``notify`` for a GUI-thread bridge to drain.
    """

    def __init__(
        self,
        ae_title: str = "DEMOPACS",
        host: str = "127.0.0.1",
        port: int = 0,
        studies: Iterable[Any] | None = None,
        worklist: Iterable[Dataset] | None = None,
        resolve_destination: Resolver | None = None,
        timeouts: Timeouts | None = None,
        *,
        notify: queue.Queue | None = None,
        require_called_aet: bool = True,
    ) -> None:
        self._ae_title = ae_title
        self._host = host
        self._requested_port = port
        self._resolve = resolve_destination
        self._timeouts = timeouts
        self._notify = notify
        self._require_called_aet = require_called_aet
        self._lock = threading.Lock()
        self._store: dict[str, Dataset] = {}
        # Instances received over the network live on disk; memory keeps their headers only
        # (pixel data is read back when an instance is sent), so storing never grows memory
        # by the size of the image. The folder goes when the DemoPacs object does.
        self._disk: tempfile.TemporaryDirectory | None = None
        self._worklist = list(worklist_items() if worklist is None else worklist)
        self._ae = None
        self._server = None
        for item in generate_demo_studies() if studies is None else studies:
            # Accept a list of studies (lists of datasets) or a flat list of datasets.
            for ds in [item] if isinstance(item, Dataset) else item:
                self.add(ds)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> DemoPacs:
        """Listen on ``host``:``port`` (0 picks a free port); returns self for chaining."""
        if self._server is not None:
            return self
        ae = make_ae(self._ae_title, self._timeouts, supported=SERVICES)
        for sop_class in STORAGE_SOP_CLASSES:
            # Both roles: ordinary senders are SCUs, while a C-GET requestor asks to be the
            # storage SCP on this association (PS3.7 role selection).
            ae.add_supported_context(sop_class, STORAGE_SYNTAXES,
                                     scu_role=True, scp_role=True)
        ae.require_called_aet = self._require_called_aet
        # pynetdicom counts, against its limit of 10, every connection still waiting for an
        # A-ASSOCIATE-RQ, and waits the full ACSE timeout even when the peer has hung up. The
        # console's bare TCP connect before each association (it times the connect and tells
        # refused from timeout) leaves one such thread for ACSE-timeout seconds, so echoes back
        # to back, or a probe beside a continuous echo, ran into "local limit exceeded".
        ae.maximum_associations = DEMO_MAX_ASSOCIATIONS
        self._server = ae.serve((self._host, self._requested_port), demo_handlers.handlers(self))
        limit_per_address(self._server)  # idle connections from one host never starve the rest
        self._ae = ae
        LOG.info("demo PACS %s listening on %s:%d", self._ae_title, self.host, self.port)
        return self

    def stop(self) -> None:
        """Abort open associations and close the listening socket."""
        if self._ae is not None:
            self._ae.shutdown()
        self._ae = self._server = None

    def __enter__(self) -> DemoPacs:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- properties ------------------------------------------------------------------------
    @property
    def ae_title(self) -> str:
        return self._ae_title

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        """The bound port once started (the requested one before)."""
        if self._server is not None:
            return int(self._server.server_address[1])
        return self._requested_port

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def datasets(self) -> list[Dataset]:
        """A snapshot of the stored instances, in arrival order."""
        with self._lock:
            return list(self._store.values())

    @property
    def worklist(self) -> list[Dataset]:
        with self._lock:
            return list(self._worklist)

    # -- store -----------------------------------------------------------------------------
    def add(self, ds: Dataset) -> None:
        """Store or replace an instance (keyed by SOP Instance UID)."""
        meta = getattr(ds, "file_meta", None)
        if meta is None or "TransferSyntaxUID" not in meta:
            # Data built in memory without file meta is uncompressed little endian.
            ds.file_meta = meta or FileMetaDataset()
            ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        with self._lock:
            self._store[str(ds.SOPInstanceUID)] = ds

    def receive(self, ds: Dataset) -> None:
        """Store an instance that arrived over the network: written to disk, its header kept."""
        with self._lock:
            if self._disk is None:
                self._disk = tempfile.TemporaryDirectory(prefix="pacs-demo-store-")
            folder = self._disk.name
        name = hashlib.sha256(str(ds.SOPInstanceUID).encode()).hexdigest()[:32]
        path = f"{folder}/{name}.dcm"
        ds.save_as(path, enforce_file_format=True)
        self.add(dcmread(path, defer_size=2048))

    def add_worklist_item(self, item: Dataset) -> None:
        with self._lock:
            self._worklist.append(item)

    def clear(self) -> None:
        with self._lock:
            self._store.clear()

    # -- used by the handlers --------------------------------------------------------------
    def resolve(self, ae_title: str) -> tuple[str, int] | None:
        """Where a C-MOVE destination AE listens, or None when unknown."""
        if self._resolve is None:
            return None
        try:
            return self._resolve(ae_title)
        except Exception:  # a broken resolver must not kill the association thread
            LOG.exception("resolve_destination failed for %r", ae_title)
            return None

    def record(self, **fields: Any) -> None:
        """Post an activity record for the GUI bridge; drop it rather than block a handler."""
        if self._notify is None:
            return
        try:
            self._notify.put_nowait(dict(fields, pacs=self._ae_title))
        except queue.Full:
            pass
