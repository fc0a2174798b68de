"""A realistic sample visit (Ghanaian names with ɛ and ɔ) for previewing the template and training."""

from __future__ import annotations

import math
import random
import uuid
from datetime import UTC, datetime, timedelta

from pacs_console import __version__
from pacs_console.core.reports.model import (
    CapabilityMatrixItem,
    CapabilityRow,
    Extras,
    HandSignature,
    IncidentItem,
    InventoryItem,
    LaptopInfo,
    NodeItem,
    PartUsed,
    Strokes,
    TestRunItem,
    TimeEntry,
    VisitReport,
)

ENGINEER = "Kwabena Ɔfori-Mɛnsah"
CUSTOMER = "Abɛna Sɛrwaa Bɔatɛng"
SITE = "Tamale Teaching Hospital"
_INCIDENTS = [
    ("CT scanner cannot send studies to the archive", "critical", "modality",
     "Archive's AE title changed after a vendor update; the CT still used the old one.",
     "Updated the CT's destination AE title to TTHPACS and re-sent 214 queued studies."),
    ("Radiology workstation 3 slow to open studies", "high", "viewer",
     "Workstation on a 100 Mb/s port with duplex mismatch.",
     "Moved the workstation to a gigabit port; study open time from 40 s to 4 s."),
    ("Worklist empty on the ultrasound in the maternity block", "medium", "integration",
     "RIS worklist SCP filtered by station AE title ÚSMAT1 which had a typo on the device.",
     "Corrected the station AE title on the ultrasound; worklist shows today's patients."),
    ("Archive disk 86 % full", "low", "storage",
     "Retention policy not applied since the last upgrade.",
     "Re-enabled the nightly retention job; follow-up booked to check free space."),
]


def _strokes(seed: int, width: float = 400, height: float = 150) -> Strokes:
    """A flowing scribble that looks handwritten enough for a sample."""
    rng = random.Random(seed)
    strokes = []
    x = 20.0
    for _ in range(3):
        points = []
        phase = rng.uniform(0, math.pi)
        length = rng.uniform(80, 120)
        for i in range(40):
            t = i / 39
            px = x + t * length
            py = height / 2 + math.sin(phase + t * 9) * 28 * (1 - 0.5 * t) + rng.uniform(-2, 2)
            points.append((round(px, 1), round(py, 1)))
        strokes.append(tuple(points))
        x += length + 15
    return Strokes(width, height, tuple(strokes))


