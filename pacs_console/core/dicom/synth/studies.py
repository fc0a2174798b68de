"""Synthetic, realistic DICOM studies and worklist items for the demo PACS, tests and benchmarks."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    ComputedRadiographyImageStorage,
    CTImageStorage,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    MRImageStorage,
    RLELossless,
    UltrasoundImageStorage,
    generate_uid,
)

from pacs_console.core.dicom.synth import images as px
from pacs_console.core.dicom.wire.ae import IMPLEMENTATION_VERSION

COMPRESSIONS = {"rle": RLELossless, "jpeg2000": JPEG2000Lossless, "jpegls": JPEGLSLossless}
CHARSET = "ISO_IR 192"  # UTF-8: the Akan letters ɛ and ɔ are outside Latin-1
INSTITUTIONS = {
    "KB": "Korle Bu Teaching Hospital",
    "KA": "Komfo Anokye Teaching Hospital",
    "TT": "Tamale Teaching Hospital",
    "RH": "Ridge Hospital",
    "CC": "Cape Coast Teaching Hospital",
}
# (name, sex): Akan, Ga and Dagomba names, several with the letters that break Latin-1 tooling.
NAMES = [
    ("Mensah^Ɛfua", "F"), ("Owusu^Kɔfi", "M"), ("Boateng^Akɔsua", "F"), ("Asante^Yaw", "M"),
    ("Danso^Ama", "F"), ("Appiah^Kwabɛna", "M"), ("Osei^Adwoa", "F"), ("Agyeman^Kwamɛ", "M"),
    ("Nkansah^Abɛna", "F"), ("Addo^Kwaku", "M"), ("Darko^Akua", "F"), ("Tetteh^Nii Ɔdartey", "M"),
    ("Fuseini^Abdulai", "M"), ("Alhassan^Amina", "F"), ("Ofori^Yaa", "F"), ("Quaye^Naa Ɔkailey", "F"),
]
PHYSICIANS = ["Adjei^Kwadwo^^Dr", "Ansah^Efua^^Dr", "Iddrisu^Mohammed^^Dr", "Lamptey^Naa^^Dr"]


@dataclass(frozen=True)
class PatientInfo:
    """Who the synthetic study belongs to."""

    name: str
    patient_id: str
    birth_date: str  # DA, YYYYMMDD
    sex: str  # M, F or O


@dataclass(frozen=True)
class _Spec:
    sop_class: str
    images: int
    series: int
    size: int
    manufacturer: str
    model: str
    protocols: tuple[tuple[str, str, tuple[str, ...]], ...]  # body part, study, series names


SPECS = {
    "CT": _Spec(CTImageStorage, 40, 2, 256, "SIEMENS", "SOMATOM go.Now", (
        ("HEAD", "CT Head without contrast", ("Head 5.0 H31s", "Head 1.0 H60s bone")),
        ("CHEST", "CT Chest with contrast", ("Mediastinum 5.0 Br40", "Lung 1.0 Br60")),
        ("ABDOMEN", "CT Abdomen Pelvis", ("Portal venous 5.0 Br40", "Bone 2.0 Br64")))),
    "MR": _Spec(MRImageStorage, 30, 3, 256, "GE MEDICAL SYSTEMS", "SIGNA Creator", (
        ("HEAD", "MRI Brain", ("Ax T2 FSE", "Ax T1 SE", "Ax T2 FLAIR")),
        ("ABDOMEN", "MRI Abdomen", ("Ax T2 SSFSE", "Ax T1 Dual Echo", "Cor T2 SSFSE")))),
    "CR": _Spec(ComputedRadiographyImageStorage, 2, 2, 512, "FUJIFILM Corporation", "FCR Capsula XLII", (
        ("CHEST", "XR Chest PA and Lateral", ("PA", "LAT")),)),
    "US": _Spec(UltrasoundImageStorage, 4, 1, 256, "Mindray", "DC-70", (
        ("ABDOMEN", "US Abdomen", ("Abdomen",)),
        ("PELVIS", "US Obstetric", ("OB 2nd trimester",)))),
}
WINDOWS = {"HEAD": [(40, 80), (600, 2800)], "CHEST": [(40, 400), (-600, 1500)],
           "ABDOMEN": [(50, 350), (400, 1800)]}
CT_PADDING = -2000  # stored value outside the field of view, as GE scanners write it


def _uid(key: object, *parts: object) -> str:
    return generate_uid(entropy_srcs=["pacs-console-synth", str(key), *map(str, parts)])


def random_patient(rng: np.random.Generator, index: int | None = None) -> PatientInfo:
    """A Ghanaian patient with a plausible ID and birth date."""
    name, sex = NAMES[int(rng.integers(len(NAMES))) if index is None else index % len(NAMES)]
    born = dt.date(1940, 1, 1) + dt.timedelta(days=int(rng.integers(0, 30000)))
    code = list(INSTITUTIONS)[int(rng.integers(len(INSTITUTIONS)))]
    return PatientInfo(name, f"{code}{int(rng.integers(100000, 999999)):06d}", born.strftime("%Y%m%d"), sex)


def _patient_dataset(patient: PatientInfo) -> Dataset:
    """A dataset holding the patient's identification (in the synthetic data's character set):
    the start of every study and worklist item made here."""
    ds = Dataset()
    ds.SpecificCharacterSet = CHARSET
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    return ds


def _age(birth: str, on: dt.date) -> str:
    b = dt.datetime.strptime(birth, "%Y%m%d").date()
    years = on.year - b.year - ((on.month, on.day) < (b.month, b.day))
    return f"{max(years, 0):03d}Y"


def generate_study(
    modality: str = "CT",
    *,
    images: int | None = None,
    series: int | None = None,
    size: int | None = None,
    compression: str | None = None,
    patient: PatientInfo | None = None,
    seed: int | None = None,
) -> list[Dataset]:
    """One study: ``images`` instances in total, spread over ``series`` series of ``size``² pixels.

    The same arguments and ``seed`` give identical datasets, UIDs included.
    """
    modality = modality.upper()
    if modality not in SPECS:
        raise ValueError(f"modality {modality!r} not one of {', '.join(SPECS)}")
    if compression is not None and compression not in COMPRESSIONS:
        raise ValueError(f"compression {compression!r} not one of {', '.join(COMPRESSIONS)}")
    spec = SPECS[modality]
    seed = secrets.randbits(32) if seed is None else seed
    rng = np.random.default_rng(seed)
    images = spec.images if images is None else images
    n_series = max(1, min(spec.series if series is None else series, images))
    size = spec.size if size is None else size
    patient = patient or random_patient(rng)
    body_part, study_desc, series_names = spec.protocols[int(rng.integers(len(spec.protocols)))]
    site = patient.patient_id[:2] if patient.patient_id[:2] in INSTITUTIONS else "KB"
    when = dt.datetime(2025, 1, 6, 7, 30) + dt.timedelta(
        days=int(rng.integers(0, 330)), minutes=int(rng.integers(0, 600)))
    study = _patient_dataset(patient)
    study.PatientAge = _age(patient.birth_date, when.date())
    # The UID key holds every argument that changes the study except compression: a lossless
    # copy is the same instance, while another patient or size under one seed must not collide.
    key = f"{seed}/{modality}/{patient.patient_id}/{images}/{n_series}/{size}"
    study.StudyInstanceUID = _uid(key, "study")
    study.StudyDate = when.strftime("%Y%m%d")
    study.StudyTime = when.strftime("%H%M%S")
    study.AccessionNumber = f"{site}{when:%y}{int(rng.integers(0, 10**6)):06d}"
    study.StudyID = str(int(rng.integers(1, 9999)))
    study.StudyDescription = study_desc
    study.ReferringPhysicianName = PHYSICIANS[int(rng.integers(len(PHYSICIANS)))]
    study.InstitutionName = INSTITUTIONS[site]
    study.StationName = f"{site}-{modality}01"
    study.Manufacturer = spec.manufacturer
    study.ManufacturerModelName = spec.model
    study.BodyPartExamined = body_part
    study.Modality = modality
    study.FrameOfReferenceUID = _uid(key, "for")
    per_series = [images // n_series + (1 if i < images % n_series else 0) for i in range(n_series)]
    out: list[Dataset] = []
    for s, count in enumerate(per_series):
        name = series_names[s % len(series_names)]
        series_time = when + dt.timedelta(minutes=2 + 3 * s)
        common = (study, s, name, series_time, key)
        frames = _pixels(modality, rng, body_part, size, count, s, name)
        for i, arr in enumerate(frames):
            ds = _instance(spec, common, i, arr)
            _modality_tags(ds, modality, body_part, size, i, count, s, name)
            if compression:
                compress_dataset(ds, compression, arr)
            out.append(ds)
    return out


def _pixels(modality, rng, body_part, size, count, s, name):
    if modality == "CT":
        return px.ct_slices(rng, body_part, size, count, CT_PADDING)
    if modality == "MR":
        return px.mr_slices(rng, body_part, size, count, "T2" if "T2" in name else "T1")
    if modality == "CR":
        return (px.radiograph(rng, size, lateral=name == "LAT") for _ in range(count))
    return (px.ultrasound(rng, size, i) for i in range(count))


def _instance(spec: _Spec, common, index: int, arr: np.ndarray) -> Dataset:
    study, s, name, series_time, key = common
    ds = Dataset()
    for elem in study:  # fresh elements: shared ones would leak one instance's edits into all
        ds.add_new(elem.tag, elem.VR, elem.value)
    sop_uid = _uid(key, "sop", s, index)
    ds.SOPClassUID = spec.sop_class
    ds.SOPInstanceUID = sop_uid
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL" if study.Modality in ("CT", "MR") else ""]
    ds.SeriesInstanceUID = _uid(key, "series", s)
    ds.SeriesNumber = s + 1
    ds.SeriesDescription = name
    ds.ProtocolName = f"{study.StudyDescription} / {name}"
    ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = series_time.strftime("%Y%m%d")
    ds.SeriesTime = series_time.strftime("%H%M%S")
    content = series_time + dt.timedelta(seconds=index)
    ds.ContentTime = ds.AcquisitionTime = content.strftime("%H%M%S.%f")[:10]
    ds.InstanceNumber = index + 1
    ds.Rows, ds.Columns = int(arr.shape[0]), int(arr.shape[1])
    color = arr.ndim == 3
    ds.SamplesPerPixel = 3 if color else 1
    ds.PhotometricInterpretation = "RGB" if color else "MONOCHROME2"
    if color:
        ds.PlanarConfiguration = 0
    bits = arr.dtype.itemsize * 8
    ds.BitsAllocated = bits
    ds.BitsStored = 12 if study.Modality in ("MR", "CR") else bits
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if arr.dtype.kind == "i" else 0
    ds.PixelData = arr.tobytes()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = spec.sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION
    ds.file_meta = meta
    return ds


def _modality_tags(ds: Dataset, modality, body_part, size, index, count, s, name) -> None:
    if modality in ("CT", "MR"):
        fov = 240.0 if body_part == "HEAD" else 380.0
        spacing = fov / size
        thickness = 5.0 if " 5.0" in name or modality == "MR" else 1.0 if " 1.0" in name else 2.0
        z = -thickness * index + 0.0  # + 0.0 turns -0.0 into 0.0 for the first slice
        ds.PatientPosition = "HFS"
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-fov / 2, -fov / 2, round(z, 3)]
        ds.SliceLocation = round(z, 3)
        ds.PixelSpacing = [round(spacing, 6), round(spacing, 6)]
        ds.SliceThickness = thickness
        ds.SpacingBetweenSlices = thickness
        ds.PositionReferenceIndicator = ""
    if modality == "CT":
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = 1
        ds.RescaleType = "HU"
        ds.PixelPaddingValue = CT_PADDING
        ds.KVP = 120
        ds.ConvolutionKernel = name.split()[-1]
        sharp = "bone" in name.lower() or "Lung" in name
        center, width = WINDOWS.get(body_part, WINDOWS["CHEST"])[1 if sharp else 0]
        ds.WindowCenter, ds.WindowWidth = center, width
        ds.WindowCenterWidthExplanation = "WINDOW1"
    elif modality == "MR":
        ds.ScanningSequence = "SE"
        ds.SequenceVariant = "SK"
        ds.MRAcquisitionType = "2D"
        ds.MagneticFieldStrength = 1.5
        ds.RepetitionTime, ds.EchoTime = (4000, 100) if "T2" in name else (500, 12)
        ds.WindowCenter, ds.WindowWidth = (700, 1400) if "T2" in name else (500, 1000)
    elif modality == "CR":
        ds.PhotometricInterpretation = "MONOCHROME1"  # viewers must invert: low value = white
        ds.ViewPosition = "LL" if name == "LAT" else "PA"
        ds.PatientOrientation = ["P", "F"] if name == "LAT" else ["L", "F"]
        ds.ImagerPixelSpacing = [round(430.0 / size, 6)] * 2
        ds.KVP = 110 if name == "LAT" else 120
        ds.WindowCenter, ds.WindowWidth = 2000, 3000
    else:
        ds.BurnedInAnnotation = "YES"  # the banner in the pixels carries the patient's name
        ds.ImageType = ["ORIGINAL", "PRIMARY", "ABDOMINAL", ""]


def compress_dataset(ds: Dataset, compression: str, arr: np.ndarray | None = None) -> Dataset:
    """Compress ``ds`` in place losslessly ("rle", "jpeg2000" or "jpegls"), keeping its UID."""
    ds.compress(COMPRESSIONS[compression], arr, generate_instance_uid=False)
    return ds


# (modality, images, series, size, compression of the last series) for the demo archive.
_DEMO_PLAN = [
    ("CT", 24, 2, 128, "rle"), ("CR", 2, 2, 256, None), ("MR", 18, 3, 128, None),
    ("US", 4, 1, 128, "jpeg2000"), ("CT", 16, 2, 128, "jpegls"), ("MR", 12, 2, 128, "rle"),
    ("CR", 2, 2, 256, "jpeg2000"), ("US", 3, 1, 128, None),
]


def generate_demo_studies(count: int = 8, seed: int = 7) -> list[list[Dataset]]:
    """A small mixed archive: CT, MR, CR and US over a handful of patients, some series compressed."""
    rng = np.random.default_rng(seed)
    patients = [random_patient(rng, index=seed + i) for i in range(max(2, (count + 1) // 2))]
    studies = []
    for i in range(count):
        modality, images, series, size, comp = _DEMO_PLAN[i % len(_DEMO_PLAN)]
        datasets = generate_study(modality, images=images, series=series, size=size,
                                  patient=patients[i % len(patients)], seed=seed * 1000 + i)
        if comp:
            last = datasets[-1].SeriesInstanceUID
            for ds in datasets:
                if ds.SeriesInstanceUID == last:
                    compress_dataset(ds, comp)
        studies.append(datasets)
    return studies


def write_study(datasets: Iterable[Dataset], folder: str | Path) -> list[Path]:
    """Save each dataset as a DICOM Part 10 file under ``folder``; returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for ds in datasets:
        path = folder / (f"{ds.AccessionNumber}_{ds.Modality}_S{int(ds.SeriesNumber):03d}"
                         f"_I{int(ds.InstanceNumber):04d}.dcm")
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


