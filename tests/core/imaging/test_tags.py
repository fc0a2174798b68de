"""Tag browser data: nested sequences flattened, search over names, keywords, values and tags."""

from __future__ import annotations

from pydicom.dataset import Dataset

from pacs_console.core.imaging.tags import flatten, read_tags, search
from tests.core.imaging.conftest import bundled


def _nested() -> Dataset:
    ds = Dataset()
    ds.PatientID = "KB123456"
    ds.Modality = "CT"
    item = Dataset()
    item.ReferencedSOPInstanceUID = "1.2.3.999"
    inner = Dataset()
    inner.CodeMeaning = "Chest radiograph"
    item.PurposeOfReferenceCodeSequence = [inner]
    ds.ReferencedImageSequence = [item]
    return ds


def test_flatten_keeps_nesting_and_paths():
    rows = flatten(_nested())
    meaning = next(r for r in rows if r.keyword == "CodeMeaning")
    assert meaning.depth == 4
    assert meaning.path == ("ReferencedImageSequence[0] > PurposeOfReferenceCodeSequence[0] > "
                            "CodeMeaning")
    assert any(r.name == "Item 1" for r in rows)


def test_search_names_keywords_values_and_tags_with_context():
    rows = flatten(_nested())
    hits = search(rows, "radiograph")
    assert [r.keyword for r in hits if r.keyword] == ["ReferencedImageSequence",
                                                       "PurposeOfReferenceCodeSequence",
                                                       "CodeMeaning"]
    assert [r.keyword for r in search(rows, "patient id")] == ["PatientID"]
    assert [r.keyword for r in search(rows, "(0008,0060)")] == ["Modality"]
    assert [r.keyword for r in search(rows, "00080060")] == ["Modality"]
    assert len(search(rows, "")) == len(rows)
    assert search(rows, "no such thing") == []


def test_read_tags_includes_meta_and_summarises_binary():
    rows = read_tags(bundled("CT_small.dcm"))
    assert rows[0].tag.startswith("(0002,")
    assert any(r.keyword == "TransferSyntaxUID" for r in rows)
    assert "PatientName" in {r.keyword for r in rows}
    assert rows[0].text().startswith("(0002,")
