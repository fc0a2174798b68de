"""Articles in `sync` (its text and --json counts: nothing claims success it did not have) and
conflicts answered from the command line (keep mine / take theirs), against the real RT 5."""

from __future__ import annotations

import json

import pytest

from pacs_console.core.context import Context
from pacs_console.core.kb.model import Article
from pacs_console.core.kb.store import create_article, get_article, update_article
from pacs_console.core.sync import helpdesk
from pacs_console.paths import app_paths
from tests.conftest import run_cli
from tests.core.kb.rt_articles import add_article_class


@pytest.fixture
def laptops(tmp_path, rt_peer):
    add_article_class(rt_peer)
    opened = []
    for name in ("tamale", "ho"):
        folder = tmp_path / name
        assert run_cli("helpdesk", "set", "--kind", "rt", "--url", rt_peer.url, "--queue",
                       rt_peer.queue, "--user", rt_peer.user, data_dir=folder,
                       env={"PACS_CONSOLE_HELPDESK_TOKEN": rt_peer.token}).returncode == 0
        opened.append((folder, Context.open(app_paths(folder).ensure())))
    yield opened
    for _folder, ctx in opened:
        ctx.close()


def _sync(folder):
    proc = run_cli("sync", "--json", data_dir=folder)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc


def _conflict(tamale, ho, title: str):
    """An article edited at Ho (and synced), then edited at Tamale before it synced."""
    (t_dir, t_ctx), (h_dir, h_ctx) = tamale, ho
    article = create_article(t_ctx.db, Article(title=title, fix="Recalibrate monthly"))
    assert _sync(t_dir)[0] == 0 and _sync(h_dir)[0] == 0
    copy = get_article(h_ctx.db, article.uuid[:8])
    update_article(h_ctx.db, copy.id, fix="Recalibrate weekly in the rainy season")
    assert _sync(h_dir)[0] == 0
    update_article(t_ctx.db, article.id, fix="Replace the reader's lamp")
    return article, copy


def test_sync_counts_articles_and_never_claims_them_delivered_when_they_are_not(laptops,
                                                                              tmp_path):
    (t_dir, t_ctx), _ho = laptops
    create_article(t_ctx.db, Article(title="Film printer jams on 14x17 trays"))
    dry = json.loads(run_cli("sync", "--dry-run", "--json", data_dir=t_dir).stdout)
    assert dry["articles"]["not_delivered"] == {"articles_pending": 1, "articles_conflict": 0}
    assert dry["ok"] is False
    code, body, proc = _sync(t_dir)
    assert code == 0 and body["ok"] is True, proc.stdout + proc.stderr
    articles = body["articles"]
    assert (articles["sent"], articles["shared"], articles["ok"]) == (1, True, True)
    assert articles["not_delivered"] == {"articles_pending": 0, "articles_conflict": 0}
    text = run_cli("sync", data_dir=t_dir)
    assert text.returncode == 0 and "Articles: sent 0, received 0" in text.stdout

    # The helpdesk unreachable: the article written now is not delivered, and sync says so.
    create_article(t_ctx.db, Article(title="UPS bypass before battery swap"))
    config = helpdesk.load_config(t_ctx)
    env = {"PACS_CONSOLE_HELPDESK_TOKEN": "x"}
    run_cli("helpdesk", "set", "--kind", "rt", "--url", "http://127.0.0.1:9", "--queue",
            config.queue, "--user", config.user, data_dir=t_dir, env=env)
    proc = run_cli("sync", "--json", data_dir=t_dir)
    body = json.loads(proc.stdout)
    assert proc.returncode == 1 and body["ok"] is False
    assert body["articles"]["not_delivered"]["articles_pending"] == 1
    assert not body["articles"]["ok"]


def test_a_conflict_is_shown_side_by_side_and_answered_from_the_command_line(laptops):
    tamale, ho = laptops
    (t_dir, t_ctx), (h_dir, h_ctx) = tamale, ho
    article, copy = _conflict(tamale, ho, "CR plate reader drift, answered on the command line")
    code, body, proc = _sync(t_dir)
    assert code == 1 and body["articles"]["conflicts"] == 1, proc.stdout
    assert body["articles"]["not_delivered"]["articles_conflict"] == 1
    text = run_cli("sync", data_dir=t_dir)
    assert text.returncode == 1 and "changed on both sides" in text.stderr
    assert "kb resolve" in text.stderr
    shown = run_cli("kb", "show", str(article.id), data_dir=t_dir).stdout
    assert "CONFLICT" in shown and "(here | on the helpdesk)" in shown
    assert "here:     Replace the reader's lamp" in shown
    assert "helpdesk: Recalibrate weekly in the rainy season" in shown
    assert "kb resolve" in shown

    done = run_cli("kb", "resolve", str(article.id), "--keep-mine", "--json", data_dir=t_dir)
    assert done.returncode == 0 and json.loads(done.stdout)["sync_state"] == "pending"
    code, body, proc = _sync(t_dir)
    assert code == 0 and body["articles"]["sent"] == 1, proc.stdout + proc.stderr
    assert _sync(h_dir)[0] == 0
    assert get_article(h_ctx.db, copy.id).fix == "Replace the reader's lamp"

    # The other way: Ho edits, Tamale edits too, Tamale takes the helpdesk's version.
    update_article(h_ctx.db, copy.id, fix="Swap the reader for the spare")
    assert _sync(h_dir)[0] == 0
    update_article(t_ctx.db, article.id, fix="Clean the optics")
    assert _sync(t_dir)[0] == 1
    taken = run_cli("kb", "resolve", article.uuid[:8], "--take-theirs", data_dir=t_dir)
    assert taken.returncode == 0 and "helpdesk's version replaced yours" in taken.stdout
    mine = get_article(t_ctx.db, article.id)
    assert mine.fix == "Swap the reader for the spare" and mine.sync_state == "synced"
    code, body, _ = _sync(t_dir)
    assert code == 0 and body["articles"]["sent"] == 0 and body["articles"]["received"] == 0


def test_resolve_without_a_conflict_is_one_line_and_exit_2(laptops):
    (t_dir, t_ctx), _ho = laptops
    article = create_article(t_ctx.db, Article(title="Nothing to resolve"))
    proc = run_cli("kb", "resolve", str(article.id), "--take-theirs", data_dir=t_dir)
    assert proc.returncode == 2 and "not in conflict" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    both = run_cli("kb", "resolve", str(article.id), "--take-theirs", "--keep-mine",
                   data_dir=t_dir)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
