"""A report signed offline gets its document timestamp when sync finds the helpdesk again."""

from __future__ import annotations

from pathlib import Path

from pacs_console.core.models import drain
from pacs_console.core.reports.verify import verify_file
from pacs_console.core.settings import updated
from pacs_console.core.sync import helpdesk
from pacs_console.core.sync.adapters.base import HelpdeskConfig
from tests.core.reports.test_sign_verify import build
from tests.core.reports.tsa import LoopbackTsa


def test_sync_adds_the_pending_document_timestamp(ctx, visit, rt_peer):
    offline = build(ctx, visit, tsa_url="http://127.0.0.1:9/tsa")  # nothing listens: offline
    assert offline.signed and offline.timestamp_pending
    helpdesk.save_config(ctx, HelpdeskConfig(kind="rt", url=rt_peer.url, queue=rt_peer.queue,
                                             user=rt_peer.user, timeout=10.0), rt_peer.token)
    with LoopbackTsa() as url:
        ctx.save_settings(updated(ctx.settings, extra={**ctx.settings.extra, "tsa_url": url}))
        result = drain(helpdesk.sync_once(ctx))
    assert result.timestamped == 1 and not result.timestamp_problem
    later = verify_file(Path(offline.path))
    assert later.ok and [s.kind for s in later.signatures] == ["signature", "document-timestamp"]


def test_a_tsa_that_is_down_does_not_fail_the_sync(ctx, visit, rt_peer):
    offline = build(ctx, visit, tsa_url="http://127.0.0.1:9/tsa")
    helpdesk.save_config(ctx, HelpdeskConfig(kind="rt", url=rt_peer.url, queue=rt_peer.queue,
                                             user=rt_peer.user, timeout=10.0), rt_peer.token)
    ctx.save_settings(updated(ctx.settings, extra={**ctx.settings.extra,
                                                   "tsa_url": "http://127.0.0.1:9/tsa"}))
    result = drain(helpdesk.sync_once(ctx))
    assert result.timestamped == 0 and result.timestamp_problem
    assert result.drain is not None and not result.drain.failures
    assert Path(offline.path).exists()
