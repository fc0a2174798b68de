"""The demo PACS serves its compressed series to peers that take uncompressed data only (DCMTK's
storescp as C-MOVE destination, DCMTK's getscu over C-GET), and honours the proposer's order."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless
from pynetdicom import build_context
from pynetdicom.sop_class import MRImageStorage, StudyRootQueryRetrieveInformationModelMove

from pacs_console.core.dicom.servers.demo import DemoPacs
from pacs_console.core.dicom.synth.studies import generate_study
from pacs_console.core.dicom.wire.ae import make_ae
from tests.core.dicom_ops.helpers import query

pytestmark = pytest.mark.peers
GETSCU = "/usr/bin/getscu"
PLAIN = {ExplicitVRLittleEndian, ImplicitVRLittleEndian}


def _studies():
    """24 instances: 8 uncompressed, 8 RLE, 8 JPEG 2000 (three studies of one patient each)."""
    return [generate_study("CT", images=8, series=2, size=32, seed=31),
            generate_study("MR", images=8, series=1, size=32, seed=32, compression="rle"),
            generate_study("CT", images=8, series=1, size=32, seed=33, compression="jpeg2000")]


@pytest.fixture(scope="module")
def studies():
    return _studies()


@pytest.fixture
def demo(plain_storescp, studies):
    plain_storescp.clear()
    destinations = {plain_storescp.aet: (plain_storescp.host, plain_storescp.dicom_port)}
    with DemoPacs(studies=studies, resolve_destination=destinations.get) as pacs:
        yield pacs


def _same_images(files, studies):
    originals = {str(ds.SOPInstanceUID): ds for study in studies for ds in study}
    arrived = {str(dcmread(f).SOPInstanceUID): dcmread(f) for f in files}
    assert set(arrived) == set(originals)
    for uid, ds in arrived.items():
        assert str(ds.file_meta.TransferSyntaxUID) in PLAIN
        original = originals[uid]
        assert (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientID) == (
            original.StudyInstanceUID, original.SeriesInstanceUID, original.PatientID)
        np.testing.assert_array_equal(ds.pixel_array, original.pixel_array)


def test_move_to_an_uncompressed_only_dcmtk_storescp_delivers_every_instance(
        demo, plain_storescp, studies):
    ae = make_ae("ENGINEER", requested=[StudyRootQueryRetrieveInformationModelMove])
    assoc = ae.associate(demo.host, demo.port, ae_title=demo.ae_title)
    finals = []
    try:
        for study in studies:
            responses = list(assoc.send_c_move(query("STUDY", StudyInstanceUID=study[0].StudyInstanceUID),
                                               plain_storescp.aet,
                                               StudyRootQueryRetrieveInformationModelMove))
            finals.append(responses[-1][0])
    finally:
        assoc.release()
    assert [f.Status for f in finals] == [0, 0, 0]
    assert sum(f.NumberOfCompletedSuboperations for f in finals) == 24
    assert all(f.get("NumberOfFailedSuboperations", 0) == 0 for f in finals)
    _same_images(plain_storescp.files(), studies)


def test_get_by_dcmtk_getscu_taking_uncompressed_only_receives_every_instance(
        demo, studies, tmp_path):
    out = tmp_path / "got"
    out.mkdir()
    for study in studies:
        proc = subprocess.run(
            [GETSCU, "-S", "-aet", "GETTER", "-aec", demo.ae_title, "-od", str(out),
             "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study[0].StudyInstanceUID}",
             demo.host, str(demo.port)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    _same_images(sorted(out.iterdir()), studies)


def test_the_proposers_order_of_transfer_syntaxes_wins():
    with DemoPacs(studies=[]) as pacs:
        for order, expected in (([RLELossless, ExplicitVRLittleEndian], RLELossless),
                                ([ExplicitVRLittleEndian, RLELossless], ExplicitVRLittleEndian),
                                ([ImplicitVRLittleEndian, ExplicitVRLittleEndian],
                                 ImplicitVRLittleEndian)):
            ae = make_ae("MODALITY")
            ae.requested_contexts = [build_context(MRImageStorage, order)]
            assoc = ae.associate(pacs.host, pacs.port, ae_title=pacs.ae_title)
            try:
                (cx,) = assoc.accepted_contexts
                assert cx.transfer_syntax[0] == expected, order
            finally:
                assoc.release()
