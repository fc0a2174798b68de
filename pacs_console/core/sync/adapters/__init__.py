"""Helpdesk adapters behind one interface; ``make_adapter`` picks one by kind."""

from __future__ import annotations

from pacs_console.core.sync.adapters.base import Adapter, HelpdeskConfig

KINDS = ("rt",)


def make_adapter(config: HelpdeskConfig, token: str) -> Adapter:
    if config.kind == "rt":
        from pacs_console.core.sync.adapters.rt import RTAdapter

        return RTAdapter(config, token)
    from pacs_console.core.sync.adapters.base import permanent

    raise permanent("helpdesk-kind", f"Unknown helpdesk kind {config.kind!r}",
                    "Set it up again with --kind " + " or ".join(KINDS))
