"""C-FIND matching rules (PS3.4 C.2.2.2), levels, computed attributes and response identifiers."""

from __future__ import annotations

import pytest
from pydicom import Dataset, config
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.sequence import Sequence

from pacs_console.core.dicom.servers import matching
from pacs_console.core.dicom.synth.studies import PatientInfo, generate_study, worklist_items


def elem(keyword: str, value) -> DataElement:
    # Validation off: some keys here are deliberately odd (ACR-NEMA dates, "*" in a UID).
    if keyword.endswith("Sequence"):
        value = Sequence(value)
    return DataElement(tag_for_keyword(keyword), dictionary_VR(keyword), value,
                       validation_mode=config.IGNORE)


def q(level: str | None = None, **keys) -> Dataset:
    ds = Dataset()
    if level:
        ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


@pytest.mark.parametrize(("query", "value", "expected"), [
    ("Mensah^Ɛfua", "Mensah^Ɛfua", True),
    ("mensah^ɛfua", "MENSAH^ƐFUA", True),  # PN matches case-insensitively, ɛ/Ɛ included
    ("Mensah*", "Mensah^Ɛfua", True),
    ("*ɛfua", "Mensah^Ɛfua", True),
    ("Mens?h^*", "Mensah^Ɛfua", True),
    ("Mensah", "Mensah^Ɛfua", False),  # single value matching is whole-value
    ("Owusu*", "Mensah^Ɛfua", False),
    ("Mensah^Ɛfua", "Mensah^Ɛfua^^^", True),  # trailing empty components are padding
])
def test_person_name_matching(query, value, expected):
    assert matching.match_element(elem("PatientName", query), elem("PatientName", value)) is expected


@pytest.mark.parametrize(("keyword", "query", "value", "expected"), [
    ("PatientID", "KB123", "KB123", True),
    ("PatientID", "kb123", "KB123", False),  # LO is case-sensitive
    ("PatientID", "KB*", "KB123", True),
    ("PatientID", "KB?23", "KB123", True),
    ("PatientID", "KB.23", "KB123", False),  # regex characters are literal
    ("Modality", "CT", "CT", True),
    ("Modality", "MR", "CT", False),
    ("StudyDescription", "*Chest*", "CT Chest with contrast", True),
    ("SeriesNumber", "2", "2", True),
    ("SeriesNumber", "2", "3", False),
])
def test_single_value_and_wildcards(keyword, query, value, expected):
    assert matching.match_element(elem(keyword, query), elem(keyword, value)) is expected


DATE_RANGES = [
    ("20240315", "20240315", True),
    ("20240315", "20240316", False),
    ("20240101-20241231", "20240615", True),
    ("20240101-20241231", "20250101", False),
    ("20240101-", "20300101", True),
    ("20240101-", "20231231", False),
    ("-20241231", "19990101", True),
    ("-20241231", "20250101", False),
    ("20240315-20240315", "20240315", True),
    ("2024.03.15", "20240315", True),
]
TIME_RANGES = [
    ("080000-120000", "093000", True),
    ("080000-120000", "130000", False),
    ("0800-1200", "120059.5", True),  # a partial bound covers its whole minute
    ("-0800", "075959", True),
    ("1400-", "093000", False),
    ("10", "103000", True),
    ("10:30:00", "103000", True),
]


@pytest.mark.parametrize(("keyword", "query", "value", "expected"),
                         [("StudyDate", *case) for case in DATE_RANGES]
                         + [("StudyTime", *case) for case in TIME_RANGES])
def test_date_and_time_ranges(keyword, query, value, expected):
    assert matching.match_element(elem(keyword, query), elem(keyword, value)) is expected


def test_datetime_ranges_and_offsets():
    dtq = elem("AcquisitionDateTime", "20240101-20240102")
    assert matching.match_element(dtq, elem("AcquisitionDateTime", "20240102235959"))
    assert not matching.match_element(dtq, elem("AcquisitionDateTime", "20240103000000"))
    offset = elem("AcquisitionDateTime", "20240101120000-0500")
    assert matching.match_element(offset, elem("AcquisitionDateTime", "20240101120000"))


def test_uid_list_matching():
    query = elem("StudyInstanceUID", ["1.2.3", "1.2.4", "1.2.5"])
    assert matching.match_element(query, elem("StudyInstanceUID", "1.2.4"))
    assert not matching.match_element(query, elem("StudyInstanceUID", "1.2.6"))
    # "*" is no wildcard for UI
    assert not matching.match_element(elem("StudyInstanceUID", "1.2.*"),
                                      elem("StudyInstanceUID", "1.2.4"))


def test_universal_matching_includes_missing_values():
    for query in (elem("PatientName", ""), elem("PatientName", "*"), elem("StudyDate", ""),
                  elem("ScheduledProcedureStepSequence", [])):
        assert matching.is_universal(query)
        assert matching.match_element(query, None)
    assert not matching.match_element(elem("PatientName", "A*"), None)
    assert not matching.is_universal(elem("StudyDate", "*"))  # no wildcards in DA


def test_multi_valued_candidate_matches_any_value():
    modalities = elem("ModalitiesInStudy", ["CT", "SR"])
    assert matching.match_element(elem("ModalitiesInStudy", "SR"), modalities)
    assert matching.match_element(elem("ModalitiesInStudy", ["MR", "CT"]), modalities)
    assert not matching.match_element(elem("ModalitiesInStudy", "US"), modalities)


