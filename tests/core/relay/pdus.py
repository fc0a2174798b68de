"""Hand-made associations for the decoder tests, built with the console's own wire codec."""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset

from pacs_console.core.dicom.wire import pdu, ul

CT = "1.2.840.10008.5.1.4.1.1.2"
WORKLIST = "1.2.840.10008.5.1.4.31"
EXPLICIT, IMPLICIT = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
USER = pdu.UserInfo(16384, "1.2.826.0.1.3680043.9.9999.1", "TESTS")


def rq(contexts, called="PACS", calling="MODALITY") -> bytes:
    return pdu.associate_rq(called, calling, contexts, USER)


def ac(results: list[int], syntax: str = EXPLICIT, called="PACS", calling="MODALITY") -> bytes:
    answers = [pdu.Context(2 * n + 1, transfer_syntaxes=[syntax] if r == 0 else [], result=r)
               for n, r in enumerate(results)]
    return pdu.associate_ac(called.encode().ljust(16), calling.encode().ljust(16), answers, USER)


def encode(ds: Dataset, implicit: bool = False) -> bytes:
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, implicit
    write_dataset(fp, ds)
    return fp.getvalue()


def message(context_id: int, fields: dict, dataset: bytes = b"", fragment: int = 4000) -> bytes:
    """P-DATA-TF PDUs of one DIMSE message: the command set, then the dataset in fragments."""
    fields = {**fields, 0x0800: 0x0000 if dataset else ul.NO_DATASET}
    command = pdu.encode_command(fields)
    out = pdu.pdv_header(context_id, len(command), 3) + command
    for pos in range(0, len(dataset), fragment):
        part = dataset[pos:pos + fragment]
        last = pos + fragment >= len(dataset)
        out += pdu.pdv_header(context_id, len(part), 2 if last else 0) + part
    return out


def store_rq(msg_id: int, dataset: bytes, context_id: int = 1, sop_instance: str = "1.2.3.4") -> bytes:
    return message(context_id, {0x0002: CT, 0x0100: 0x0001, 0x0110: msg_id, 0x0700: 0,
                                0x1000: sop_instance}, dataset)


def store_rsp(msg_id: int, status: int, context_id: int = 1) -> bytes:
    return message(context_id, {0x0002: CT, 0x0100: 0x8001, 0x0120: msg_id, 0x0900: status,
                                0x1000: "1.2.3.4"})


def find_rq(msg_id: int, sop_class: str, identifier: bytes, context_id: int = 1) -> bytes:
    return message(context_id, {0x0002: sop_class, 0x0100: 0x0020, 0x0110: msg_id, 0x0700: 0},
                   identifier)


def find_rsp(msg_id: int, sop_class: str, status: int, identifier: bytes = b"",
             context_id: int = 1) -> bytes:
    return message(context_id, {0x0002: sop_class, 0x0100: 0x8020, 0x0120: msg_id,
                                0x0900: status}, identifier)


def ct_dataset(name="Mensah^Efua", patient_id="GH-5521", accession="ACC77", study="1.2.3.9",
               charset: str | None = "ISO_IR 100") -> Dataset:
    ds = Dataset()
    if charset:
        ds.SpecificCharacterSet = charset
    ds.SOPClassUID, ds.SOPInstanceUID = CT, "1.2.3.4"
    if accession is not None:
        ds.AccessionNumber = accession
    ds.Modality = "CT"
    ds.PatientName, ds.PatientID = name, patient_id
    if study:
        ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = "1.2.3.10"
    ds.Rows = ds.Columns = 64
    ds.BitsAllocated = 16
    ds.PixelData = bytes(64 * 64 * 2)
    return ds
