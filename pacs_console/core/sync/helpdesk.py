"""The configured helpdesk: settings, the token in the keyring, one sync pass (push then pull)."""

from __future__ import annotations

import os
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pacs_console.core.context import Context
from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.models import Progress
from pacs_console.core.settings import updated
from pacs_console.core.sync.adapters import make_adapter
from pacs_console.core.sync.adapters.base import TOKEN_SECRET, Adapter, HelpdeskConfig

# The database layer (outbox, runner, pull-back) loads on first use: the Sync panel reads the
# settings through this module while the window is still starting.
if TYPE_CHECKING:
    from pacs_console.core.sync.articles import ArticleSyncResult
    from pacs_console.core.sync.inventory import InventoryResult
    from pacs_console.core.sync.runner import Backoff, DrainResult
    from pacs_console.core.sync.tickets import PullResult

TOKEN_ENV = "PACS_CONSOLE_HELPDESK_TOKEN"


def load_config(ctx: Context) -> HelpdeskConfig:
    return HelpdeskConfig.from_dict(ctx.settings.extra.get("helpdesk"))


def save_config(ctx: Context, config: HelpdeskConfig, token: str | None = None) -> bool:
    """Store the settings (no secret in them) and, if given, the token in the keyring.
    Returns whether the token will survive a restart (False: session memory only)."""
    extra = {**ctx.settings.extra, "helpdesk": config.to_dict()}
    ctx.save_settings(updated(ctx.settings, extra=extra))
    if token:
        return ctx.secrets.set(TOKEN_SECRET, token)
    return ctx.secrets.persistent


def token(ctx: Context) -> str | None:
    """The keyring's token; the environment variable serves scripts and CI without a keyring."""
    return ctx.secrets.get(TOKEN_SECRET) or os.environ.get(TOKEN_ENV) or None


def token_stored(ctx: Context) -> bool:
    return ctx.secrets.has(TOKEN_SECRET)


def not_configured() -> ConsoleError:
    return ConsoleError(Diagnosis(
        "helpdesk-not-configured", "No helpdesk is set up yet", (),
        ("Enter URL, queue, user and API token on the Sync panel, or run `pacs-console "
         "helpdesk set --kind rt --url URL --queue QUEUE --user USER`",)))


def adapter(ctx: Context) -> Adapter:
    config = load_config(ctx)
    if not config.configured:
        raise not_configured()
    secret = token(ctx)
    if not secret:
        raise ConsoleError(Diagnosis(
            "helpdesk-no-token", "No helpdesk API token is stored", (),
            ("Enter it on the Sync panel or with `pacs-console helpdesk set` (standard input "
             f"or {TOKEN_ENV})",)))
    return make_adapter(config, secret)


@dataclass
class SyncResult:
    drain: DrainResult | None = None
    pull: PullResult | None = None
    dry_run: list[dict] = field(default_factory=list)
    timestamped: int = 0  # reports signed offline that got their document timestamp now
    timestamp_problem: str = ""
    articles: ArticleSyncResult | None = None  # knowledge articles, both ways
    articles_note: str = ""  # why articles were not shared (no article class on the helpdesk)
    articles_left: dict = field(default_factory=dict)  # articles not at the helpdesk after it
    inventory: InventoryResult | None = None  # site nodes as assets, both ways
    inventory_note: str = ""  # why the inventory was not shared (no asset catalog)

    @property
    def inventory_ok(self) -> bool:
        """No inventory error and no node in conflict (its items count with the outbox)."""
        inventory = self.inventory
        return not (inventory and (inventory.errors or inventory.open_conflicts))

    @property
    def articles_ok(self) -> bool:
        """Articles went and came back without error and none is left unsent or in conflict
        (a helpdesk without the article class is a note, not a failure)."""
        return not (self.articles and self.articles.errors) and not any(
            self.articles_left.values())

    def articles_dict(self) -> dict:
        counts = self.articles.to_dict() if self.articles else {
            "sent": 0, "received": 0, "conflicts": 0, "duplicates_found": 0, "errors": []}
        return {**counts, "shared": self.articles is not None, "note": self.articles_note,
                "not_delivered": self.articles_left, "ok": self.articles_ok}

    def to_dict(self) -> dict:
        return {"drain": self.drain.to_dict() if self.drain else None,
                "pull": self.pull.to_dict() if self.pull else None,
                "would_send": self.dry_run, "timestamped_reports": self.timestamped,
                "timestamp_problem": self.timestamp_problem, "articles": self.articles_dict(),
                "inventory": {**(self.inventory.to_dict() if self.inventory else {}),
                              "shared": self.inventory is not None,
                              "note": self.inventory_note}}


