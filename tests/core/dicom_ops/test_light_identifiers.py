"""The lean path's query without pydicom: the identifier it encodes equals pydicom's, and the
keyword and UID-name subsets it uses agree with pydicom's dictionaries."""

from __future__ import annotations

from io import BytesIO

import pytest
from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.uid import UID
from pynetdicom.dsutils import decode, encode

from pacs_console.core.dicom.identifiers import build_identifier, identifier_tree, to_dataset
from pacs_console.core.dicom.keywords import KNOWN, keyword_and_vr, tag_and_vr
from pacs_console.core.dicom.wire.lean_query import encode_identifier
from pacs_console.core.dicom.wire.params import _COMMON_UID_NAMES
from pacs_console.core.errors import ConsoleError

QUERIES = [
    ("STUDY", {"name": "Mensah^Ɛfua*", "date": "20260101-"}, "study", {}),
    ("SERIES", {"modality": "CT"}, "study", {"StudyInstanceUID": "1.2.3", "0008,0050": ""}),
    ("IMAGE", {}, "patient", {"00091010": "private text", "PatientID": "KB1"}),
    ("WORKLIST", {"station_ae": "CT_1", "date": "20260102"}, "worklist", {"name": "Ɔkyeame*"}),
    ("PATIENT", {"birth_date": "19800101"}, "patient", {"OtherPatientIDsSequence": ""}),
]


@pytest.mark.parametrize("implicit", [True, False])
@pytest.mark.parametrize(("level", "keys", "model", "extra"), QUERIES)
def test_the_lean_identifier_is_the_bytes_pydicom_reads_as_the_pydicom_identifier(
        implicit, level, keys, model, extra):
    tree = identifier_tree(level, keys, model, extra)
    raw = encode_identifier(tree, implicit)
    assert raw is not None
    theirs = build_identifier(level, keys, model, extra)
    assert decode(BytesIO(raw), implicit, True) == decode(
        BytesIO(encode(theirs, implicit, True)), implicit, True)


def test_what_the_lean_encoder_does_not_do_is_left_to_pydicom():
    tree = identifier_tree("STUDY", {}, "study", {"Rows": "512"})  # a number in a US element
    assert encode_identifier(tree, False) is None
    with pytest.warns(UserWarning, match="VR US"):  # pydicom's own doubt, as before
        assert to_dataset(tree).Rows == "512"
    iso_2022 = identifier_tree("STUDY", {}, "study", {"SpecificCharacterSet": "ISO 2022 IR 87"})
    assert encode_identifier(iso_2022, True) is None


def test_a_bad_key_is_one_diagnosis_on_either_path():
    with pytest.raises(ConsoleError) as caught:
        identifier_tree("STUDY", {}, "study", {"PatientNmae": "X"})
    assert caught.value.diagnosis.code == "bad-query-key"


def test_the_keyword_subset_is_pydicoms_dictionary():
    for keyword, (tag, vr) in KNOWN.items():
        assert tag_for_keyword(keyword) == tag and dictionary_VR(tag) == vr, keyword
        assert keyword_and_vr(tag) == (keyword, vr)
    # Beyond the subset, pydicom's dictionary answers; unknown tags are named by their digits.
    assert tag_and_vr("PixelSpacing") == (0x00280030, "DS")
    assert keyword_and_vr(0x00280030) == ("PixelSpacing", "DS")
    assert keyword_and_vr(0x00091010) == ("00091010", None)
    assert tag_and_vr("NotAKeyword") is None and keyword_for_tag(0x00091010) == ""


def test_the_uid_names_known_without_pydicom_are_pydicoms():
    for uid, name in _COMMON_UID_NAMES.items():
        assert UID(uid).name == name, uid
