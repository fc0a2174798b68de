"""The lean Upper Layer: command sets, negotiation, and identifier rows equal to pydicom's."""

from __future__ import annotations

from io import BytesIO

import pytest
from pydicom import Dataset
from pydicom.sequence import Sequence
from pynetdicom.dsutils import decode, encode
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind, Verification

from pacs_console.core.dicom.ops.query import flatten
from pacs_console.core.dicom.servers.demo import DemoPacs
from pacs_console.core.dicom.wire import fastpath, pdu, ul
from pacs_console.core.dicom.wire.lean_query import flat_row
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError
from tests.core.dicom_ops.helpers import QUICK, free_port, query

EXPLICIT, IMPLICIT = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"


def _match(undefined: bool) -> Dataset:
    ds = query("STUDY", PatientName="Mensah^Ɛfua Ɔkyeame", PatientID="KB123456",
               PatientBirthDate="", ModalitiesInStudy=["CT", "SR"],
               NumberOfStudyRelatedInstances="12")
    ds.add_new(0x00280010, "US", 512)
    ds.add_new(0x00091010, "LO", "private text")
    item = Dataset()
    item.Modality = "MR"
    item.ScheduledStationAETitle = "MRI_1"
    second = Dataset()
    second.Modality = "CT"
    ds.ScheduledProcedureStepSequence = Sequence([item, second])
    if undefined:
        ds.ScheduledProcedureStepSequence.is_undefined_length = True
        for entry in ds.ScheduledProcedureStepSequence:
            entry.is_undefined_length_sequence_item = True
    return ds


@pytest.mark.parametrize("implicit", [True, False])
@pytest.mark.parametrize("undefined", [True, False])
def test_flat_row_equals_pydicom_flatten(implicit, undefined):
    raw = encode(_match(undefined), implicit, True)
    expected = flatten(decode(BytesIO(raw), implicit, True))
    row = flat_row(raw, implicit)
    assert row == expected
    assert row["PatientName"] == "Mensah^Ɛfua Ɔkyeame"
    assert row["ModalitiesInStudy"] == "CT\\SR" and row["Rows"] == "512"
    assert row["Modality"] == "MR" and row["ScheduledStationAETitle"] == "MRI_1"
    assert "SpecificCharacterSet" not in row and "QueryRetrieveLevel" not in row


@pytest.mark.parametrize("term", ["ISO_IR 192", "ISO 2022 IR 100"])
def test_decode_row_names_the_declared_character_set_on_either_path(term):
    """The answer's (0008,0005) as declared: straight from the bytes (ISO_IR 192) or through
    pydicom (ISO 2022 text, which the lean decoder leaves to it); absent when none is."""
    from pacs_console.core.dicom.wire.lean_query import decode_row

    ds = _match(False)
    ds.SpecificCharacterSet = term
    ds.PatientName = "Mensah^Efua"
    raw = encode(ds, False, True)
    assert (flat_row(raw, False) is None) == (term != "ISO_IR 192")
    row = decode_row(raw, False)
    assert row["SpecificCharacterSet"] == term and row["PatientName"] == "Mensah^Efua"
    del ds.SpecificCharacterSet
    assert "SpecificCharacterSet" not in decode_row(encode(ds, False, True), False)


def test_iso_2022_character_sets_are_left_to_pydicom():
    ds = Dataset()
    ds.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
    ds.PatientID = "X"
    assert flat_row(encode(ds, False, True), False) is None


def test_command_set_round_trip():
    raw = pdu.encode_command({0x0002: "1.2.840.10008.1.1", 0x0100: 0x0030, 0x0110: 7,
                             0x0800: ul.NO_DATASET})
    assert len(raw) % 2 == 0
    fields = pdu.decode_command(raw)
    assert fields == {0x0002: "1.2.840.10008.1.1", 0x0100: 0x0030, 0x0110: 7, 0x0800: 0x0101}