def plan(ctx: Context) -> list[dict]:
    """What a sync would send now, in order (nothing is claimed or sent)."""
    from pacs_console.core.sync import outbox

    outbox.reclaim_dead(ctx.db)  # a killed sync's items are due now, not in flight
    items = sorted(outbox.list_items(ctx.db, ("pending", "in_flight", "failed"), limit=100_000),
                   key=lambda i: i.id)
    blocked: set[str] = set()
    heads = []
    for item in items:
        if item.incident_uuid in blocked:
            continue
        blocked.add(item.incident_uuid)
        heads.append({**item.to_dict(), "blocked": item.state == "failed"})
    return heads


def sync_once(ctx: Context, *, dry_run: bool = False, workers: int | None = None,
              wait_s: float = 0.0,
              backoff: Backoff | None = None) -> Generator[Progress, None, SyncResult]:
    """Push the outbox, then pull status and replies back. Long work: a generator."""
    from pacs_console.core.sync.runner import drain
    from pacs_console.core.sync.tickets import pull

    result = SyncResult()
    if dry_run:
        from pacs_console.core.sync.articles import unsent

        result.dry_run, result.articles_left = plan(ctx), unsent(ctx.db)
        return result
    client = adapter(ctx)
    try:
        _queue_inventory(ctx, client, result)
        result.drain = yield from drain(ctx.db, client, attachments_dir=ctx.paths.data /
                                        "attachments", wait_s=wait_s,
                                        workers=workers or max(1, client.config.workers),
                                        backoff=backoff)
        if not result.drain.stopped:
            result.pull = yield from pull(ctx.db, client)
            yield from _share_articles(ctx, client, result)
            yield from _pull_inventory(ctx, client, result)
            yield from _timestamp_reports(ctx, result)
    finally:
        client.close()
    from pacs_console.core.sync.articles import unsent

    result.articles_left = unsent(ctx.db)
    return result


def _queue_inventory(ctx: Context, client: Adapter, result: SyncResult) -> None:
    """Site nodes changed since the last sync go into the outbox, to be drained with the
    rest; a helpdesk without the asset catalog is a note, and nothing is queued."""
    from pacs_console.core.sync import inventory
    from pacs_console.core.sync.adapters.base import HelpdeskError

    try:
        inventory.remote_for(client).container_id()
    except HelpdeskError as exc:  # no catalog, or the helpdesk not answering: the drain says
        result.inventory_note = f"Site inventory not shared: {exc.diagnosis.what}"
        return
    result.inventory = inventory.InventoryResult(queued=inventory.queue_changes(ctx.db))


def _pull_inventory(ctx: Context, client: Adapter, result: SyncResult):
    from pacs_console.core.sync import inventory

    if result.inventory is None:
        return
    yield Progress(0, None, "Pulling the site inventory")
    inventory.pull(ctx.db, inventory.remote_for(client), result.inventory,
                   base_url=client.config.url)


def _share_articles(ctx: Context, client: Adapter, result: SyncResult):
    """Knowledge articles go out and come back with every sync (the CLI's and Sync now)."""
    from pacs_console.core.sync.adapters.rt_articles import RTArticles
    from pacs_console.core.sync.articles import sync_articles

    yield Progress(0, None, "Sharing knowledge articles")
    files_dir = ctx.paths.data / "kb-files"
    shared = sync_articles(ctx.db, RTArticles(client, files_dir=files_dir),
                           base_url=client.config.url)
    missing = [e for e in shared.errors if e.get("code") == "helpdesk-no-article-class"]
    if missing:
        result.articles_note = f"Articles not shared: {missing[0]['what']}"
        return
    result.articles = shared
    yield Progress(1, 1, f"Articles: sent {shared.sent}, received {shared.received}")


def _timestamp_reports(ctx: Context, result: SyncResult):
    """Connectivity is back: reports signed offline get the RFC 3161 document timestamp now."""
    url = (ctx.settings.extra or {}).get("tsa_url")
    if not url:
        return
    from pacs_console.core.errors import ConsoleError
    from pacs_console.core.reports.sign import timestamper_for
    from pacs_console.core.reports.store import timestamp_pending

    try:
        result.timestamped = yield from timestamp_pending(ctx.paths.data, timestamper_for(url))
    except ConsoleError as exc:
        # The time-stamping authority being down must not fail the helpdesk sync itself.
        result.timestamp_problem = exc.diagnosis.what