_WORKLIST_PROCEDURES = [
    ("CT", "CT Head without contrast"), ("CT", "CT Chest with contrast"), ("MR", "MRI Brain"),
    ("CR", "XR Chest PA and Lateral"), ("US", "US Abdomen"), ("US", "US Obstetric"),
]


def worklist_items(
    count: int = 10, seed: int = 7, *, day: dt.date | None = None,
    stations: Sequence[str] | None = None,
) -> list[Dataset]:
    """Modality Worklist items scheduled around ``day`` (default today), mostly on that day."""
    rng = np.random.default_rng(seed)
    day = day or dt.date.today()
    items = []
    for i in range(count):
        patient = random_patient(rng)
        modality, description = _WORKLIST_PROCEDURES[int(rng.integers(len(_WORKLIST_PROCEDURES)))]
        offset = int(rng.choice([-1, 0, 0, 0, 0, 1, 2]))
        start = dt.datetime.combine(day + dt.timedelta(days=offset), dt.time(8)) + dt.timedelta(
            minutes=30 * i)
        site = patient.patient_id[:2]
        item = _patient_dataset(patient)
        item.AccessionNumber = f"{site}{start:%y}{int(rng.integers(0, 10**6)):06d}"
        item.ReferringPhysicianName = PHYSICIANS[int(rng.integers(len(PHYSICIANS)))]
        item.StudyInstanceUID = _uid(seed, "worklist", i)
        item.RequestedProcedureID = f"RP{seed % 1000:03d}{i:04d}"
        item.RequestedProcedureDescription = description
        item.RequestedProcedurePriority = "ROUTINE" if i % 4 else "STAT"
        item.InstitutionName = INSTITUTIONS[site]
        step = Dataset()
        step.Modality = modality
        step.ScheduledStationAETitle = (stations[i % len(stations)] if stations
                                        else f"{site}_{modality}01")
        step.ScheduledStationName = f"{site}-{modality}01"
        step.ScheduledProcedureStepStartDate = start.strftime("%Y%m%d")
        step.ScheduledProcedureStepStartTime = start.strftime("%H%M%S")
        step.ScheduledPerformingPhysicianName = PHYSICIANS[i % len(PHYSICIANS)]
        step.ScheduledProcedureStepDescription = description
        step.ScheduledProcedureStepID = f"SPS{i + 1:04d}"
        step.ScheduledProcedureStepStatus = "SCHEDULED"
        item.ScheduledProcedureStepSequence = DicomSequence([step])
        items.append(item)
    return items
