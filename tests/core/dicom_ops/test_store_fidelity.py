"""What is stored is what was sent: pydicom's own test files against DCMTK and Orthanc peers that
take uncompressed data only, Deflated files, and a batch that outlives a lost association."""

from __future__ import annotations

import json
import shutil
import warnings

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import evt
from pynetdicom.sop_class import (
    CTImageStorage,
    MRImageStorage,
    SecondaryCaptureImageStorage,
)

from pacs_console.core.dicom.ops.store import store
from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.core.dicom.wire.target import Target
from tests.conftest import run_cli
from tests.core.dicom_ops.helpers import QUICK, drain, target_of
from tests.peers.net import addr, free_ports
from tests.peers.orthanc import OrthancPeer
from tests.peers.plugin import KNOWN_PEERS, SCU_AET, peer_running

pytestmark = pytest.mark.peers

# Compressed files of pydicom's own test set that pydicom can decode here (RLE, JPEG baseline
# and extended, JPEG-LS, JPEG 2000), one Deflated file and plain ones, each its own instance
# (several files of the set share a SOP Instance UID: MR_small*, SC_rgb_rle*).
# The JPEG-LS near-lossless files lack Patient ID and study/series UIDs (Orthanc refuses them).
COMPRESSED = ("MR_small_jpeg_ls_lossless.dcm", "SC_rgb_rle.dcm", "693_J2KI.dcm",
              "JPGExtended.dcm", "SC_rgb_jpeg_dcmtk.dcm")
DEFLATED = "image_dfl.dcm"
PLAIN = ("CT_small.dcm", "test-SR.dcm")
UNCOMPRESSED = [ImplicitVRLittleEndian, ExplicitVRLittleEndian]


def _copy(names, folder):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(get_testdata_file(name), folder / name)
    return folder


def _identity(ds) -> tuple:
    return (str(ds.SOPClassUID), str(ds.SOPInstanceUID), str(ds.get("StudyInstanceUID", "")),
            str(ds.get("SeriesInstanceUID", "")), str(ds.get("PatientID", "")))


def _sent_identities(names) -> set[tuple]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {_identity(dcmread(get_testdata_file(n))) for n in names}


def _received_identities(files) -> set[tuple]:
    return {_identity(dcmread(f)) for f in files}


@pytest.fixture(scope="module")
def plain_orthanc():
    """Orthanc with every compressed (and the deflated) transfer syntax disabled."""
    host = addr(22)
    yield from peer_running(OrthancPeer("PLAINORTHANC", host, *free_ports(host, 2),
                                        modalities=KNOWN_PEERS, accepted_syntaxes=UNCOMPRESSED))


def test_dcmqrscp_uncompressed_only_takes_every_decompressed_file_under_its_own_uid(
        dcmqrscp, tmp_path, data_dir):
    folder = _copy(COMPRESSED, tmp_path / "in")
    proc = run_cli("store", "-aec", dcmqrscp.aet, "-aet", SCU_AET, dcmqrscp.host,
                   str(dcmqrscp.dicom_port), str(folder), "--json", data_dir=data_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)["result"]
    n = len(COMPRESSED)
    assert (result["sent"], result["failed"], result["decompressed"]) == (n, 0, n)
    assert all(f["status"] == 0 and f["decompressed"] for f in result["files"])
    received = dcmqrscp.files()
    assert len(received) == n
    assert _received_identities(received) == _sent_identities(COMPRESSED)
    assert {str(dcmread(f).file_meta.TransferSyntaxUID) for f in received} <= set(UNCOMPRESSED)


def test_decompressed_counts_every_file_converted_also_those_the_peer_refused(tmp_path):
    # A full disk at the peer: every file is decompressed and sent, every answer is 0xA700.
    names = ("MR_small_RLE.dcm", "SC_rgb_rle.dcm", "693_J2KI.dcm")
    ae = make_ae("FULLDISK", QUICK)
    for sop in (SecondaryCaptureImageStorage, CTImageStorage, MRImageStorage):
        ae.add_supported_context(sop, UNCOMPRESSED)
    answered = []
    server = ae.serve(("127.0.0.1", 0), [(evt.EVT_C_STORE, lambda e: answered.append(1) or 0xA700)])
    try:
        target = Target("127.0.0.1", server.server_address[1], "FULLDISK", timeouts=QUICK)
        _, result = drain(store(target, _copy(names, tmp_path / "in")))
    finally:
        server.shutdown()
    assert len(answered) == 3 and (result.sent, result.failed) == (0, 3)
    assert result.decompressed == 3 == sum(f["decompressed"] for f in result.files)
    assert all(f["status"] == 0xA700 for f in result.files)


