"""C-STORE (exact contexts, decompression fallback, parallel, skipped files) and the probe."""

from __future__ import annotations

import threading

import pytest
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
)
from pynetdicom import evt
from pynetdicom.sop_class import CTImageStorage, MRImageStorage

from pacs_console.core.db.testruns import save_test_run
from pacs_console.core.dicom.ops.probe import probe
from pacs_console.core.dicom.ops.store import store
from pacs_console.core.dicom.synth.studies import generate_study, write_study
from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.core.dicom.wire.target import Target
from tests.core.dicom_ops.helpers import QUICK, drain, target_of

pytestmark = pytest.mark.peers


@pytest.fixture
def mixed_folder(tmp_path):
    folder = tmp_path / "in"
    write_study(generate_study("CT", images=3, series=1, size=64, seed=21), folder / "plain")
    write_study(generate_study("MR", images=2, series=1, size=64, seed=22, compression="rle"),
                folder / "rle")
    write_study(generate_study("CT", images=2, series=1, size=64, seed=23,
                               compression="jpeg2000"), folder / "j2k")
    (folder / "notes.txt").write_text("not DICOM")
    return folder


def test_store_folder_to_orthanc_keeps_compression(orthanc, mixed_folder, ctx):
    progress, result = drain(store(target_of(orthanc), mixed_folder))
    assert result.sent == 7 and result.failed == 0 and result.decompressed == 0
    assert [s["path"].endswith("notes.txt") for s in result.skipped] == [True]
    assert len(progress) == 7 and progress[-1].images_done == 7
    assert result.images_per_s > 0 and result.mb_per_s > 0
    assert len(orthanc.rest("GET", "/instances")) == 7
    syntaxes = {orthanc.rest("GET", f"/instances/{i}/header")["0002,0010"]["Value"]
                for i in orthanc.rest("GET", "/instances")}
    assert {RLELossless, JPEG2000Lossless} <= syntaxes
    run = save_test_run(ctx.db, **result.evidence())
    assert run.kind == "store" and run.outcome == "warning"  # the skipped text file


class UncompressedOnly:
    """A pynetdicom Storage SCP that accepts CT and MR in Implicit VR Little Endian only."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()
        ae = make_ae("PLAINSCP", QUICK)
        for uid in (CTImageStorage, MRImageStorage):
            ae.add_supported_context(uid, [ImplicitVRLittleEndian])
        self.server = ae.serve(("127.0.0.1", 0), [(evt.EVT_C_STORE, self.on_store)])
        self.target = Target("127.0.0.1", self.server.server_address[1], "PLAINSCP",
                             timeouts=QUICK)

    def on_store(self, event):
        with self.lock:
            self.received.append((str(event.context.transfer_syntax), event.dataset))
        return 0


def test_compressed_files_are_decompressed_for_an_uncompressed_only_peer(mixed_folder):
    peer = UncompressedOnly()
    try:
        _, result = drain(store(peer.target, mixed_folder, parallel=2))
    finally:
        peer.server.shutdown()
    assert result.sent == 7 and result.failed == 0, result.files
    assert result.decompressed == 4  # 2 RLE + 2 JPEG 2000
    assert {ts for ts, _ in peer.received} == {ImplicitVRLittleEndian}
    assert all(len(ds.PixelData) == 64 * 64 * 2 for _, ds in peer.received)


def test_storescp_accepts_everything_in_parallel(storescp, mixed_folder):
    _, result = drain(store(target_of(storescp), mixed_folder, parallel=3))
    assert result.sent == 7 and result.failed == 0 and result.decompressed == 0
    assert len(storescp.files()) == 7


def test_datasets_in_memory_to_dcmqrscp(dcmqrscp):
    study = generate_study("CT", images=2, series=1, size=32, seed=24)
    _, result = drain(store(target_of(dcmqrscp), study))
    assert result.sent == 2 and len(dcmqrscp.files()) == 2


def test_unsupported_sop_class_is_diagnosed(tmp_path):
    ae = make_ae("CTONLY", QUICK)
    ae.add_supported_context(CTImageStorage, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
    server = ae.serve(("127.0.0.1", 0))
    try:
        study = generate_study("MR", images=1, series=1, size=16, seed=25)
        _, result = drain(store(Target("127.0.0.1", server.server_address[1], "CTONLY",
                                       timeouts=QUICK), study))
    finally:
        server.shutdown()
    assert result.sent == 0 and result.failed == 1
    assert result.diagnosis.code == "no-presentation-context"
    assert "MR Image Storage" in result.diagnosis.evidence["proposed"]


def test_nothing_to_send(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    _, result = drain(store(Target("127.0.0.1", 1, "X"), tmp_path))
    assert result.diagnosis.code == "nothing-to-send" and len(result.skipped) == 1


def test_probe_orthanc(orthanc):
    progress, matrix = drain(probe(target_of(orthanc)))
    assert progress[-1].done == progress[-1].total == matrix.batches > 1
    assert matrix.accepts(CTImageStorage, JPEG2000Lossless)
    assert matrix.accepts(CTImageStorage, RLELossless)
    assert matrix.accepts("1.2.840.10008.1.1")
    assert matrix.accepts("1.2.840.10008.5.1.4.1.2.2.3")  # Study Root C-GET
    assert not matrix.accepts("1.2.840.10008.5.1.4.31")  # no worklist without the plugin
    assert matrix.errors == [] and matrix.evidence()["outcome"] == "ok"
    assert matrix.to_dict()["accepted_count"] == len(matrix.accepted)


def test_probe_dcmqrscp_accepts_only_uncompressed(dcmqrscp):
    _, matrix = drain(probe(target_of(dcmqrscp)))
    assert matrix.accepts(CTImageStorage, ExplicitVRLittleEndian)
    assert not matrix.accepts(CTImageStorage, JPEG2000Lossless)
    assert matrix.accepts("1.2.840.10008.5.1.4.1.2.2.2")  # Study Root C-MOVE


def test_probe_unreachable_stops_early():
    from tests.core.dicom_ops.helpers import free_port

    _, matrix = drain(probe(Target("127.0.0.1", free_port(), "X", timeouts=QUICK)))
    assert matrix.batches == 1 and matrix.diagnosis.code == "connection-refused"
