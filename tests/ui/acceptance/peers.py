"""A deliberately slow, real DICOM peer for journeys that need time to press Cancel.

``SlowPeer`` is a pynetdicom AE on a loopback address with an OS-assigned port. It answers
C-FIND with 400 study matches, C-GET with the given datasets and C-STORE, each item after
``delay`` seconds, and records whether the console sent a C-CANCEL (``cancelled``) and how many
C-STOREs it took (``stored``).
"""

from __future__ import annotations

import threading
import time

from pydicom import Dataset
from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.sop_class import (
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
)


class SlowPeer:
    def __init__(self, host: str = "127.0.0.2", ae_title: str = "SLOWPACS",
                 datasets: list[Dataset] | None = None, delay: float = 0.05) -> None:
        self.ae_title, self.host, self.delay = ae_title, host, delay
        self.datasets = datasets or []
        self.cancelled = threading.Event()
        self.stored = 0
        ae = AE(ae_title)
        ae.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
        ae.add_supported_context(StudyRootQueryRetrieveInformationModelGet)
        for context in AllStoragePresentationContexts:
            # Storage SCP for C-STORE, and the SCU role for the sub-operations of a C-GET.
            ae.add_supported_context(context.abstract_syntax, scu_role=True, scp_role=True)
        handlers = [(evt.EVT_C_FIND, self._find), (evt.EVT_C_GET, self._get),
                    (evt.EVT_C_STORE, self._store)]
        self.server = ae.start_server((host, 0), block=False, evt_handlers=handlers)
        self.port = self.server.server_address[1]

    def _find(self, event):
        for i in range(400):
            if event.is_cancelled:
                self.cancelled.set()
                yield 0xFE00, None
                return
            time.sleep(self.delay)
            ds = Dataset()
            ds.QueryRetrieveLevel = "STUDY"
            ds.PatientID = f"SLOW{i:04d}"
            ds.PatientName = f"SLOW^{i}"
            ds.StudyInstanceUID = f"1.2.826.0.1.3680043.8.498.{i + 1}"
            yield 0xFF00, ds

    def _get(self, event):
        yield len(self.datasets)
        for ds in self.datasets:
            if event.is_cancelled:
                self.cancelled.set()
                yield 0xFE00, None
                return
            time.sleep(self.delay)
            yield 0xFF00, ds

    def _store(self, event):
        time.sleep(self.delay)
        self.stored += 1
        return 0x0000

    def stop(self) -> None:
        self.server.shutdown()