def test_deflated_file_stores_to_storescp_that_accepts_deflate(storescp, tmp_path):
    names = (DEFLATED, *PLAIN, "MR_small_RLE.dcm")
    _, result = drain(store(target_of(storescp), _copy(names, tmp_path / "in")))
    assert (result.sent, result.failed) == (4, 0), result.files
    received = storescp.files()
    assert _received_identities(received) == _sent_identities(names)
    deflated = next(f for f in received if dcmread(f).SOPClassUID == SecondaryCaptureImageStorage
                    and "Deflate" in dcmread(f).file_meta.TransferSyntaxUID.name)
    original = dcmread(get_testdata_file(DEFLATED))
    assert dcmread(deflated).PixelData == original.PixelData


def test_deflated_file_is_inflated_for_storescp_without_deflate(plain_storescp, tmp_path):
    plain_storescp.clear()
    names = (DEFLATED, *PLAIN)
    _, result = drain(store(target_of(plain_storescp), _copy(names, tmp_path / "in")))
    assert (result.sent, result.failed) == (3, 0), result.files
    received = plain_storescp.files()
    assert _received_identities(received) == _sent_identities(names)
    syntaxes = {str(dcmread(f).file_meta.TransferSyntaxUID) for f in received}
    assert syntaxes <= set(UNCOMPRESSED)
    inflated = next(f for f in received if dcmread(f).SOPClassUID == SecondaryCaptureImageStorage)
    assert dcmread(inflated).PixelData == dcmread(get_testdata_file(DEFLATED)).PixelData


def test_orthanc_without_compressed_syntaxes_stores_the_whole_folder(plain_orthanc, tmp_path):
    plain_orthanc.clear()
    names = (*COMPRESSED, DEFLATED, *PLAIN)
    _, result = drain(store(target_of(plain_orthanc), _copy(names, tmp_path / "in")))
    assert (result.sent, result.failed) == (len(names), 0), [(f["path"], f["status"], f["meaning"], f.get("diagnosis")) for f in result.files if f["status"]]
    assert result.decompressed == len(COMPRESSED)
    stored = {plain_orthanc.rest("GET", f"/instances/{i}/simplified-tags")["SOPInstanceUID"]
              for i in plain_orthanc.rest("GET", "/instances")}
    assert stored == {uid for _, uid, *_ in _sent_identities(names)}


class AbortOnce:
    """A pynetdicom Storage SCP that aborts the association on the first C-STORE of one
    instance (a PACS restarting, a firewall cutting the connection) and stores everything else."""

    def __init__(self, victim: str):
        self.victim, self.aborted, self.stored, self.associations = victim, 0, [], 0
        ae = make_ae("FLAKY", QUICK)
        for sop in (SecondaryCaptureImageStorage, CTImageStorage, MRImageStorage):
            ae.add_supported_context(sop, UNCOMPRESSED)
        self.server = ae.serve(("127.0.0.1", 0), [(evt.EVT_C_STORE, self._on_store),
                                                  (evt.EVT_ESTABLISHED, self._on_assoc)])
        self.target = Target("127.0.0.1", self.server.server_address[1], "FLAKY",
                             calling_ae=SCU_AET, timeouts=QUICK)

    def _on_assoc(self, event):
        self.associations += 1

    def _on_store(self, event):
        uid = str(event.request.AffectedSOPInstanceUID)
        if uid == self.victim and not self.aborted:
            self.aborted += 1
            event.assoc.abort()
            return 0xC000
        self.stored.append(uid)
        return 0x0000


def test_a_lost_association_reconnects_and_the_batch_continues(tmp_path):
    names = sorted(("CT_small.dcm", "MR_small.dcm", "SC_rgb_rle.dcm", "693_J2KI.dcm",
                    "JPGExtended.dcm"))
    folder = _copy(names, tmp_path / "in")
    uids = [uid for _, uid, *_ in (_identity(dcmread(folder / n)) for n in names)]
    victim = uids[0]  # the first file sent: everything after it needs a new association
    scp = AbortOnce(victim)
    try:
        _, result = drain(store(scp.target, folder))
    finally:
        scp.server.shutdown()
    assert scp.aborted == 1 and scp.associations >= 2
    assert (result.sent, result.failed) == (len(names) - 1, 1), result.files
    assert sorted(scp.stored) == sorted(u for u in uids if u != victim)
    (failed,) = [f for f in result.files if f["status"] != 0]
    assert failed["sop_instance_uid"] == victim


def test_a_folder_with_a_deflated_file_stores_completely_to_orthanc(orthanc, tmp_path):
    # Orthanc accepts Deflated: the file goes deflated (padded to even length), and the
    # files after it in the batch are not lost (Orthanc hung on the odd-length fragment).
    names = (DEFLATED, *PLAIN, *COMPRESSED)
    _, result = drain(store(target_of(orthanc), _copy(names, tmp_path / "in")))
    assert (result.sent, result.failed, result.decompressed) == (len(names), 0, 0), result.files
    stored = {orthanc.rest("GET", f"/instances/{i}/simplified-tags")["SOPInstanceUID"]
              for i in orthanc.rest("GET", "/instances")}
    assert stored == {uid for _, uid, *_ in _sent_identities(names)}
