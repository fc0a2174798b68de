"""The attributes C-FIND and C-MOVE identifiers use and the image index and its thumbnails
read, by keyword, tag and VR, without pydicom.

``pacs-console find`` builds and reads identifiers of a few dozen attributes; loading pydicom's
whole dictionary (and numpy with it) for them was most of a query's start-up. This is a subset
of that dictionary, not a second one: anything not listed here is looked up in pydicom's, and a
test keeps every entry equal to pydicom's.
"""

from __future__ import annotations

# keyword -> (tag, VR), as pydicom.datadict has them.
KNOWN: dict[str, tuple[int, str]] = {
    'SpecificCharacterSet': (0x00080005, 'CS'),
    'ImageType': (0x00080008, 'CS'),
    'SOPClassUID': (0x00080016, 'UI'),
    'SOPInstanceUID': (0x00080018, 'UI'),
    'StudyDate': (0x00080020, 'DA'),
    'SeriesDate': (0x00080021, 'DA'),
    'AcquisitionDate': (0x00080022, 'DA'),
    'ContentDate': (0x00080023, 'DA'),
    'StudyTime': (0x00080030, 'TM'),
    'SeriesTime': (0x00080031, 'TM'),
    'ContentTime': (0x00080033, 'TM'),
    'AccessionNumber': (0x00080050, 'SH'),
    'QueryRetrieveLevel': (0x00080052, 'CS'),
    'RetrieveAETitle': (0x00080054, 'AE'),
    'InstanceAvailability': (0x00080056, 'CS'),
    'Modality': (0x00080060, 'CS'),
    'ModalitiesInStudy': (0x00080061, 'CS'),
    'SOPClassesInStudy': (0x00080062, 'UI'),
    'Manufacturer': (0x00080070, 'LO'),
    'InstitutionName': (0x00080080, 'LO'),
    'ReferringPhysicianName': (0x00080090, 'PN'),
    'TimezoneOffsetFromUTC': (0x00080201, 'SH'),
    'StationName': (0x00081010, 'SH'),
    'StudyDescription': (0x00081030, 'LO'),
    'SeriesDescription': (0x0008103E, 'LO'),
    'PhysiciansOfRecord': (0x00081048, 'PN'),
    'PerformingPhysicianName': (0x00081050, 'PN'),
    'OperatorsName': (0x00081070, 'PN'),
    'PatientName': (0x00100010, 'PN'),
    'PatientID': (0x00100020, 'LO'),
    'IssuerOfPatientID': (0x00100021, 'LO'),
    'PatientBirthDate': (0x00100030, 'DA'),
    'PatientSex': (0x00100040, 'CS'),
    'OtherPatientIDs': (0x00101000, 'LO'),
    'PatientAge': (0x00101010, 'AS'),
    'PatientSize': (0x00101020, 'DS'),
    'PatientWeight': (0x00101030, 'DS'),
    'AdditionalPatientHistory': (0x001021B0, 'LT'),
    'PatientComments': (0x00104000, 'LT'),
    'BodyPartExamined': (0x00180015, 'CS'),
    'ProtocolName': (0x00181030, 'LO'),
    'StudyInstanceUID': (0x0020000D, 'UI'),
    'SeriesInstanceUID': (0x0020000E, 'UI'),
    'StudyID': (0x00200010, 'SH'),
    'SeriesNumber': (0x00200011, 'IS'),
    'InstanceNumber': (0x00200013, 'IS'),
    'ImagePositionPatient': (0x00200032, 'DS'),
    'ImageOrientationPatient': (0x00200037, 'DS'),
    'Laterality': (0x00200060, 'CS'),
    'SliceLocation': (0x00201041, 'DS'),
    'NumberOfPatientRelatedStudies': (0x00201200, 'IS'),
    'NumberOfPatientRelatedSeries': (0x00201202, 'IS'),
    'NumberOfPatientRelatedInstances': (0x00201204, 'IS'),
    'NumberOfStudyRelatedSeries': (0x00201206, 'IS'),
    'NumberOfStudyRelatedInstances': (0x00201208, 'IS'),
    'NumberOfSeriesRelatedInstances': (0x00201209, 'IS'),
    'SamplesPerPixel': (0x00280002, 'US'),
    'PhotometricInterpretation': (0x00280004, 'CS'),
    'NumberOfFrames': (0x00280008, 'IS'),
    'Rows': (0x00280010, 'US'),
    'Columns': (0x00280011, 'US'),
    'BitsAllocated': (0x00280100, 'US'),
    'BitsStored': (0x00280101, 'US'),
    'PixelRepresentation': (0x00280103, 'US'),
    'PixelPaddingValue': (0x00280120, 'US or SS'),
    'WindowCenter': (0x00281050, 'DS'),
    'WindowWidth': (0x00281051, 'DS'),
    'RescaleIntercept': (0x00281052, 'DS'),
    'RescaleSlope': (0x00281053, 'DS'),
    'BurnedInAnnotation': (0x00280301, 'CS'),
    'RequestedProcedureDescription': (0x00321060, 'LO'),
    'RequestedProcedureCodeSequence': (0x00321064, 'SQ'),
    'StudyComments': (0x00324000, 'LT'),
    'AdmissionID': (0x00380010, 'LO'),
    'CurrentPatientLocation': (0x00380300, 'LO'),
    'ScheduledStationAETitle': (0x00400001, 'AE'),
    'ScheduledProcedureStepStartDate': (0x00400002, 'DA'),
    'ScheduledProcedureStepStartTime': (0x00400003, 'TM'),
    'ScheduledPerformingPhysicianName': (0x00400006, 'PN'),
    'ScheduledProcedureStepDescription': (0x00400007, 'LO'),
    'ScheduledProcedureStepID': (0x00400009, 'SH'),
    'ScheduledStationName': (0x00400010, 'SH'),
    'ScheduledProcedureStepLocation': (0x00400011, 'SH'),
    'ScheduledProcedureStepSequence': (0x00400100, 'SQ'),
    'PerformedProcedureStepStartDate': (0x00400244, 'DA'),
    'RequestedProcedureID': (0x00401001, 'SH'),
    'RequestedProcedurePriority': (0x00401003, 'SH'),
}
_BY_TAG = {tag: (keyword, vr) for keyword, (tag, vr) in KNOWN.items()}


def tag_and_vr(keyword: str) -> tuple[int, str] | None:
    """(tag, VR) of a dictionary keyword; None when it is no keyword (pydicom is asked only
    for keywords missing from ``KNOWN``). A private or unknown tag's VR is LO."""
    if keyword in KNOWN:
        return KNOWN[keyword]
    from pydicom.datadict import dictionary_VR, tag_for_keyword

    tag = tag_for_keyword(keyword)
    if tag is None:
        return None
    try:
        return tag, dictionary_VR(tag)
    except KeyError:
        return tag, "LO"


def keyword_and_vr(tag: int) -> tuple[str, str | None]:
    """(keyword, dictionary VR or None) for a tag; a tag missing from the dictionary is named
    by its hex digits, ``00091001``."""
    if tag in _BY_TAG:
        return _BY_TAG[tag]
    from pydicom.datadict import dictionary_VR, keyword_for_tag

    keyword = keyword_for_tag(tag) or f"{tag >> 16:04X}{tag & 0xFFFF:04X}"
    try:
        return keyword, dictionary_VR(tag)
    except KeyError:
        return keyword, None
