"""The relay's decoder on hand-made associations: what a person reads, and the diagnoses."""

from __future__ import annotations

import json

import pytest
from pydicom.dataset import Dataset

from pacs_console.core.dicom.wire import pdu
from pacs_console.core.relay.conversation import AC, RQ, Conversation
from pacs_console.core.relay.findings import summary
from tests.core.relay.pdus import (
    CT,
    EXPLICIT,
    WORKLIST,
    ac,
    ct_dataset,
    encode,
    find_rq,
    find_rsp,
    rq,
    store_rq,
    store_rsp,
)


def run(steps, chunk: int | None = None, *, resync: bool = False) -> dict:
    conv = Conversation("10.0.0.5:50000", "10.0.0.9:104", resync=resync)
    clock = 1000.0
    for direction, data in steps:
        clock += 0.01
        pieces = [data] if chunk is None else [data[i:i + chunk] for i in range(0, len(data), chunk)]
        for piece in pieces:
            conv.feed(direction, piece, clock)
    conv.close(when=clock + 0.01)
    return summary(conv)


def codes(report: dict) -> list[str]:
    return [d["code"] for d in report["diagnosis"]]


def test_a_store_reads_as_a_timeline_with_identifiers_and_no_patient_data():
    data = encode(ct_dataset())
    steps = [(RQ, rq([(CT, [EXPLICIT])])), (AC, ac([0])),
             (RQ, store_rq(1, data)), (AC, store_rsp(1, 0x0000)),
             (RQ, pdu.release_rq()), (AC, pdu.release_rp())]
    whole, byte_by_byte = run(steps), run(steps, chunk=7)
    for report in (whole, byte_by_byte):
        assert (report["calling_ae"], report["called_ae"], report["result"]) == (
            "MODALITY", "PACS", "released")
        [store] = report["messages"]
        assert store["command"] == "C-STORE-RQ" and store["status"] == "0x0000"
        assert store["dataset_bytes"] == len(data)
        assert store["dataset"]["AccessionNumber"] == "ACC77"
        assert store["dataset"]["StudyInstanceUID"] == "1.2.3.9"
        assert store["dataset"]["Modality"] == "CT"
        assert report["diagnosis"] == []
        text = json.dumps(report)
        assert "Mensah" not in text and "GH-5521" not in text
        assert [e["kind"] for e in report["timeline"]] == [
            "A-ASSOCIATE-RQ", "A-ASSOCIATE-AC", "C-STORE-RQ", "C-STORE-RSP", "A-RELEASE-RQ",
            "A-RELEASE-RP", "close"]
    assert whole["messages"] == byte_by_byte["messages"]


def test_a_rejection_is_explained():
    report = run([(RQ, rq([(CT, [EXPLICIT])], called="WRONG")), (AC, pdu.associate_rj(1, 1, 7))])
    assert report["result"] == "rejected"
    assert codes(report) == ["called-ae-rejected"]
    assert "'WRONG'" in report["diagnosis"][0]["causes"][0]


def test_a_context_the_pacs_refused_is_named():
    report = run([(RQ, rq([(CT, [EXPLICIT]), ("1.2.840.10008.5.1.4.1.1.481.1", [EXPLICIT])])),
                  (AC, ac([0, 3])), (RQ, pdu.release_rq()), (AC, pdu.release_rp())])
    assert codes(report) == ["context-refused"]
    assert "RT Image Storage" in report["diagnosis"][0]["what"]
    assert report["contexts"][1]["result"] == 3


def test_failures_an_unanswered_store_missing_keys_and_an_abort():
    good = encode(ct_dataset())
    bare = encode(ct_dataset(accession=None, study=""))
    report = run([(RQ, rq([(CT, [EXPLICIT])])), (AC, ac([0])),
                  (RQ, store_rq(1, good)), (AC, store_rsp(1, 0xA700)),
                  (RQ, store_rq(2, bare)), (RQ, pdu.abort(0, 0))])
    assert report["result"] == "aborted"
    found = codes(report)
    for code in ("association-aborted", "dimse-failure-a700", "store-no-response",
                 "store-without-accession", "store-without-study-uid"):
        assert code in found, found
    assert report["messages"][0]["status_meaning"] == "Out of resources"
    assert "status" not in report["messages"][1]


