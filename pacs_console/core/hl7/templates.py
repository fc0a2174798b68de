"""Common HL7 messages filled from a worklist entry or a test patient, loose repair, PHI masking."""

from __future__ import annotations

import datetime as dt
import secrets

from pacs_console.core import phi

TEMPLATES = {
    "orm": "ORM^O01 order (HL7 2.3.1): new imaging order, as a RIS sends it to a PACS/broker",
    "omi": "OMI^O23 imaging order (HL7 2.5.1): the IHE SWF order with its scheduled step",
    "adt-a04": "ADT^A04 register a patient (HL7 2.5)",
    "adt-a08": "ADT^A08 update patient information (HL7 2.5)",
    "oru": "ORU^R01 report (HL7 2.5): a radiology report text for the order",
}
# Fields that identify a patient, by segment (core/phi.py): masked for display when asked.
PHI_FIELDS = phi.HL7_FIELDS


def _escape(value: str) -> str:
    """HL7 escapes for separators inside a value; '^' stays a component separator (XPN)."""
    return (str(value).replace("\\", "\\E\\").replace("|", "\\F\\").replace("&", "\\T\\")
            .replace("~", "\\R\\").replace("\r", " ").replace("\n", " "))


def fields_from_worklist(item) -> dict:
    """Template values from a pydicom worklist Dataset (or a flat dict from a C-FIND)."""
    def get(ds, key):
        value = ds.get(key, "") if isinstance(ds, dict) else getattr(ds, key, "")
        return str(value or "")

    step = None
    if not isinstance(item, dict) and getattr(item, "ScheduledProcedureStepSequence", None):
        step = item.ScheduledProcedureStepSequence[0]

    def sps(key):
        if step is not None:
            return get(step, key)
        # query.flatten puts the first step's keys at the top level
        return get(item, key) if isinstance(item, dict) else ""

    start = sps("ScheduledProcedureStepStartDate") + sps("ScheduledProcedureStepStartTime")[:6]
    return {"patient_name": get(item, "PatientName"), "patient_id": get(item, "PatientID"),
            "birth_date": get(item, "PatientBirthDate"), "sex": get(item, "PatientSex"),
            "accession": get(item, "AccessionNumber"),
            "requested_procedure_id": get(item, "RequestedProcedureID"),
            "procedure": get(item, "RequestedProcedureDescription")
            or sps("ScheduledProcedureStepDescription"),
            "study_uid": get(item, "StudyInstanceUID"),
            "referring": get(item, "ReferringPhysicianName"),
            "modality": sps("Modality"), "station_ae": sps("ScheduledStationAETitle"),
            "sps_id": sps("ScheduledProcedureStepID"), "start": start}


def test_patient_fields(seed: int | None = None) -> dict:
    """A synthetic Ghanaian test patient with a plausible order (never a real person)."""
    from pacs_console.core.dicom.synth.studies import worklist_items

    item = worklist_items(1, seed=seed if seed is not None else secrets.randbits(16))[0]
    return fields_from_worklist(item)


