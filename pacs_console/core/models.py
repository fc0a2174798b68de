"""Plain data passed between core and the layers above: progress reports and results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
