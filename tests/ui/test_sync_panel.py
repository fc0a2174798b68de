"""The Sync panel against a real RT: credentials form, Test connection, Sync now, retry/cancel."""

from __future__ import annotations

from pacs_console.core.incidents import service
from pacs_console.core.sync import helpdesk, outbox
from pacs_console.core.sync.adapters.base import TOKEN_SECRET, HelpdeskConfig
from pacs_console.ui.panels.sync import SyncPanel


def _panel(qtbot, ctx) -> SyncPanel:
    panel = SyncPanel(ctx, interval_ms=3_600_000)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def test_credentials_form_shows_whether_a_token_is_stored_never_its_value(qtbot, ctx, rt_peer):
    ctx.secrets.delete(TOKEN_SECRET)  # the test keyring lives for the whole session
    panel = _panel(qtbot, ctx)
    assert panel.token_state.text() == "No token stored"
    panel.url_edit.setText(rt_peer.url)
    panel.queue_edit.setText(rt_peer.queue)
    panel.user_edit.setText(rt_peer.user)
    panel.token_edit.setText(rt_peer.token)
    panel.save_button.click()
    assert helpdesk.token(ctx) == rt_peer.token
    assert panel.token_edit.text() == "" and panel.token_state.text().startswith("Token stored")
    assert rt_peer.token not in panel.token_edit.placeholderText()
    panel.test_button.click()
    qtbot.waitUntil(lambda: "Helpdesk ready" in panel.message.text(), timeout=30000)


def test_sync_now_drains_and_the_status_bar_feed_reports(qtbot, ctx, rt_peer):
    helpdesk.save_config(ctx, HelpdeskConfig(url=rt_peer.url, queue=rt_peer.queue,
                                             user=rt_peer.user), rt_peer.token)
    record = service.create_incident(ctx.db, title="Panel sync", severity="high")
    service.add_note(ctx.db, record.id, "seen from the panel")
    panel = _panel(qtbot, ctx)
    feed = []
    panel.status_changed.connect(lambda text, pending: feed.append((text, pending)))
    # The first tick finds the helpdesk online with items pending and drains by itself.
    qtbot.waitUntil(lambda: outbox.counts(ctx.db)["done"] == 2, timeout=60000)
    qtbot.waitUntil(lambda: panel.sync_worker is None, timeout=30000)
    panel.filter.setCurrentText("Done")
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=10000)
    panel.tick()
    qtbot.waitUntil(lambda: feed and feed[-1] == (feed[-1][0], 0)
                    and feed[-1][0].startswith("online"), timeout=10000)


def test_failed_item_shows_its_action_and_retry_cancel_work(qtbot, ctx, rt_peer):
    helpdesk.save_config(ctx, HelpdeskConfig(url=rt_peer.url, queue="Nope", user=rt_peer.user),
                         rt_peer.token)
    service.create_incident(ctx.db, title="Wrong queue", severity="low")
    panel = _panel(qtbot, ctx)
    qtbot.waitUntil(lambda: outbox.counts(ctx.db)["failed"] == 1, timeout=60000)
    qtbot.waitUntil(lambda: panel.sync_worker is None, timeout=30000)
    assert "queue" in panel.message.text().lower()
    panel.filter.setCurrentText("Failed")
    # The table shows the new filter's rows once its snapshot arrives (not the previous ones).
    qtbot.waitUntil(lambda: [r["State"] for r in panel.model.rows] == ["failed"], timeout=10000)
    assert "Check the queue name" in panel.model.rows[0]["Error"]
    panel.table.selectRow(0)
    panel.cancel_button.click()
    assert outbox.counts(ctx.db)["cancelled"] == 1
    panel.filter.setCurrentText("Cancelled")
    qtbot.waitUntil(lambda: [r["State"] for r in panel.model.rows] == ["cancelled"],
                    timeout=10000)
    panel.table.selectRow(0)
    panel.retry_button.click()
    assert outbox.counts(ctx.db)["pending"] == 1
