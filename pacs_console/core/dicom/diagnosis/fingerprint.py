"""Guess a peer's vendor and product from its implementation class UID and version name."""

from __future__ import annotations

import re

# (UID prefix, vendor, product, confidence). Longest prefix wins. Toolkits appear inside many
# products (Orthanc, Horos and most modalities' DICOM stacks are built on DCMTK or dcm4che), so
# a toolkit match names the toolkit and leaves the product open.
_UID_PREFIXES: list[tuple[str, str, str, str]] = [
    ("1.2.276.0.7230010.3.", "OFFIS", "DCMTK", "high"),
    ("1.2.826.0.1.3680043.9.3811.", "pydicom project", "pynetdicom", "high"),
    ("1.2.826.0.1.3680043.8.498.", "pydicom project", "pydicom", "high"),
    ("1.2.40.0.13.1.1", "dcm4che.org", "dcm4che 2 (dcm4chee 2.x)", "high"),
    ("1.2.40.0.13.1.3", "dcm4che.org", "dcm4che 3 (dcm4chee-arc 5, Weasis)", "high"),
    ("1.2.40.0.13.", "dcm4che.org", "dcm4che", "medium"),
    ("1.3.6.1.4.1.30071.8", "fo-dicom project", "fo-dicom", "high"),
    ("1.3.6.1.4.1.25403.", "ClearCanvas", "ClearCanvas", "high"),
    ("1.2.826.0.1.3680043.2.135.1066.", "NKI", "Conquest DICOM server", "high"),
    ("1.2.826.0.1.3680043.2.1143.107.104.103.115.", "GDCM project", "GDCM", "high"),
    ("2.16.756.5.5.100.", "Pixmeo", "OsiriX", "medium"),
    ("2.16.840.1.113669.", "Merge Healthcare", "MergeCOM-3 based product", "medium"),
    ("1.2.840.113619.", "GE Healthcare", "GE device or PACS", "medium"),
    ("1.3.12.2.1107.5.", "Siemens Healthineers", "Siemens device or syngo", "medium"),
    ("1.3.46.670589.", "Philips", "Philips device or IntelliSpace", "medium"),
    ("1.2.124.113532.", "Agfa HealthCare", "Agfa IMPAX / Enterprise Imaging", "medium"),
    ("1.2.840.113564.", "Carestream (Kodak)", "Carestream PACS or CR/DR", "low"),
    ("1.2.392.200036.9125.", "Fujifilm", "Fujifilm Synapse or FCR", "medium"),
    ("1.2.392.200036.9116.", "Canon Medical (Toshiba)", "Canon/Toshiba modality", "medium"),
    ("1.2.392.200036.", "Japanese vendor (JIRA root)", "Fujifilm, Canon/Toshiba, Hitachi or Shimadzu", "low"),
    ("1.2.840.113681.", "Hologic", "Hologic mammography", "medium"),
    ("1.2.752.24.", "Sectra", "Sectra PACS", "medium"),
    ("1.2.246.352.", "Varian", "Varian ARIA / Eclipse", "medium"),
    ("1.2.840.113704.", "Philips (Marconi/Picker)", "Philips CT", "low"),
    ("1.2.826.0.1.3680043.2.1545.", "MicroDicom", "MicroDicom", "low"),
]
# (version-name pattern, vendor, product, confidence); checked before the UID table.
_VERSION_PATTERNS: list[tuple[str, str, str, str]] = [
    (r"^ORTHANC", "Orthanc project", "Orthanc", "high"),
    (r"^OFFIS_DCMTK_(\d)(\d)(\d+)", "OFFIS", "DCMTK", "high"),
    (r"^PYNETDICOM_", "pydicom project", "pynetdicom", "high"),
    (r"^PACSCONSOLE", "PACS Console", "PACS Console", "high"),
    (r"^dcm4che-", "dcm4che.org", "dcm4che", "high"),
    (r"^WEASIS", "Weasis project", "Weasis", "high"),
    (r"^fo-dicom", "fo-dicom project", "fo-dicom", "high"),
    (r"^(OSIRIX|OsiriX)", "Pixmeo", "OsiriX", "high"),
    (r"^(HOROS|Horos)", "Horos project", "Horos", "high"),
    (r"^RadiAnt", "Medixant", "RadiAnt DICOM Viewer", "high"),
    (r"^MergeCOM3_", "Merge Healthcare", "MergeCOM-3 based product", "high"),
    (r"^\d\.\d+\.\d+[a-z]?/(WIN|LINUX|OTHER|MAC)", "NKI", "Conquest DICOM server", "high"),
    (r"^GDCM", "GDCM project", "GDCM", "high"),
    (r"^(GEHC|GE_|GEMS)", "GE Healthcare", "GE device or PACS", "medium"),
    (r"^(SIEMENS|SYNGO|syngo)", "Siemens Healthineers", "Siemens device or syngo", "medium"),
    (r"^(PHILIPS|PMS|ISPACS)", "Philips", "Philips device or IntelliSpace", "medium"),
    (r"^(AGFA|IMPAX)", "Agfa HealthCare", "Agfa IMPAX / Enterprise Imaging", "medium"),
    (r"^(CARESTREAM|KODAK|CSH)", "Carestream (Kodak)", "Carestream PACS or CR/DR", "medium"),
    (r"^(FUJI|SYNAPSE)", "Fujifilm", "Fujifilm Synapse or FCR", "medium"),
    (r"^(TOSHIBA|CANON|TMSC)", "Canon Medical (Toshiba)", "Canon/Toshiba modality", "medium"),
    (r"^(HOLOGIC|HOLX)", "Hologic", "Hologic mammography", "medium"),
    (r"^SECTRA", "Sectra", "Sectra PACS", "medium"),
    (r"^(MINDRAY|MR_)", "Mindray", "Mindray ultrasound", "low"),
    (r"^(CLEARCANVAS|ClearCanvas)", "ClearCanvas", "ClearCanvas", "high"),
    (r"^(CONQUEST|Conquest)", "NKI", "Conquest DICOM server", "high"),
]
_ORDER = {"none": 0, "low": 1, "medium": 2, "high": 3}


