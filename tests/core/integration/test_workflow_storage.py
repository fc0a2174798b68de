"""`workflow serve`'s storage side takes every storage class a modality may send: structured
reports (dose reports, key objects) and waveforms, sent by DCMTK's storescu."""

from __future__ import annotations

import subprocess

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid
from pynetdicom.sop_class import (
    ComprehensiveSRStorage,
    EnhancedSRStorage,
    KeyObjectSelectionDocumentStorage,
    TwelveLeadECGWaveformStorage,
    XRayRadiationDoseSRStorage,
)

from pacs_console.core.dicom.wire.ae import STORAGE_SOP_CLASSES
from pacs_console.core.workflow.scp import WorkflowSCP
from tests.core.dicom_ops.helpers import QUICK

pytestmark = pytest.mark.peers
STORESCU = "/usr/bin/storescu"


def _as_class(sop_class: str, path):
    """pydicom's Comprehensive SR test file relabelled as another SR class, its own instance."""
    ds = dcmread(get_testdata_file("test-SR.dcm"))
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.save_as(path, enforce_file_format=True)
    return path


def test_workflow_scp_stores_sr_dose_reports_key_objects_and_waveforms(tmp_path):
    files = [get_testdata_file("test-SR.dcm"), get_testdata_file("waveform_ecg.dcm")]
    files += [_as_class(sop, tmp_path / f"{n}.dcm") for n, sop in enumerate(
        (EnhancedSRStorage, XRayRadiationDoseSRStorage, KeyObjectSelectionDocumentStorage))]
    scp = WorkflowSCP("SITESCP", 0, host="127.0.0.1", timeouts=QUICK).start()
    try:
        proc = subprocess.run([STORESCU, "-aet", "CTSCANNER", "-aec", "SITESCP", "127.0.0.1",
                               str(scp.port), *map(str, files)],
                              capture_output=True, text=True, timeout=60)
    finally:
        scp.stop()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(scp.stored.values()) == sorted(
        [ComprehensiveSRStorage, TwelveLeadECGWaveformStorage, EnhancedSRStorage,
         XRayRadiationDoseSRStorage, KeyObjectSelectionDocumentStorage])


def test_every_storage_class_pydicom_knows_is_among_the_console_storage_classes():
    from pydicom._uid_dict import UID_dictionary

    known = {uid for uid, (name, kind, _, retired, _) in UID_dictionary.items()
             if kind == "SOP Class" and name.endswith("Storage") and not retired}
    assert known - {"1.2.840.10008.1.3.10"} <= set(STORAGE_SOP_CLASSES)  # DICOMDIR is no image