def test_a_worklist_query_that_matches_nothing_names_its_keys():
    query = Dataset()
    query.PatientName = ""
    step = Dataset()
    step.ScheduledStationAETitle = "CT99"
    step.Modality = "CT"
    query.ScheduledProcedureStepSequence = [step]
    report = run([(RQ, rq([(WORKLIST, [EXPLICIT])], calling="CTSCANNER")), (AC, ac([0])),
                  (RQ, find_rq(1, WORKLIST, encode(query))), (AC, find_rsp(1, WORKLIST, 0)),
                  (RQ, pdu.release_rq()), (AC, pdu.release_rp())])
    assert codes(report) == ["worklist-no-match"]
    causes = " ".join(report["diagnosis"][0]["causes"])
    assert "'CT99'" in causes and "'CTSCANNER'" in causes and "'CT'" in causes


def test_a_matching_worklist_query_is_quiet():
    query, match = Dataset(), Dataset()
    match.AccessionNumber = "A1"
    steps = [(RQ, rq([(WORKLIST, [EXPLICIT])])), (AC, ac([0])),
             (RQ, find_rq(1, WORKLIST, encode(query))),
             (AC, find_rsp(1, WORKLIST, 0xFF00, encode(match))), (AC, find_rsp(1, WORKLIST, 0))]
    report = run(steps)
    assert report["messages"][0]["matches"] == 1 and "worklist-no-match" not in codes(report)
    assert codes(report) == ["closed-without-release"]


def test_text_outside_ascii_without_a_character_set():
    ds = ct_dataset(charset=None)
    ds.add_new(0x00081030, "LO", b"T\xeate")  # Study Description in Latin-1, undeclared
    report = run([(RQ, rq([(CT, [EXPLICIT])])), (AC, ac([0])),
                  (RQ, store_rq(1, encode(ds))), (AC, store_rsp(1, 0))])
    assert "charset-undeclared" in codes(report)
    assert report["messages"][0]["dataset"]["non_ascii"] == ["StudyDescription"]


def test_identifiers_come_from_a_bounded_prefix_never_the_pixels():
    ds = ct_dataset()
    ds.PixelData = bytes(4 << 20)
    data = encode(ds)
    report = run([(RQ, rq([(CT, [EXPLICIT])])), (AC, ac([0])), (RQ, store_rq(1, data))])
    store = report["messages"][0]
    assert store["dataset_bytes"] == len(data) and store["dataset"]["Modality"] == "CT"
    assert "PixelData" not in json.dumps(store)


def test_a_stream_picked_up_mid_association_resynchronises():
    data = encode(ct_dataset())
    first = store_rq(1, data)
    report = run([(RQ, first[len(first) // 2:] + store_rq(2, data)), (AC, store_rsp(2, 0)),
                  (RQ, pdu.release_rq()), (AC, pdu.release_rp())], chunk=1000, resync=True)
    assert report["mid_association"] and report["result"] == "released"
    assert [m["message_id"] for m in report["messages"]] == [2]
    assert report["messages"][0]["status"] == "0x0000" and report["diagnosis"] == []


def test_a_malformed_pdu_is_a_finding_for_that_association():
    report = run([(RQ, rq([(CT, [EXPLICIT])])), (AC, b"\x02\x00\x00\x00\x00\x10" + bytes(16)),
                  (RQ, pdu.release_rq())])
    assert "protocol-error" in codes(report)
    assert report["result"] == "requested"


def test_a_character_set_nobody_knows():
    ds = ct_dataset(charset="ISO_IR100")
    ds.add_new(0x00081030, "LO", b"T\xeate")
    with pytest.warns(UserWarning, match="ISO_IR100"):  # pydicom writing it, in the test
        data = encode(ds)
    report = run([(RQ, rq([(CT, [EXPLICIT])])), (AC, ac([0])),
                  (RQ, store_rq(1, data)), (AC, store_rsp(1, 0))])
    assert "charset-unknown" in codes(report)
