"""The receive fast path agrees with pydicom: file meta bytes and the UIDs found by scanning."""

from __future__ import annotations

import io
import queue

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence
from pynetdicom.sop_class import CTImageStorage

from pacs_console.core.dicom.servers.storage import StorageSCP
from pacs_console.core.dicom.synth.studies import generate_study
from pacs_console.core.dicom.wire import fastpath
from pacs_console.core.dicom.wire.ae import make_ae


def _encode(ds: Dataset, implicit: bool) -> bytes:
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, implicit
    write_dataset(fp, ds)
    return fp.getvalue()


def _with_nested_sequences() -> Dataset:
    ds = generate_study("CT", images=1, size=32, seed=3)[0]
    inner = Dataset()
    inner.ReferencedSOPClassUID = "1.2.3"
    inner.ReferencedSOPInstanceUID = "1.2.3.4"
    deeper = Dataset()
    deeper.CodeValue = "T-1"
    inner.ConceptNameCodeSequence = Sequence([deeper])
    ds.ReferencedImageSequence = Sequence([inner, inner])
    ds["ReferencedImageSequence"].is_undefined_length = True
    return ds


@pytest.mark.parametrize("implicit", [False, True])
@pytest.mark.parametrize("make", [lambda: generate_study("MR", images=1, size=16)[0],
                                  _with_nested_sequences,
                                  lambda: dcmread(get_testdata_file("CT_small.dcm"))])
def test_find_uids_matches_pydicom(make, implicit):
    ds = make()
    found = fastpath.find_uids(memoryview(_encode(ds, implicit)), implicit)
    assert found[fastpath.STUDY_UID] == ds.StudyInstanceUID
    assert found[fastpath.SERIES_UID] == ds.SeriesInstanceUID


def test_garbage_raises_scan_error():
    with pytest.raises(fastpath.ScanError):
        fastpath.find_uids(b"\x08\x00\x05\x00\x01\x02" + b"\xff" * 20, False)


def test_file_meta_reads_back_with_pydicom():
    meta = fastpath.file_meta("1.2.840.10008.5.1.4.1.1.2", "1.2.3.4.5", "1.2.840.10008.1.2.1",
                              "1.2.826.0.1.3680043.9.3811.3.0.4", "PACSCONSOLE_010", "CT_SCANNER")
    ds = dcmread(io.BytesIO(b"\x00" * 128 + b"DICM" + meta + _encode(Dataset(), False)),
                 force=True)
    fm = ds.file_meta
    assert fm.MediaStorageSOPInstanceUID == "1.2.3.4.5"
    assert fm.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert fm.SourceApplicationEntityTitle == "CT_SCANNER"
    assert fm.FileMetaInformationGroupLength == len(meta) - 12


def test_received_files_are_byte_faithful_and_readable(tmp_path):
    arrivals: queue.SimpleQueue = queue.SimpleQueue()
    scp = StorageSCP(tmp_path, "PACSCONSOLE", 0, host="127.0.0.1", notify=arrivals).start()
    datasets = [_with_nested_sequences(), *generate_study("CT", images=2, size=64, seed=5)]
    try:
        ae = make_ae("SENDER", requested=[CTImageStorage])
        assoc = ae.associate("127.0.0.1", scp.port, ae_title="PACSCONSOLE")
        for ds in datasets:
            assert assoc.send_c_store(ds).Status == 0
        assoc.release()
    finally:
        scp.stop()
    records = {r.sop_instance_uid: r for r in (arrivals.get_nowait() for _ in datasets)}
    for ds in datasets:
        (path,) = list(tmp_path.rglob(f"{ds.SOPInstanceUID}.dcm"))
        assert records[ds.SOPInstanceUID].path == path
        assert records[ds.SOPInstanceUID].size == path.stat().st_size
        back = dcmread(path)
        assert back.file_meta.SourceApplicationEntityTitle == "SENDER"
        assert back.StudyInstanceUID == ds.StudyInstanceUID
        assert path.parent.name == ds.SeriesInstanceUID
        assert back.PixelData == ds.PixelData
