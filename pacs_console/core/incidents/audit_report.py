"""What `audit verify` found: the problems, the anchors checked, and entries written unkeyed."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AuditProblem:
    kind: str  # edited, chain-broken, truncated, changed-outside, deleted-outside, added-outside
    message: str
    audit_id: int | None = None
    entity: str = ""
    entity_id: str = ""


@dataclass(frozen=True)
class AuditReport:
    entries: int
    checked_rows: int
    problems: tuple[AuditProblem, ...] = field(default_factory=tuple)
    anchors: tuple[str, ...] = ()  # what the chain was checked against, in words
    keyed: bool = False  # the chain key was available (entries made with it were checked)
    # Entries written without the key after the chain was keyed (keyring locked or absent).
    # Those before a later keyed entry are covered by its HMAC; the newest ones (``uncovered``)
    # are protected only by the anchors until a change is made with the keyring unlocked.
    unkeyed: tuple[int, ...] = ()
    unkeyed_vouched: int = 0  # how many of them (the oldest) a later keyed entry covers

    @property
    def uncovered(self) -> tuple[int, ...]:
        return self.unkeyed[self.unkeyed_vouched:]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.uncovered

    @property
    def state(self) -> str:
        """'tampered'; 'unkeyed' (no tampering found, but the newest entries were written
        while the keyring was locked and nothing keyed covers them yet); or 'ok'."""
        return "tampered" if self.problems else "unkeyed" if self.uncovered else "ok"

    def unkeyed_text(self) -> str:
        if not self.unkeyed:
            return ""
        text = (f"{len(self.unkeyed)} entries ({_ranges(self.unkeyed)}) were written while "
                "the keyring was locked or absent (plain SHA-256, marked unkeyed)")
        if self.unkeyed_vouched:
            text += (f"; {self.unkeyed_vouched} of them are covered by a keyed entry written "
                     "after them")
        if self.uncovered:
            text += (f"; the newest {len(self.uncovered)} ({_ranges(self.uncovered)}) are not "
                     "protected by the chain key yet: any change made with the keyring "
                     "unlocked covers them")
        return text

    def to_dict(self) -> dict:
        return {"ok": self.ok, "state": self.state, "entries": self.entries,
                "checked_rows": self.checked_rows, "keyed": self.keyed,
                "anchors": list(self.anchors),
                "unkeyed": {"count": len(self.unkeyed), "ids": list(self.unkeyed),
                            "covered_by_keyed": self.unkeyed_vouched,
                            "uncovered_ids": list(self.uncovered), "what": self.unkeyed_text()},
                "problems": [p.__dict__ for p in self.problems]}


def _ranges(ids: tuple[int, ...]) -> str:
    spans: list[list[int]] = []
    for value in ids:
        if spans and value == spans[-1][1] + 1:
            spans[-1][1] = value
        else:
            spans.append([value, value])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)