def render(name: str, fields: dict, *, control_id: str | None = None,
           sending_app: str = "PACSCONSOLE", sending_facility: str = "",
           receiving_app: str = "", receiving_facility: str = "", processing_id: str = "P",
           now: dt.datetime | None = None) -> str:
    """One message from ``TEMPLATES``, segments separated by CR."""
    if name not in TEMPLATES:
        raise ValueError(f"unknown template {name!r}; choose one of {', '.join(TEMPLATES)}")
    now = now or dt.datetime.now()
    stamp = now.strftime("%Y%m%d%H%M%S")
    control_id = control_id or f"PC{now:%y%m%d%H%M%S}{secrets.randbelow(1000):03d}"
    f = {k: _escape(v) for k, v in fields.items()}
    f.setdefault("start", stamp)
    if not f.get("start"):
        f["start"] = stamp
    mtype, version = {"orm": ("ORM^O01^ORM_O01", "2.3.1"), "omi": ("OMI^O23^OMI_O23", "2.5.1"),
                      "adt-a04": ("ADT^A04^ADT_A01", "2.5"), "adt-a08": ("ADT^A08^ADT_A01", "2.5"),
                      "oru": ("ORU^R01^ORU_R01", "2.5")}[name]
    msh = (f"MSH|^~\\&|{sending_app}|{sending_facility}|{receiving_app}|{receiving_facility}|"
           f"{stamp}||{mtype}|{control_id}|{processing_id}|{version}|||AL|NE||UNICODE UTF-8")
    pid = (f"PID|1||{f.get('patient_id', '')}^^^HOSP^MR||{f.get('patient_name', '')}||"
           f"{f.get('birth_date', '')}|{f.get('sex', '')}")
    pv1 = f"PV1|1|O|||||{f.get('referring', '')}"
    code = f.get("requested_procedure_id", "") or "PROC"
    proc = f"{code}^{f.get('procedure', '')}^L"
    segments = [msh, pid, pv1]
    if name in ("adt-a04", "adt-a08"):
        segments.insert(1, f"EVN|{mtype.split('^')[1]}|{stamp}")
    elif name == "orm":
        segments += [f"ORC|NW|{f.get('accession', '')}|||SC||^^^{f['start']}",
                     f"OBR|1|{f.get('accession', '')}||{proc}|||{f['start']}||||||||"
                     f"|{f.get('referring', '')}||{f.get('accession', '')}|"
                     f"{f.get('requested_procedure_id', '')}|{f.get('sps_id', '')}||||"
                     f"{f.get('modality', '')}|||^^^{f['start']}"]
    elif name == "omi":
        segments += [f"ORC|NW|{f.get('accession', '')}|||SC||^^^{f['start']}",
                     f"TQ1|1||||||{f['start']}",
                     f"OBR|1|{f.get('accession', '')}||{proc}|||{f['start']}||||||||"
                     f"|{f.get('referring', '')}||{f.get('accession', '')}|"
                     f"{f.get('requested_procedure_id', '')}|{f.get('sps_id', '')}||||"
                     f"{f.get('modality', '')}",
                     f"IPC|{f.get('accession', '')}|{f.get('requested_procedure_id', '')}|"
                     f"{f.get('study_uid', '')}|{f.get('sps_id', '')}|{f.get('modality', '')}||"
                     f"{f.get('station_ae', '')}"]
    elif name == "oru":
        segments += [f"OBR|1|{f.get('accession', '')}|{f.get('accession', '')}|{proc}|||"
                     f"{f['start']}||||||||||||||{stamp}|||F",
                     "OBX|1|TX|REPORT^Report text^L||Test report from PACS Console: no "
                     "abnormality detected.||||||F"]
    return "\r".join(segments) + "\r"


def loose_repair(text: str) -> tuple[str, list[str]]:
    """Repair a pasted message: line endings, stray MLLP bytes, blank lines, spaces; list fixes."""
    fixes: list[str] = []
    if text.startswith("\ufeff"):
        text = text[1:]
        fixes.append("removed a byte-order mark")
    stripped = text.replace("\x0b", "").replace("\x1c", "")
    if stripped != text:
        fixes.append("removed MLLP framing bytes pasted with the message")
        text = stripped
    if "\r\n" in text:
        fixes.append("CRLF line endings turned into CR")
    elif "\n" in text:
        fixes.append("LF line endings turned into CR")
    lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    kept = []
    for line in lines:
        clean = line.strip()
        if not clean:
            continue
        if clean != line:
            fixes.append(f"trimmed spaces around segment {clean[:3]}")
        kept.append(clean)
    if len(kept) != len([x for x in lines if x]):
        fixes.append("dropped blank lines")
    # A message pasted from an e-mail sometimes loses its first character or gains one.
    if kept and not kept[0].startswith("MSH") and "MSH|" in kept[0]:
        kept[0] = kept[0][kept[0].index("MSH|"):]
        fixes.append("dropped text before MSH")
    seen = list(dict.fromkeys(fixes))
    return "\r".join(kept) + "\r", seen


def mask_phi(text: str) -> str:
    """The message with patient-identifying fields replaced by '***' (display only)."""
    return phi.mask_hl7(text)
