"""Software age: the product and version the fingerprint (``dicom.diagnosis.fingerprint``) or
Orthanc's /system names, against the release dates known here, for the vendor follow-up."""

from __future__ import annotations

import datetime as dt

from pacs_console.core.dicom.diagnosis.fingerprint import fingerprint

OLD_AFTER_DAYS = 3 * 365  # a release older than three years has missed years of fixes
# (product, version) -> (upstream release date, note). Sources: Orthanc's NEWS file (release
# headings "Version X (date)"), DCMTK's ANNOUNCE files and CHANGES.NNN headings. A version
# missing here is reported as identified, without an age.
_CVE_33466 = "upstream fixed CVE-2023-33466 (file writes through the REST API) in 1.12.0"
RELEASES: dict[tuple[str, str], tuple[str, str]] = {
    ("DCMTK", "3.6.2"): ("2017-07-14", ""),
    ("DCMTK", "3.6.3"): ("2018-02-05", ""),
    ("DCMTK", "3.6.4"): ("2018-11-29", ""),
    ("DCMTK", "3.6.5"): ("2019-10-28", ""),
    ("DCMTK", "3.6.6"): ("2021-01-14", ""),
    ("DCMTK", "3.6.7"): ("2022-04-22", "later releases fixed several CVEs (e.g. CVE-2022-43272, "
                                       "CVE-2024-28130)"),
    ("DCMTK", "3.6.8"): ("2023-12-19", ""),
    ("DCMTK", "3.6.9"): ("2024-12-02", ""),
    ("DCMTK", "3.7.0"): ("2025-12-15", ""),
    ("Orthanc", "1.9.7"): ("2021-08-31", "1.10.0 fixed an XSS in Orthanc Explorer; "
                                         + _CVE_33466),
    ("Orthanc", "1.10.0"): ("2022-02-23", _CVE_33466),
    ("Orthanc", "1.10.1"): ("2022-03-23", _CVE_33466),
    ("Orthanc", "1.11.0"): ("2022-05-09", _CVE_33466),
    ("Orthanc", "1.11.1"): ("2022-06-30", _CVE_33466),
    ("Orthanc", "1.11.2"): ("2022-08-30", _CVE_33466),
    ("Orthanc", "1.11.3"): ("2023-02-03", _CVE_33466),
    ("Orthanc", "1.12.0"): ("2023-04-14", "1.12.2 fixed an XSS in error reporting"),
    ("Orthanc", "1.12.1"): ("2023-07-04", "1.12.2 fixed an XSS in error reporting"),
    ("Orthanc", "1.12.2"): ("2023-12-19", ""),
    ("Orthanc", "1.12.3"): ("2024-01-31", ""),
    ("Orthanc", "1.12.4"): ("2024-06-05", ""),
    ("Orthanc", "1.12.5"): ("2024-12-17", ""),
    ("Orthanc", "1.12.6"): ("2025-01-22", ""),
    ("Orthanc", "1.12.7"): ("2025-04-07", ""),
    ("Orthanc", "1.12.8"): ("2025-06-13", ""),
    ("Orthanc", "1.12.9"): ("2025-08-11", ""),
    ("Orthanc", "1.12.10"): ("2025-11-26", ""),
}
# Versions that a distribution still ships with security fixes backported: the upstream
# release is old, but the installed package may not carry the old release's flaws. From the
# packages' Debian changelogs.
DISTRIBUTION_BUILDS: dict[tuple[str, str], str] = {
    ("Orthanc", "1.10.1"): "Debian 12 (bookworm) ships 1.10.1 and backported the CVE-2023-33466 "
                           "fix in 1.10.1+dfsg-2+deb12u1",
    ("DCMTK", "3.6.7"): "Debian 12 (bookworm) ships 3.6.7 with security fixes backported "
                        "(3.6.7-9~deb12u3: CVE-2024-28130, CVE-2025-25472/25474/25475)",
}


def _product(name: str) -> str:
    return "Orthanc" if name.startswith("Orthanc") else name


def age_finding(product: str, version: str, today: dt.date | None = None
                ) -> tuple[str, str] | None:
    """``(check, evidence)``: software-old for a dated release over three years old,
    software-identified otherwise; None when nothing is identified. The evidence names the
    release date, and whether a distribution still ships the version with fixes backported
    (the package revision, not the upstream version, then says whether it is patched)."""
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
    distribution = DISTRIBUTION_BUILDS.get((product, version))
    if distribution:
        text += (f"; {distribution}: if this node runs that package, check its revision "
                 "rather than the upstream version")
    if (today - released).days > OLD_AFTER_DAYS:
        return ("software-old", text)
    return ("software-identified", text)


def from_association(class_uid: str, version_name: str, port: int) -> tuple[str, str]:
    fp = fingerprint(class_uid, version_name, port=port)
    return fp["product"], fp["version"]
