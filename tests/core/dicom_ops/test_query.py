"""C-FIND against Orthanc, dcmqrscp, wlmscpfs and the demo PACS: levels, models, cancel, abort."""

from __future__ import annotations

import threading
import time

import pytest
from pydicom import Dataset
from pynetdicom import evt
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind

from pacs_console.core.dicom.ops.query import find
from pacs_console.core.dicom.ops.store import store
from pacs_console.core.dicom.servers.demo import DemoPacs
from pacs_console.core.dicom.synth.studies import PatientInfo, generate_study, worklist_items
from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.core.dicom.wire.target import Target
from tests.core.dicom_ops.helpers import QUICK, drain, part10, target_of

pytestmark = pytest.mark.peers
MENSAH = PatientInfo("Mensah^Ɛfua", "KB123456", "19800101", "F")


@pytest.fixture
def orthanc_studies(orthanc):
    studies = [generate_study("CT", images=2, series=1, size=32, seed=1, patient=MENSAH),
               generate_study("MR", images=2, series=2, size=32, seed=2, compression="jpeg2000"),
               generate_study("CR", images=1, series=1, size=32, seed=3, compression="rle")]
    for study in studies:
        for ds in study:
            orthanc.upload(part10(ds))
    return studies


def test_study_level_with_wildcard_name(orthanc, orthanc_studies):
    matches, result = drain(find(target_of(orthanc), "STUDY", {"name": "Mensah*"}))
    assert result.status == 0 and result.count == 1 and result.diagnosis is None
    # Orthanc answers in its Latin-1 default encoding and drops the Akan letter.
    assert matches[0]["PatientName"].startswith("Mensah^")
    assert matches[0]["StudyInstanceUID"] == orthanc_studies[0][0].StudyInstanceUID
    assert result.association["accepted"][0]["name"].startswith("Study Root")
    assert result.evidence()["outcome"] == "ok"


def test_all_levels_and_patient_root(orthanc, orthanc_studies):
    mr = orthanc_studies[1]
    target = target_of(orthanc)
    studies, _ = drain(find(target, "STUDY", {"modality": "MR"}))
    assert [m["StudyInstanceUID"] for m in studies] == [mr[0].StudyInstanceUID]
    series, _ = drain(find(target, "SERIES", {"study_uid": mr[0].StudyInstanceUID}))
    assert len(series) == 2 and {m["Modality"] for m in series} == {"MR"}
    images, _ = drain(find(target, "IMAGE", {"study_uid": mr[0].StudyInstanceUID,
                                             "series_uid": series[0]["SeriesInstanceUID"]}))
    assert len(images) == 1 and images[0]["SOPInstanceUID"]
    patients, result = drain(find(target, "PATIENT", {"patient_id": MENSAH.patient_id},
                                  model="patient"))
    assert result.status == 0 and patients[0]["PatientID"] == MENSAH.patient_id


def test_date_range_accession_and_extra_keys(orthanc, orthanc_studies):
    ct = orthanc_studies[0][0]
    matches, result = drain(find(target_of(orthanc), "STUDY",
                                 {"date": f"{ct.StudyDate}-{ct.StudyDate}",
                                  "accession": ct.AccessionNumber},
                                 extra={"InstitutionName": "", "0008,1030": ""}))
    assert result.count == 1 and matches[0]["AccessionNumber"] == ct.AccessionNumber
    assert "InstitutionName" in matches[0]


def test_unregistered_calling_ae_gets_nothing_and_a_hint(orthanc, orthanc_studies):
    # Orthanc 1.10 logs "not listed in DicomModalities" and drops the request unanswered.
    matches, result = drain(find(target_of(orthanc, calling_ae="STRANGER"), "STUDY", {}))
    assert matches == []
    assert result.diagnosis.code == "no-matches-unregistered-ae"
    assert "STRANGER" in result.diagnosis.text() and "DicomModalities" in result.diagnosis.text()
    assert result.evidence()["outcome"] in ("warning", "failed")


def test_utf8_names_survive_on_the_demo():
    with DemoPacs(studies=[generate_study("CR", images=1, size=16, seed=9, patient=MENSAH)]) as demo:
        matches, result = drain(find(Target(demo.host, demo.port, demo.ae_title, timeouts=QUICK),
                                     "STUDY", {"name": "Mensah^Ɛ*"}))
    assert result.count == 1 and matches[0]["PatientName"] == "Mensah^Ɛfua"


def test_empty_archive_broad_query_hints_unregistered_ae():
    with DemoPacs(studies=[]) as demo:
        _, result = drain(find(Target(demo.host, demo.port, demo.ae_title, timeouts=QUICK),
                               "STUDY", {"name": "*"}))
    assert result.status == 0 and result.diagnosis.code == "no-matches-unregistered-ae"