def worklist_query(**step_keys) -> Dataset:
    query = q(PatientName="", AccessionNumber="")
    step = Dataset()
    for keyword, value in step_keys.items():
        setattr(step, keyword, value)
    query.ScheduledProcedureStepSequence = Sequence([step])
    return query


def test_sequence_matching_for_worklist():
    item = worklist_items(1, seed=1)[0]
    step = item.ScheduledProcedureStepSequence[0]
    day = step.ScheduledProcedureStepStartDate
    hit = worklist_query(Modality=step.Modality, ScheduledProcedureStepStartDate=f"{day}-",
                         ScheduledStationAETitle="")
    assert matching.match_dataset(hit, item)
    miss = worklist_query(Modality="XA", ScheduledProcedureStepStartDate="")
    assert not matching.match_dataset(miss, item)
    all_empty = worklist_query(Modality="", ScheduledStationAETitle="")
    assert matching.match_dataset(all_empty, q(PatientName="X"))  # universal, even if absent
    resp = matching.build_response(hit, item)
    (rstep,) = resp.ScheduledProcedureStepSequence
    assert set(rstep.dir()) == {"Modality", "ScheduledProcedureStepStartDate",
                                "ScheduledStationAETitle"}
    assert rstep.ScheduledStationAETitle == step.ScheduledStationAETitle
    assert resp.SpecificCharacterSet == "ISO_IR 192" and resp.PatientName == item.PatientName


def test_response_holds_requested_keys_only():
    record = q(PatientName="Owusu^Kɔfi", PatientID="KA1", StudyDate="20240101", Modality="CT")
    record.SpecificCharacterSet = "ISO_IR 192"
    query = q("STUDY", PatientName="Ow*", StudyDescription="", StudyDate="")
    resp = matching.build_response(query, record)
    assert set(resp.dir()) == {"QueryRetrieveLevel", "SpecificCharacterSet", "PatientName",
                               "StudyDescription", "StudyDate"}
    assert resp.PatientName == "Owusu^Kɔfi" and resp.StudyDescription in (None, "")
    resp.PatientName = "Changed"
    assert record.PatientName == "Owusu^Kɔfi"  # the response does not alias the record


@pytest.fixture(scope="module")
def archive():
    kofi = PatientInfo("Owusu^Kɔfi", "KA000001", "19700101", "M")
    ama = PatientInfo("Danso^Ama", "TT000002", "19900505", "F")
    return (generate_study("CT", images=6, series=2, size=16, patient=kofi, seed=1)
            + generate_study("CR", images=2, series=2, size=16, patient=kofi, seed=2)
            + generate_study("MR", images=3, series=3, size=16, patient=ama, seed=3))


def test_find_levels_and_computed_attributes(archive):
    patients = list(matching.find(q("PATIENT", PatientID="", PatientName="",
                                    NumberOfPatientRelatedStudies=""), archive, "PATIENT"))
    assert {p.PatientID: p.NumberOfPatientRelatedStudies for p in patients} == {
        "KA000001": 2, "TT000002": 1}
    studies = list(matching.find(q("STUDY", PatientID="KA000001", StudyInstanceUID="",
                                   ModalitiesInStudy="", NumberOfStudyRelatedSeries="",
                                   NumberOfStudyRelatedInstances=""), archive, "STUDY"))
    assert sorted(s.ModalitiesInStudy for s in studies) == ["CR", "CT"]
    ct = next(s for s in studies if s.ModalitiesInStudy == "CT")
    assert (ct.NumberOfStudyRelatedSeries, ct.NumberOfStudyRelatedInstances) == (2, 6)
    by_modality = list(matching.find(q("STUDY", ModalitiesInStudy="MR"), archive, "STUDY"))
    assert len(by_modality) == 1
    series = list(matching.find(q("SERIES", StudyInstanceUID=ct.StudyInstanceUID,
                                  SeriesInstanceUID="", NumberOfSeriesRelatedInstances=""),
                                archive, "STUDY"))
    assert [s.NumberOfSeriesRelatedInstances for s in series] == [3, 3]
    images = list(matching.find(q("IMAGE", SeriesInstanceUID=series[0].SeriesInstanceUID,
                                  SOPInstanceUID="", InstanceNumber=""), archive, "STUDY"))
    assert [int(i.InstanceNumber) for i in images] == [1, 2, 3]


def test_keys_below_the_level_do_not_filter(archive):
    studies = list(matching.find(q("STUDY", SeriesDescription="nothing like this"),
                                 archive, "STUDY"))
    assert len(studies) == 3 and all(s.SeriesDescription in (None, "") for s in studies)


def test_retrieve_ae_title_and_bad_levels(archive):
    (one,) = matching.find(q("STUDY", PatientID="TT000002", RetrieveAETitle=""), archive,
                           "STUDY", retrieve_ae_title="DEMOPACS")
    assert one.RetrieveAETitle == "DEMOPACS"
    with pytest.raises(matching.QueryError):
        list(matching.find(q("PATIENT", PatientID=""), archive, "STUDY"))
    with pytest.raises(matching.QueryError):
        list(matching.find(q(None, PatientID=""), archive, "PATIENT"))


def test_select_instances_for_retrieve(archive):
    study_uid = archive[0].StudyInstanceUID
    chosen = matching.select_instances(q("STUDY", StudyInstanceUID=study_uid), archive, "STUDY")
    assert len(chosen) == 6
    uids = [archive[0].SOPInstanceUID, archive[-1].SOPInstanceUID]
    chosen = matching.select_instances(q("IMAGE", SOPInstanceUID=uids), archive, "PATIENT")
    assert [ds.SOPInstanceUID for ds in chosen] == uids
