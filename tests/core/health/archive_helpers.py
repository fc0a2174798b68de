"""Three studies over three years and modalities, and archive nodes in the address book."""

from __future__ import annotations

from pacs_console.core.context import Context
from pacs_console.core.db.nodes import save_node
from pacs_console.core.dicom.synth.studies import generate_study
from pacs_console.paths import app_paths


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