def test_narrow_query_with_no_match_still_hints(orthanc, orthanc_studies):
    _, result = drain(find(target_of(orthanc), "STUDY", {"patient_id": "NO-SUCH-ID"}))
    assert result.count == 0 and result.diagnosis.code == "no-matches"
    assert any("calling AE" in c for c in result.diagnosis.causes)


def test_limit_truncates_and_cancels(orthanc, orthanc_studies):
    matches, result = drain(find(target_of(orthanc), "SERIES", {}, limit=2))
    assert len(matches) == 2 and result.matches_truncated


def test_dcmqrscp_find_after_store(dcmqrscp):
    study = generate_study("CT", images=3, series=1, size=32, seed=5)
    _, stored = drain(store(target_of(dcmqrscp), study))
    assert stored.sent == 3
    matches, result = drain(find(target_of(dcmqrscp), "STUDY",
                                 {"patient_id": study[0].PatientID}))
    assert result.status == 0 and result.count == 1
    assert matches[0]["StudyInstanceUID"] == study[0].StudyInstanceUID


def test_worklist_on_wlmscpfs(wlmscpfs):
    target = target_of(wlmscpfs)
    items, result = drain(find(target, "", {}, model="worklist"))
    assert result.status == 0 and result.count >= 5
    assert all("ScheduledStationAETitle" in m and "Modality" in m for m in items)
    modality = items[0]["Modality"]
    filtered, _ = drain(find(target, "", {"modality": modality}, model="worklist"))
    assert filtered and all(m["Modality"] == modality for m in filtered)
    assert len(filtered) <= len(items)


def test_worklist_station_ae_on_demo():
    wl = worklist_items(6, stations=["KB_CT01", "KB_US01"])
    with DemoPacs(studies=[], worklist=wl) as demo:
        items, result = drain(find(Target(demo.host, demo.port, demo.ae_title, timeouts=QUICK),
                                   "", {"station_ae": "KB_US01"}, model="worklist"))
    assert result.count == 3 and {m["ScheduledStationAETitle"] for m in items} == {"KB_US01"}


class SlowFinder:
    """A pynetdicom Q/R SCP that streams ``total`` matches slowly, or aborts after ``abort_after``."""

    def __init__(self, total=200, delay=0.01, abort_after=None):
        self.total, self.delay, self.abort_after = total, delay, abort_after
        self.sent = 0
        self.cancelled = threading.Event()
        ae = make_ae("SLOWFIND", QUICK, supported=[StudyRootQueryRetrieveInformationModelFind])
        self.server = ae.serve(("127.0.0.1", 0), [(evt.EVT_C_FIND, self.on_find)])
        self.target = Target("127.0.0.1", self.server.server_address[1], "SLOWFIND",
                             timeouts=QUICK)

    def on_find(self, event):
        for i in range(self.total):
            if event.is_cancelled:
                self.cancelled.set()
                yield 0xFE00, None
                return
            if self.abort_after is not None and i == self.abort_after:
                event.assoc.abort()
                return
            ds = Dataset()
            ds.QueryRetrieveLevel = "STUDY"
            ds.StudyInstanceUID = f"1.2.3.{i}"
            self.sent += 1
            yield 0xFF00, ds
            time.sleep(self.delay)
        yield 0x0000, None


def test_closing_the_generator_sends_c_cancel():
    peer = SlowFinder()
    try:
        gen = find(peer.target, "STUDY", {})
        first = [next(gen) for _ in range(3)]
        gen.close()
        assert peer.cancelled.wait(3), "the SCP never saw C-CANCEL"
    finally:
        peer.server.shutdown()
    assert [m["StudyInstanceUID"] for m in first] == ["1.2.3.0", "1.2.3.1", "1.2.3.2"]
    assert peer.sent < 200


def test_peer_aborting_mid_find_is_diagnosed():
    peer = SlowFinder(total=50, delay=0, abort_after=5)
    try:
        matches, result = drain(find(peer.target, "STUDY", {}))
    finally:
        peer.server.shutdown()
    assert len(matches) == 5 and result.status is None
    assert result.diagnosis.code == "association-aborted"
    assert "after 5 matches" in result.diagnosis.what
    assert result.evidence()["outcome"] == "failed"


def test_find_on_closed_port_returns_diagnosis():
    from tests.core.dicom_ops.helpers import free_port

    matches, result = drain(find(Target("127.0.0.1", free_port(), "X", timeouts=QUICK), "STUDY", {}))
    assert matches == [] and result.diagnosis.code == "connection-refused"


def test_bad_free_key_is_diagnosed(orthanc):
    _, result = drain(find(target_of(orthanc), "STUDY", {}, extra={"NotAKeyword": "x"}))
    assert result.diagnosis.code == "bad-query-key"
