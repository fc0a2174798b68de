"""Software age: the product and version the fingerprint (``dicom.diagnosis.fingerprint``) or
Orthanc's /system names, against the release dates known here, for the vendor follow-up."""

from __future__ import annotations

import datetime as dt

from pacs_console.core.dicom.diagnosis.fingerprint import fingerprint

OLD_AFTER_DAYS = 3 * 365  # a release older than three years has missed years of fixes
# (product, version) -> (release date, note). Dates from the projects' release notes; a
# version missing here is reported as identified, without an age.
RELEASES: dict[tuple[str, str], tuple[str, str]] = {
    ("DCMTK", "3.6.2"): ("2017-07-14", ""),
    ("DCMTK", "3.6.3"): ("2018-02-05", ""),
    ("DCMTK", "3.6.4"): ("2018-11-29", ""),
    ("DCMTK", "3.6.5"): ("2019-10-28", ""),
    ("DCMTK", "3.6.6"): ("2021-01-14", ""),
    ("DCMTK", "3.6.7"): ("2022-04-22", "DCMTK 3.6.8 fixed several CVEs (e.g. CVE-2022-43272, "
                                       "CVE-2024-28130)"),
    ("DCMTK", "3.6.8"): ("2023-12-19", ""),
    ("Orthanc", "1.10.0"): ("2022-02-23", "before 1.12.0: CVE-2023-33466 (remote code "
                                          "execution through the REST API)"),
    ("Orthanc", "1.10.1"): ("2022-03-23", "before 1.12.0: CVE-2023-33466 (remote code "
                                          "execution through the REST API)"),
    ("Orthanc", "1.11.0"): ("2022-05-11", "before 1.12.0: CVE-2023-33466"),
    ("Orthanc", "1.12.0"): ("2023-04-14", ""),
}


def _product(name: str) -> str:
    return "Orthanc" if name.startswith("Orthanc") else name


def age_finding(product: str, version: str, today: dt.date | None = None
                ) -> tuple[str, str] | None:
    """``(check, evidence)``: software-old for a dated release over three years old,
    software-identified otherwise; None when nothing is identified."""
    product = _product(product)
    if not product or product == "unknown":
        return None
    today = today or dt.date.today()
    known = RELEASES.get((product, version))
    if known is None:
        return ("software-identified", f"{product} {version or '(version unknown)'}; release "
                                       "date not in the table")
    released = dt.date.fromisoformat(known[0])
    years = (today - released).days / 365.25
    text = f"{product} {version}, released {known[0]} ({years:.1f} years ago)"
    text += f"; {known[1]}" if known[1] else ""
    if (today - released).days > OLD_AFTER_DAYS:
        return ("software-old", text)
    return ("software-identified", text)


def from_association(class_uid: str, version_name: str, port: int) -> tuple[str, str]:
    fp = fingerprint(class_uid, version_name, port=port)
    return fp["product"], fp["version"]
