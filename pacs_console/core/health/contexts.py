"""Presentation contexts a node accepts, and what changed in them: SOP classes and transfer
syntaxes added or removed. The health run's association check proposes a compact set in one
association (the query/retrieve services and the common image classes); the upgrade baseline
compares its full capability matrix the same way."""

from __future__ import annotations

from dataclasses import dataclass, field

# The common image classes a site's nodes exchange (pynetdicom sop_class names).
COMMON_STORAGE = ("CTImageStorage", "MRImageStorage", "ComputedRadiographyImageStorage",
                  "DigitalXRayImageStorageForPresentation", "UltrasoundImageStorage",
                  "SecondaryCaptureImageStorage",
                  "DigitalMammographyXRayImageStorageForPresentation")


def health_items() -> list[tuple[str, str, list[str]]]:
    """(uid, service, syntaxes) proposed by the association check: fits one association."""
    from pynetdicom import sop_class as sc

    from pacs_console.core.dicom.ops.probe import SERVICE_SYNTAXES, SERVICES, STORAGE_SYNTAXES

    items = [(str(uid), service, list(SERVICE_SYNTAXES)) for uid, service in SERVICES.items()]
    return items + [(str(getattr(sc, name)), "storage", list(STORAGE_SYNTAXES))
                    for name in COMMON_STORAGE]


def accepted_contexts(target) -> tuple[dict[str, list[str]] | None, dict | None, object]:
    """One association proposing ``health_items``: ({SOP class: [accepted syntaxes]}, the
    association report, None) or (None, None, the diagnosis) when nothing was accepted."""
    from pacs_console.core.dicom.ops.probe import probe
    from pacs_console.core.models import drain

    matrix = drain(probe(target, items=health_items()))
    accepted = {uid: sorted(e["transfer_syntaxes"]) for uid, e in matrix.accepted.items()}
    if not accepted:
        return None, None, matrix.diagnosis
    return accepted, matrix.association, None


@dataclass
class ContextChanges:
    classes_removed: list[str] = field(default_factory=list)
    classes_added: list[str] = field(default_factory=list)
    syntaxes_removed: dict[str, list[str]] = field(default_factory=dict)  # class -> syntaxes
    syntaxes_added: dict[str, list[str]] = field(default_factory=dict)

    @property
    def regressed(self) -> bool:
        return bool(self.classes_removed or self.syntaxes_removed)

    def __bool__(self) -> bool:
        return bool(self.regressed or self.classes_added or self.syntaxes_added)

    def lines(self) -> list[str]:
        """Each change in words, SOP classes and syntaxes by name."""
        from pacs_console.core.dicom.wire.association import uid_name

        def names(uids) -> str:
            return ", ".join(uid_name(u) for u in uids)

        out = [f"no longer accepted: {names(self.classes_removed)}"] if self.classes_removed \
            else []
        out += [f"{uid_name(c)} no longer in {names(ts)}" for c, ts in self.syntaxes_removed.items()]
        out += [f"newly accepted: {names(self.classes_added)}"] if self.classes_added else []
        out += [f"{uid_name(c)} now also in {names(ts)}" for c, ts in self.syntaxes_added.items()]
        return out

    def to_dict(self) -> dict:
        return {"classes_removed": self.classes_removed, "classes_added": self.classes_added,
                "syntaxes_removed": self.syntaxes_removed, "syntaxes_added": self.syntaxes_added}


def context_changes(old: dict[str, list[str]], new: dict[str, list[str]]) -> ContextChanges:
    """What ``new`` accepts differently from ``old`` (both {SOP class: [syntaxes]})."""
    out = ContextChanges(sorted(set(old) - set(new)), sorted(set(new) - set(old)))
    for uid in sorted(set(old) & set(new)):
        gone, came = sorted(set(old[uid]) - set(new[uid])), sorted(set(new[uid]) - set(old[uid]))
        if gone:
            out.syntaxes_removed[uid] = gone
        if came:
            out.syntaxes_added[uid] = came
    return out
