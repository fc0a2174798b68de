"""Helpers for the DICOM operation tests: drain generators, write studies, tiny in-process SCPs."""

from __future__ import annotations

from io import BytesIO

from pacs_console.core.dicom.wire.params import Timeouts
from pacs_console.core.dicom.wire.target import Target
from tests.peers.net import free_port  # noqa: F401 - re-exported for the DICOM tests
from tests.peers.plugin import SCU_AET

QUICK = Timeouts(connect=3, acse=5, dimse=15, network=30)


def drain(generator):
    """(yielded items, return value) of a core generator."""
    items = []
    while True:
        try:
            items.append(next(generator))
        except StopIteration as stop:
            return items, stop.value


def target_of(peer, **overrides) -> Target:
    values = dict(host=peer.host, port=peer.dicom_port, called_ae=peer.aet, calling_ae=SCU_AET,
                  timeouts=QUICK)
    values.update(overrides)
    return Target(**values)


def query(level: str | None, **keys):
    """A UTF-8 C-FIND identifier at ``level`` (None: a worklist query, which has no level) with
    these keys."""
    from pydicom import Dataset

    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    if level is not None:
        ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


def part10(ds) -> bytes:
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


