"""Failures an engineer can act on: what failed, the likely cause, what to try, and the evidence."""

from __future__ import annotations

from dataclasses import asdict, field

from pacs_console.core.records import record


@record(frozen=True)
class Diagnosis:
    """A plain-language explanation of one failure; ``code`` is stable for scripts and tests."""

    code: str
    what: str
    causes: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    evidence: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        lines = [self.what]
        if self.causes:
            lines.append("Likely cause: " + "; ".join(self.causes))
        if self.actions:
            lines.append("What to try: " + "; ".join(self.actions))
        for key, value in self.evidence.items():
            lines.append(f"  {key}: {value}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["causes"], data["actions"] = list(self.causes), list(self.actions)
        return data


class ConsoleError(Exception):
    """An error carrying a Diagnosis, raised by core operations instead of bare exceptions."""

    def __init__(self, diagnosis: Diagnosis) -> None:
        super().__init__(diagnosis.what)
        self.diagnosis = diagnosis
