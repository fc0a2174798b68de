"""Plain data passed between core and the layers above: progress reports and results."""

from __future__ import annotations

from dataclasses import asdict, dataclass

TYPE_CHECKING = False  # typing itself costs a command line ~3 ms to import
if TYPE_CHECKING:
    from typing import Any


class Plain:
    """For a dataclass whose fields are plain JSON values (or dataclasses of them): its
    ``to_dict()`` is ``dataclasses.asdict``."""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Progress:
    """Yielded by long core generators; ``total`` None means the amount is not known yet."""

    done: int
    total: int | None = None
    message: str = ""
    item: Any = None

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


@dataclass(frozen=True)
class Check:
    """One named check and whether it passed: a line of ``--self-check``, of ``sync check``."""

    name: str
    ok: bool
    detail: str


def drain(generator, items: list | None = None):
    """Run a core generator to its end (keeping what it yields in ``items`` when given);
    its return value."""
    try:
        while True:
            item = next(generator)
            if items is not None:
                items.append(item)
    except StopIteration as stop:
        return stop.value