def test_negotiation_and_echo_with_the_demo_pacs():
    with DemoPacs(studies=[]) as demo:
        target = Target(demo.host, demo.port, demo.ae_title, timeouts=QUICK)
        timing: dict = {}
        assoc = ul.open_lean(target, [(Verification, [EXPLICIT, IMPLICIT]),
                                      ("1.2.3.4.5.6.7.8", [EXPLICIT]),
                                      (StudyRootQueryRetrieveInformationModelFind, [IMPLICIT])],
                             timing)
        try:
            report = assoc.report(timing)
            assert [cx["abstract_syntax"] for cx in report["accepted"]] == [
                Verification, StudyRootQueryRetrieveInformationModelFind]
            assert report["rejected"][0]["result"] == "Abstract Syntax Not Supported"
            assert report["fingerprint"]["product"] == "PACS Console"
            cx = assoc.context_for(Verification)
            assoc.send(cx.context_id, pdu.encode_command(
                {0x0002: Verification, 0x0100: 0x0030, 0x0110: 1, 0x0800: ul.NO_DATASET}))
            context_id, fields, data = assoc.receive(5)
            assert (context_id, fields[0x0100], fields[0x0900], data) == (cx.context_id, 0x8030,
                                                                          0, None)
        finally:
            assoc.release()


def test_a_rejection_is_diagnosed_once_and_a_closed_port_falls_back():
    with DemoPacs(studies=[]) as demo:
        wrong = Target(demo.host, demo.port, "NOT_THE_DEMO", timeouts=QUICK)
        with pytest.raises(ConsoleError) as raised:  # not retried through pynetdicom
            ul.open_lean(wrong, [(Verification, [EXPLICIT])])
        assert "called AE title not recognised" in raised.value.diagnosis.what
    with pytest.raises(ul.Fallback):
        ul.open_lean(Target("127.0.0.1", free_port(), "ANY", timeouts=QUICK),
                     [(Verification, [EXPLICIT])])


class _FussySCP:
    """A 4 KB-PDU storage SCP that refuses one image and aborts on another; with
    ``hold_first``, it answers the first image only once that event is set (or 5 s passed)."""

    def __init__(self, refuse: int = -1, abort_on: int = -1, hold_first=None) -> None:
        import threading

        from pynetdicom import evt
        from pynetdicom.sop_class import CTImageStorage

        from pacs_console.core.dicom.wire.ae import make_ae

        self.received: list = []
        self.lock = threading.Lock()
        self.refuse, self.abort_on = refuse, abort_on
        self.hold_first, self.held_until_set = hold_first, None
        ae = make_ae("FUSSY", QUICK, maximum_pdu=4096)
        ae.add_supported_context(CTImageStorage, [EXPLICIT, IMPLICIT])
        self.server = ae.serve(("127.0.0.1", 0), [(evt.EVT_C_STORE, self.on_store)])
        self.target = Target("127.0.0.1", self.server.server_address[1], "FUSSY", timeouts=QUICK)

    def __enter__(self) -> _FussySCP:
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()

    def on_store(self, event):
        with self.lock:
            n = len(self.received)
            self.received.append(event.dataset)
        if n == 0 and self.hold_first is not None:
            self.held_until_set = self.hold_first.wait(5)
        if n == self.abort_on:
            event.assoc.abort()
            return 0
        return 0xA700 if n == self.refuse else 0


def _ct_folder(tmp_path, images: int):
    from pacs_console.core.dicom.synth.studies import generate_study, write_study

    study = generate_study("CT", images=images, series=1, size=64, seed=31)
    write_study(study, tmp_path)
    return study


def test_lean_store_fragments_to_a_small_pdu_and_reports_each_status(tmp_path):
    from pacs_console.core.dicom.ops.store import store
    from tests.core.dicom_ops.helpers import drain

    study = _ct_folder(tmp_path, 4)
    with _FussySCP(refuse=1) as peer:
        _, result = drain(store(peer.target, tmp_path))
    assert result.sent == 3 and result.failed == 1
    assert result.diagnosis.code == "dimse-failure-a700"
    assert [f["status"] for f in result.files].count(0xA700) == 1
    assert result.association["peer"]["max_pdu"] == 4096
    sent = {ds.SOPInstanceUID: ds.PixelData for ds in study}
    assert all(ds.PixelData == sent[ds.SOPInstanceUID] for ds in peer.received)