def sample_report(*, scale: int = 1, seed: int = 7, now: datetime | None = None) -> VisitReport:
    """``scale`` repeats incidents and test runs: scale 1 is a typical visit, 12 about 20 pages."""
    rng = random.Random(seed)
    now = now or datetime(2025, 6, 13, 16, 30, tzinfo=UTC)
    arrived = now - timedelta(hours=7, minutes=30)
    incidents = []
    for n in range(len(_INCIDENTS) * scale):
        title, severity, category, cause, fix = _INCIDENTS[n % len(_INCIDENTS)]
        reported = arrived - timedelta(hours=rng.uniform(1, 48))
        response = {"critical": 15, "high": 60, "medium": 240, "low": 480}[severity]
        taken = rng.uniform(0.3, 1.4) * response
        due = reported + timedelta(minutes=response)
        ack = reported + timedelta(minutes=taken)
        incidents.append(IncidentItem(
            1000 + n, str(uuid.UUID(int=rng.getrandbits(128))),
            title if n < len(_INCIDENTS) else f"{title} (#{n + 1})", severity, category,
            "resolved", ("TTH main PACS (TTHPACS@10.20.0.5:104)",), reported, due, ack,
            ack + timedelta(hours=rng.uniform(0.5, 4)), "met" if ack <= due else "breached",
            round(taken, 1), cause, fix, "Reported by the radiology supervisor by phone."))
    runs = []
    at = arrived + timedelta(minutes=20)
    for n in range(6 * scale):
        at += timedelta(minutes=rng.uniform(3, 12))
        if n % 3 == 0:
            series = tuple(round(rng.lognormvariate(math.log(4 + (n % 7)), 0.35), 2)
                           for _ in range(60))
            ordered = sorted(series)
            runs.append(TestRunItem(
                n + 1, "echo-series", "TTHPACS@10.20.0.5:104", at, "ok",
                f"60 C-ECHO, 60 OK, loss 0 %, round trip median {ordered[30]} ms", 60_000,
                ordered[30], ordered[56], series))
        elif n % 3 == 1:
            mb = round(rng.uniform(9, 60), 1)
            runs.append(TestRunItem(
                n + 1, "store", "TTHPACS@10.20.0.5:104", at, "ok",
                f"C-STORE: 120 sent, 0 failed; {mb * 2:.1f} images/s, {mb} MB/s", 12_000,
                None, None, (), mb, round(mb * 2, 1)))
        else:
            mb = round(rng.uniform(5, 40), 1)
            runs.append(TestRunItem(
                n + 1, "move", "TTHPACS@10.20.0.5:104", at, "ok",
                f"C-MOVE success: 80 completed, 0 failed, {mb} MB/s", 9_000, None, None, (),
                mb, round(mb * 1.5, 1)))
    nodes = (NodeItem("TTH main PACS", "TTHPACS", "10.20.0.5", 104, "pacs,archive"),
             NodeItem("CT Siemens Somatom", "TTHCT01", "10.20.1.21", 104, "modality"),
             NodeItem("US maternity", "USMAT1", "10.20.1.40", 104, "modality"),
             NodeItem("Radiology WS 3", "TTHWS03", "10.20.2.13", 11112, "workstation"))
    capability = CapabilityMatrixItem("TTH main PACS", arrived + timedelta(minutes=50), tuple(
        CapabilityRow(name, service, syntaxes, role) for name, service, syntaxes, role in (
            ("Verification SOP Class", "verification", "Implicit, Explicit", ""),
            ("Study Root Q/R Find", "query", "Implicit, Explicit", ""),
            ("Study Root Q/R Move", "retrieve", "Implicit, Explicit", ""),
            ("CT Image Storage", "storage", "Implicit, Explicit, J2K-LL, JPEG-LS, RLE",
             "SCU/SCP"),
            ("MR Image Storage", "storage", "Implicit, Explicit, J2K-LL", "SCU/SCP"),
            ("Digital X-Ray Image Storage - For Presentation", "storage", "Implicit, Explicit",
             "SCU/SCP"))))
    extras = Extras(
        summary=(f"Scheduled quarterly visit to {SITE}. The CT could not send to the archive "
                 "since Tuesday; fixed on arrival and the backlog was re-sent. Workstation 3 "
                 "and the maternity worklist were fixed the same day. The archive needs its "
                 "retention job watched."),
        recommendations=("Replace the switch in the radiology corridor (duplex errors on 4 ports).",
                         "Record AE title changes in the site's change log before vendor visits.",
                         "Order a second archive disk shelf before the end of the quarter."),
        follow_ups=("Check archive free space in two weeks (Kɔfi Asantɛ, IT).",
                    "Confirm the CT vendor has the new AE title in their service notes."),
        time_spent=(TimeEntry("Travel Accra – Tamale", 60), TimeEntry("Diagnosis", 150),
                    TimeEntry("Repair and testing", 210), TimeEntry("Hand-over and training", 45)),
        parts=(PartUsed("Cat6 patch cable 3 m", 2, "", "Workstation 3"),
               PartUsed("Gigabit switch port licence", 1, "SW-88213", "")),
        feedback="Very helpful; the CT is sending again and the staff were shown how to check.",
        feedback_rating=5,
        customer=HandSignature(CUSTOMER, "Radiology supervisor", now, _strokes(seed + 1)),
        engineer=HandSignature(ENGINEER, "Field engineer", now, _strokes(seed + 2)))
    return VisitReport(
        report_id=str(uuid.UUID(int=rng.getrandbits(128))), generated_at=now,
        report_number=f"SAMPLE-TTH-{now:%Y%m%d}-01",
        organisation="Ɔdɔ Medical Systems Ltd",
        organisation_details="12 Liberation Road, Accra · +233 30 000 0000 · service@example.com",
        engineer=ENGINEER, engineer_id="FE-014", site=SITE,
        site_details={"region": "Northern", "facility": "Teaching hospital",
                      "address": "Salaga Road, Tamale", "contacts": f"{CUSTOMER}, +233 20 000 0000"},
        visit_id=None, visit_uuid=str(uuid.UUID(int=rng.getrandbits(128))),
        purpose="Quarterly preventive maintenance and open incidents",
        visit_notes="Power cut 11:40–12:10; the UPS held the archive.",
        arrived_at=arrived, departed_at=now, incidents=tuple(incidents), test_runs=tuple(runs),
        nodes=nodes,
        inventory=InventoryItem(arrived + timedelta(minutes=30), tuple(
            f"{n.host}:{n.port}  dicom  {n.ae_title}" for n in nodes),
            ("AE title changed at 10.20.0.5:104: TTHARCH -> TTHPACS",
             "New: TTHWS03@10.20.2.13:11112 (dicom)"), 2),
        capabilities=(capability,),
        laptop=LaptopInfo("fe014-laptop", "Linux 6.1 (x86_64)", __version__,
                          ("eth0: 10.20.2.200/16 (up, 1000 Mb/s)", "wlan0: no IPv4 address (down)"),
                          112.4, arrived + timedelta(minutes=5)),
        extras=extras)