def _uid_match(uid: str) -> tuple[str, str, str, str] | None:
    best = None
    for prefix, vendor, product, confidence in _UID_PREFIXES:
        if uid.startswith(prefix) or uid == prefix.rstrip("."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, vendor, product, confidence)
    return best


def _version_from(uid: str, version_name: str, product: str) -> str:
    if product == "DCMTK":
        m = re.match(r"OFFIS_DCMTK_(\d)(\d)(\d+)", version_name)
        if m:
            return ".".join(m.groups())
        tail = uid.removeprefix("1.2.276.0.7230010.3.0.")
        return tail if tail != uid else ""
    if product == "pynetdicom":
        m = re.match(r"PYNETDICOM_(\d)(\d)(\d+)", version_name)
        return ".".join(m.groups()) if m else ""
    m = re.search(r"(\d+(?:\.\d+)+)", version_name)
    return m.group(1) if m else ""


def fingerprint(class_uid: str | None, version_name: str | None, *,
                called_ae: str = "", port: int | None = None) -> dict:
    """``{vendor, product, version, confidence, basis}``; confidence none/low/medium/high.

    ``called_ae`` and ``port`` are weak hints: Orthanc answers with DCMTK's identity, so a
    DCMTK fingerprint on port 4242 or behind an AE named ORTHANC is reported as likely Orthanc.
    """
    uid = (class_uid or "").strip()
    version_name = (version_name or "").strip()
    vmatch = next(((v, p, c) for pattern, v, p, c in _VERSION_PATTERNS
                   if re.match(pattern, version_name)), None) if version_name else None
    umatch = _uid_match(uid) if uid else None
    if vmatch is None and umatch is None:
        return {"vendor": "unknown", "product": "unknown", "version": "", "confidence": "none",
                "basis": "implementation class UID and version name not in the table"}
    if vmatch and umatch and vmatch[1] != umatch[2]:
        # A product built on a toolkit: the version name names the product.
        vendor, product, confidence = vmatch
        basis = f"version name {version_name!r} on a {umatch[2]} implementation UID"
    elif vmatch:
        vendor, product, confidence = vmatch
        if umatch:
            confidence = "high"
        basis = f"version name {version_name!r}" + (" and implementation UID" if umatch else "")
    else:
        _, vendor, product, confidence = umatch
        basis = f"implementation class UID {uid}"
    result = {"vendor": vendor, "product": product,
              "version": _version_from(uid, version_name, product), "confidence": confidence,
              "basis": basis}
    if product == "DCMTK" and (port == 4242 or "ORTHANC" in called_ae.upper()):
        result.update(vendor="Orthanc project", product="Orthanc (built on DCMTK)",
                      version="", confidence="low",
                      basis=basis + "; Orthanc reports DCMTK's identity and this looks like "
                      "an Orthanc (port 4242 or AE title)")
    elif product == "DCMTK":
        result["note"] = ("DCMTK tools (dcmqrscp, storescp) and products built on DCMTK "
                          "(Orthanc, Horos, many modalities) all report this identity")
    return result