def test_lean_store_peer_abort_fails_that_file_and_reconnects_for_the_rest(tmp_path):
    from pacs_console.core.dicom.ops.store import store
    from tests.core.dicom_ops.helpers import drain

    _ct_folder(tmp_path, 5)
    with _FussySCP(abort_on=1) as peer:
        _, result = drain(store(peer.target, tmp_path))
    assert result.sent == 4 and result.failed == 1
    assert result.diagnosis.code == "association-aborted"
    assert [f["status"] for f in result.files] == [0, None, 0, 0, 0]
    assert len(peer.received) == 5 and result.outcome == "warning"


def test_sent_runs_once_while_the_node_holds_the_first_image_and_the_report_comes_first(
        tmp_path):
    """``sent()`` (the command line prepares its evidence save there) runs while the node
    stores the first image, which it answers only once ``sent()`` has run; once only, though
    the association is lost and made again, or the first file is gone before its turn. The
    association's report is still the first event."""
    import threading

    from pacs_console.core.dicom.ops.store import collect, plan_batches
    from pacs_console.core.dicom.wire.store import send_events

    _ct_folder(tmp_path, 4)
    ran, calls = threading.Event(), []

    def sent() -> None:
        calls.append(len(calls))
        ran.set()

    items, _ = collect(tmp_path)
    [(contexts, batch)] = plan_batches(items)
    with _FussySCP(abort_on=2, hold_first=ran) as peer:
        events = list(send_events(peer.target, contexts, batch, threading.Event(), sent))
    assert peer.held_until_set is True and calls == [0]
    assert [kind for kind, _ in events] == ["association"] + ["file"] * 4
    assert events[0][1]["peer"]["max_pdu"] == 4096
    assert [status for _, (_, status, _, _) in events[1:]] == [0, 0, None, 0]

    batch[0].path.unlink()  # gone before its turn: nothing sent, the report still first
    calls.clear()
    with _FussySCP() as peer:
        events = list(send_events(peer.target, contexts, batch, threading.Event(), sent))
    assert calls == [0] and [kind for kind, _ in events] == ["association"] + ["file"] * 4
    assert [status for _, (_, status, _, _) in events[1:]] == [None, 0, 0, 0]


def test_a_file_larger_than_one_send_block_streams_whole_and_in_order(tmp_path):
    """Files are read into the association's block; one over it (4 MB at a 4 KB PDU) goes a
    block at a time, with the next block read ahead to mark the last fragment."""
    from pacs_console.core.dicom.ops.store import store
    from pacs_console.core.dicom.synth.studies import generate_study, write_study
    from tests.core.dicom_ops.helpers import drain

    big = generate_study("CT", images=2, series=1, size=1600, seed=32)  # 5 MB of pixels each
    write_study(big, tmp_path)
    assert all(p.stat().st_size > 4 << 20 for p in tmp_path.rglob("*.dcm"))
    with _FussySCP() as peer:
        _, result = drain(store(peer.target, tmp_path))
    assert result.sent == 2 and result.failed == 0
    sent = {ds.SOPInstanceUID: ds.PixelData for ds in big}
    assert {ds.SOPInstanceUID: ds.PixelData for ds in peer.received} == sent


def test_dataset_start_is_where_the_dataset_begins(tmp_path):
    from pacs_console.core.dicom.ops.store import _SNIFF
    from pacs_console.core.dicom.synth.studies import generate_study, write_study
    from pacs_console.core.dicom.wire import fastpath
    from pacs_console.core.imaging.header import SNIFF_BYTES

    assert _SNIFF == SNIFF_BYTES
    study = generate_study("CT", images=1, series=1, size=16, seed=33)
    write_study(study, tmp_path)
    raw = next(tmp_path.rglob("*.dcm")).read_bytes()
    start = fastpath.dataset_start(raw)
    assert raw[start:] == encode(study[0], False, True)  # what follows is the dataset alone
    assert fastpath.dataset_offset(BytesIO(raw)) == start
    with pytest.raises(fastpath.ScanError):
        fastpath.dataset_start(raw[:100])  # no DICM prefix
    with pytest.raises(fastpath.ScanError):
        fastpath.dataset_start(raw[:start - 3])  # a file that ends inside its meta


