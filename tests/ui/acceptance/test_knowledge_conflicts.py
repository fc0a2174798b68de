"""Articles in the Sync panel (Sync now shares them; the header never says 'All delivered'
while one is unsent or in conflict) and a conflict answered in the Knowledge panel, side by
side, with Keep mine / Take theirs, against the real Request Tracker 5."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QTableWidget

from pacs_console.core.context import Context
from pacs_console.core.kb.model import Article
from pacs_console.core.kb.store import create_article, get_article, update_article
from pacs_console.core.sync import helpdesk
from pacs_console.core.sync.adapters.base import HelpdeskConfig
from pacs_console.paths import app_paths
from tests.core.kb.rt_articles import add_article_class
from tests.core.sync.conftest import run


def _configure(ctx, rt_peer) -> None:
    helpdesk.save_config(ctx, HelpdeskConfig(kind="rt", url=rt_peer.url, queue=rt_peer.queue,
                                             user=rt_peer.user, timeout=10.0), rt_peer.token)


def sync_now(console, result: str = "Articles:") -> str:
    """Go to the Sync panel, press Sync now (once no automatic sync runs), wait for the line
    that says what it did."""
    sync = console.choose_nav("Sync")
    button = console.find(name="sync-now", parent=sync)
    console.wait_for(button.isEnabled, 60, "Sync now enabled (an automatic sync may run)")
    console.click(button)
    message = console.find(QLabel, "sync-message", sync)
    console.wait_for(lambda: button.isEnabled() and result in message.text(), 60,
                     "the sync's result", observe=message.text)
    return message.text()


def _counts(console) -> str:
    return console.find(QLabel, "sync-counts", console.panel("Sync")).text()


def test_sync_now_shares_articles_and_a_conflict_is_answered_side_by_side(console, rt_peer,
                                                                        tmp_path):
    add_article_class(rt_peer)
    ctx = console.ctx
    _configure(ctx, rt_peer)
    article = create_article(ctx.db, Article(title="CR plate reader drift, answered in the panel",
                                             fix="Recalibrate monthly"))
    console.choose_nav("Sync")
    console.wait_for(lambda: "All delivered" in _counts(console)
                     or "article(s) not sent" in _counts(console), 30, "the header's counts",
                     observe=lambda: _counts(console))
    text = sync_now(console)
    assert "Articles: sent" in text
    console.wait_for(lambda: "All delivered" in _counts(console), 30, "everything delivered",
                     observe=lambda: _counts(console))
    assert get_article(ctx.db, article.id).sync_state == "synced"

    # A colleague at Ho edits it (their laptop, synced), and it is edited here too.
    ho = Context.open(app_paths(tmp_path / "ho").ensure())
    try:
        _configure(ho, rt_peer)
        run(helpdesk.sync_once(ho))
        theirs = get_article(ho.db, article.uuid[:8])
        update_article(ho.db, theirs.id, fix="Recalibrate weekly in the rainy season")
        assert run(helpdesk.sync_once(ho)).articles.sent == 1
    finally:
        ho.close()
    update_article(ctx.db, article.id, fix="Replace the reader's lamp")
    sync_now(console)
    console.wait_for(lambda: "1 article(s) in conflict" in _counts(console), 30,
                     "the conflict counted as not delivered", observe=lambda: _counts(console))
    assert "All delivered" not in _counts(console)

    knowledge = console.choose_nav("Knowledge")
    results = console.find(QListWidget, "kb-results", knowledge)
    # The helpdesk also holds the team's other articles (this laptop pulled them): search.
    console.type_into(console.find(QLineEdit, "kb-search", knowledge), "plate reader drift",
                      enter=True)
    row = console.wait_for(lambda: next((i + 1 for i in range(results.count()) if (
        "CR plate reader drift, answered in the panel" in results.item(i).text())), None), 10,
        "the article listed", observe=lambda: [results.item(i).text()
                                               for i in range(results.count())])
    console.click_row(results, row - 1)
    table = console.wait_for(lambda: [t for t in knowledge.findChildren(
        QTableWidget, "kb-conflict-table") if t.isVisible()], 10, "the side-by-side view")[0]
    rows = console.rows(table)
    assert ["fix", "Replace the reader's lamp", "Recalibrate weekly in the rainy season"] in rows
    assert table.horizontalHeaderItem(1).text() == "Here (mine)"
    console.click_button("Keep mine", knowledge)
    console.wait_text(console.find(name="kb-status", parent=knowledge), "your version is kept")
    console.wait_for(lambda: not table.isVisible(), 10, "the conflict view gone")

    # Sync now (the answer may already have gone with an automatic sync the change woke).
    text = sync_now(console)
    assert "Articles: sent" in text, text
    console.wait_for(lambda: "All delivered" in _counts(console), 30, "everything delivered",
                     observe=lambda: _counts(console))
    assert get_article(ctx.db, article.id).sync_state == "synced"
    ho = Context.open(app_paths(tmp_path / "ho").ensure())
    try:  # the colleague's next sync brings the version kept here
        run(helpdesk.sync_once(ho))
        assert get_article(ho.db, article.uuid[:8]).fix == "Replace the reader's lamp"
    finally:
        ho.close()
