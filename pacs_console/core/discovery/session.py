"""A sweep as the GUI and the CLI run it: options from settings and the site, then save and diff."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace

from pacs_console.core.discovery.inventory import InventoryDiff
from pacs_console.core.discovery.models import SweepOptions, SweepProgress, SweepResult
from pacs_console.core.discovery.targets import TargetSet


@dataclass(frozen=True)
class SavedSweep:
    result: SweepResult
    sweep_id: int | None = None
    site: str | None = None
    diff: InventoryDiff | None = None  # against the site's previous sweep
    since_visit: InventoryDiff | None = None  # against the site's inventory at the last visit
    since_visit_why: str = ""  # why there is nothing to compare with (since_visit None)


def with_known_titles(db, options: SweepOptions, site: str | None) -> SweepOptions:
    """Add the titles of the address book and of the site's last sweep to try first."""
    from pacs_console.core.db.sweeps import known_titles

    known, titles = known_titles(db, site)
    return replace(options, known={**known, **options.known},
                   site_titles=tuple(dict.fromkeys((*options.site_titles, *titles))))


def sweep_and_save(db, targets: TargetSet, options: SweepOptions, *, site: str | None = None,
                   engineer: str = "", save: bool = True
                   ) -> Generator[SweepProgress, None, SavedSweep]:
    """Run the sweep, then save it under ``site`` (created when new) and diff it.

    A cancelled sweep (the generator closed) saves nothing: half an inventory would show
    every node not reached yet as "gone" next time.
    """
    from pacs_console.core.db.sweeps import (
        save_sweep,
        since_last_visit,
        site_id_for,
        site_inventory_diff,
    )
    from pacs_console.core.discovery.sweep import sweep

    result = yield from sweep(targets, with_known_titles(db, options, site))
    if not save:
        return SavedSweep(result, site=site)
    site_id = site_id_for(db, site, actor=engineer) if site else None
    record = save_sweep(db, result, site_id=site_id, engineer=engineer)
    if not site_id:
        return SavedSweep(result, record.id, site)
    return SavedSweep(result, record.id, site, site_inventory_diff(db, site_id),
                      *since_last_visit(db, site_id))


def add_to_address_book(db, finding, *, site: str | None = None):
    """Save a found DICOM node with its AE title; returns the NodeRecord.

    A node that accepts any called AE gets ANY-SCP: whatever title is used, it answers.
    """
    from pacs_console.core.db.nodes import get_node, list_nodes, save_node
    from pacs_console.core.db.sweeps import site_id_for

    ae = finding.ae_title or "ANY-SCP"
    for node in list_nodes(db):
        if (node.host, node.port, node.ae_title) == (finding.host, finding.port, ae):
            return node
    product = finding.product if finding.product not in ("", "unknown") else ""
    base = f"{finding.ae_title or product or 'DICOM node'} {finding.host}:{finding.port}"
    name, n = base, 2
    while get_node(db, name) is not None:
        name, n = f"{base} ({n})", n + 1
    notes = (f"Found by a discovery sweep: {finding.verdict}"
             + (f", {product} {finding.version}".rstrip() if product else "")
             + (f", {finding.implementation_version_name}" if finding.implementation_version_name else ""))
    extra = {}
    if site:
        extra["site_id"] = site_id_for(db, site)
    return save_node(db, name, ae, finding.host, finding.port, notes=notes, **extra)