def test_a_file_gone_since_it_was_listed_fails_alone(tmp_path):
    from pacs_console.core.dicom.ops.store import store

    _ct_folder(tmp_path, 4)
    files = sorted(tmp_path.rglob("*.dcm"))
    with _FussySCP() as peer:
        run = store(peer.target, tmp_path)
        first = next(run)
        assert first.path == str(files[0]) and first.status == 0
        files[2].unlink()  # removed while the store runs
        progress = list(run_to_end(run))
    statuses = {p.path: p.status for p in [first, *progress]}
    assert statuses[str(files[2])] is None and [statuses[str(f)] for f in files].count(0) == 3
    assert len(peer.received) == 3


def run_to_end(run):
    while True:
        try:
            yield next(run)
        except StopIteration:
            return


def _implicit_meta_copy(source, target) -> None:
    """``source`` again with its file meta group written in implicit VR (as some old writers
    did): pydicom reads it, the lean path cannot find the dataset in it."""
    import struct

    raw = source.read_bytes()
    start = fastpath.dataset_start(raw)
    pos, meta = 132, b""
    while pos < start:
        group, element = struct.unpack_from("<HH", raw, pos)
        vr = raw[pos + 4:pos + 6]
        if vr in (b"OB", b"OW", b"UN", b"SQ", b"UT", b"UC", b"UR", b"OD", b"OF", b"OL", b"OV"):
            length, head = struct.unpack_from("<I", raw, pos + 8)[0], 12
        else:
            length, head = struct.unpack_from("<H", raw, pos + 6)[0], 8
        meta += struct.pack("<HHI", group, element, length) + raw[pos + head:pos + head + length]
        pos += head + length
    target.write_bytes(raw[:132] + meta + raw[start:])


def test_files_read_ahead_small_large_and_unusual_all_arrive_whole_in_order(tmp_path, recwarn):
    """While the peer stores one file the next one is read: a small file goes from the block
    read ahead, a file over one block streams in its turn, and one whose file meta the lean
    path cannot step over is encoded by pydicom, each arriving whole, in order, with none of
    pydicom's doubts about it printed on the terminal."""
    import warnings

    import pydicom

    from pacs_console.core.dicom.ops.store import store
    from pacs_console.core.dicom.synth.studies import generate_study, write_study
    from tests.core.dicom_ops.helpers import drain

    small = tmp_path / "small"
    _ct_folder(small, 3)
    big = generate_study("CT", images=1, series=1, size=1600, seed=33)  # 5 MB of pixels
    write_study(big, tmp_path / "big")
    plain = sorted(small.rglob("*.dcm"))
    _implicit_meta_copy(plain[1], plain[1])
    files = [plain[0], next((tmp_path / "big").rglob("*.dcm")), plain[1], plain[2]]
    with pytest.raises(fastpath.ScanError):
        fastpath.dataset_start(files[2].read_bytes())
    with _FussySCP() as peer:
        _, result = drain(store(peer.target, files))
    assert result.sent == 4 and result.failed == 0
    assert [f["path"] for f in result.files] == [str(f) for f in files]
    assert [str(w.message) for w in recwarn] == []
    with warnings.catch_warnings():  # pydicom notes the implicit VR file meta
        warnings.simplefilter("ignore")
        expected = [pydicom.dcmread(f) for f in files]
    assert [(ds.SOPInstanceUID, ds.PixelData) for ds in peer.received] == [
        (ds.SOPInstanceUID, ds.PixelData) for ds in expected]
