"""Human names for what a person reads (issue 14): column titles, UIDs, the association report."""

from __future__ import annotations

from pacs_console.core.dicom.names import as_text, association_rows, column_title, uid_name
from pacs_console.core.dicom.ops.echo import echo_target
from pacs_console.core.dicom.servers.demo import DemoPacs
from pacs_console.core.dicom.wire.target import Target
from tests.core.dicom_ops.helpers import QUICK


def test_column_titles_are_words_not_keywords():
    assert column_title("PatientName") == "Patient name"
    assert column_title("NumberOfStudyRelatedInstances") == "Images"
    assert column_title("StationName") == "Station name"  # from the DICOM dictionary
    assert column_title("NotAKeyword") == "NotAKeyword"


def test_uids_by_name_including_classes_newer_than_pydicom():
    assert uid_name("1.2.840.10008.1.2.1") == "Explicit VR Little Endian"
    assert uid_name("1.2.840.10008.5.1.4.1.1.2") == "CT Image Storage"
    assert uid_name("1.2.840.10008.5.1.4.1.1.66.7") == "Label Map Segmentation Storage"
    assert uid_name("1.2.826.0.1.3680043.8.498.1") == "1.2.826.0.1.3680043.8.498.1"  # private
    assert uid_name("CT Image Storage") == "CT Image Storage"  # already a name


def test_association_report_of_a_real_association_reads_as_rows():
    with DemoPacs(port=0) as demo:
        result = echo_target(Target(host=demo.host, port=demo.port, called_ae=demo.ae_title,
                             calling_ae="NAMESTEST", timeouts=QUICK))
    assert result.ok, result.diagnosis
    report = result.association
    rows = association_rows(report)
    items = {(section, item): value for section, item, value in rows}
    assert items[("Peer", "AE title")] == demo.ae_title
    assert items[("This console", "AE title")] == "NAMESTEST"
    assert items[("Accepted", "Verification SOP Class")].startswith(("Implicit VR", "Explicit VR"))
    text = "\n".join(" ".join(row) for row in rows)
    assert "{" not in text and '"' not in text
    readable = as_text({"round_trip_ms": {"median": 4.2}, "syntax": "1.2.840.10008.1.2"})
    assert readable.splitlines() == ["Round trip ms:", "  Median: 4.2",
                                     "Syntax: Implicit VR Little Endian (1.2.840.10008.1.2)"]
