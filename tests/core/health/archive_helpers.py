"""Three studies over three years and modalities, and archive nodes in the address book."""

from __future__ import annotations

from pacs_console.core.context import Context
from pacs_console.core.db.nodes import save_node
from pacs_console.core.dicom.synth.studies import generate_study
from pacs_console.paths import app_paths
from tests.core.dicom_ops.helpers import part10


def studies():
    out = []
    for n, (modality, year) in enumerate((("CT", 2024), ("MR", 2025), ("CR", 2026))):
        study = generate_study(modality, images=3, series=1, size=32, seed=100 + n)
        for ds in study:
            ds.StudyDate = f"{year}0{n + 3}15"
            ds.StudyTime = "101500"
        out.append(study)
    return out


def nodes(data_dir, *peers):
    ctx = Context.open(app_paths(data_dir))
    try:
        for name, peer in peers:
            save_node(ctx.db, name, peer.aet, peer.host, peer.dicom_port, tags="archive")
    finally:
        ctx.close()


def remove_behind_its_back(orthanc, sop_instance_uid: str) -> None:
    """Delete one instance's file from Orthanc's storage folder while its index still lists the
    instance (a disk that lost a file): a C-GET of its study stops there."""
    found = orthanc.rest("POST", "/tools/lookup", sop_instance_uid.encode(),
                         content_type="text/plain")
    instance = next(f["ID"] for f in found if f["Type"] == "Instance")
    uuid = orthanc.rest("GET", f"/instances/{instance}/attachments/dicom/info")["Uuid"]
    next((orthanc.workdir / "storage").rglob(uuid)).unlink()


def half_replicated(data_dir, orthanc, dr_orthanc) -> list:
    """The three studies on ``orthanc`` ("Primary"); on ``dr_orthanc`` ("DR site") the first
    whole, one of the second's three instances and none of the third. Returns the studies."""
    dr_orthanc.clear()
    made = studies()
    for study in made:
        for ds in study:
            orthanc.upload(part10(ds))
    for ds in made[0]:
        dr_orthanc.upload(part10(ds))
    dr_orthanc.upload(part10(made[1][0]))
    nodes(data_dir, ("Primary", orthanc), ("DR site", dr_orthanc))
    return made
