"""Software age verdicts: the upstream release date from the table, 'old' only past three
years, a distribution's patched build named, severity low (an age is a follow-up, not a hole)."""

from __future__ import annotations

import datetime as dt
import subprocess

from pacs_console.core.assess import software
from pacs_console.core.assess.catalog import CHECKS

TODAY = dt.date(2026, 12, 5)


def test_an_old_release_is_low_and_dated():
    check, evidence = software.age_finding("Orthanc", "1.10.1", TODAY)
    assert check == "software-old" and CHECKS[check].severity == "low"
    assert "released 2022-03-23 (4.7 years ago)" in evidence
    assert "Debian 12" in evidence and "revision" in evidence  # a patched package is possible


def test_a_recent_release_is_identified_not_old():
    check, evidence = software.age_finding("Orthanc", "1.12.10", TODAY)
    assert check == "software-identified" and "released 2025-11-26" in evidence
    check, evidence = software.age_finding("DCMTK", "3.7.0", TODAY)
    assert check == "software-identified" and "2025-12-15" in evidence
    assert CHECKS["software-identified"].severity == "info"


def test_age_is_counted_from_the_release_not_from_the_table():
    # 3.6.9 is under three years old until December 2027, and old after.
    assert software.age_finding("DCMTK", "3.6.9", dt.date(2027, 11, 30))[0] == \
        "software-identified"
    assert software.age_finding("DCMTK", "3.6.9", dt.date(2027, 12, 5))[0] == "software-old"


def test_unknown_versions_are_identified_without_an_age():
    check, evidence = software.age_finding("Orthanc", "9.9.9", TODAY)
    assert check == "software-identified" and "not in the table" in evidence
    assert software.age_finding("unknown", "", TODAY) is None


def test_the_installed_peers_are_judged_from_their_real_versions():
    """The Debian packages installed here: their upstream versions are in the table, and the
    evidence names the distribution build that backports fixes."""
    for package, product in (("orthanc", "Orthanc"), ("dcmtk", "DCMTK")):
        version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                                 capture_output=True, text=True, check=True).stdout
        upstream = version.split("+")[0].split("-")[0]
        assert (product, upstream) in software.RELEASES
        assert (product, upstream) in software.DISTRIBUTION_BUILDS
        _, evidence = software.age_finding(product, upstream, TODAY)
        assert "Debian 12" in evidence
