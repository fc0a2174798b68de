"""Two laptops (two data folders) sharing articles through the real Request Tracker 5."""

from __future__ import annotations

import json

import pytest

from pacs_console.core.kb.model import Article
from pacs_console.core.kb.store import create_article, get_article, search, update_article
from pacs_console.core.sync import helpdesk
from pacs_console.core.sync.adapters.rt_articles import RTArticles
from pacs_console.core.sync.articles import conflict_copy, sync_articles
from tests.conftest import run_cli
from tests.core.kb.rt_articles import ARTICLE_CLASS, add_article_class
from tests.core.sync.conftest import cli_laptop, laptops_on


@pytest.fixture
def laptops(tmp_path, rt_peer):
    add_article_class(rt_peer)
    with laptops_on(tmp_path, rt_peer) as opened:
        yield opened


def _sync(ctx):
    adapter = helpdesk.adapter(ctx)
    try:
        return sync_articles(ctx.db, RTArticles(adapter, ARTICLE_CLASS),
                             base_url=adapter.config.url)
    finally:
        adapter.close()


def _remote_with_key(rt_peer, key: str) -> list[int]:
    query = json.dumps([{"field": "CustomField.{ArticleKey}", "value": key}])
    with rt_peer.client(rt_peer.office_token) as client:
        items = client.get("/articles", params={"query": query}).json()["items"]
    return sorted(int(i["id"]) for i in items)


def test_an_article_written_offline_appears_on_the_other_laptop_exactly_once(laptops, rt_peer):
    tamale, ho = laptops
    written = create_article(tamale.db, Article(
        title="Worklist empty after RIS upgrade", symptoms="MWL C-FIND returns 0 matches",
        fix="Re-enable the scheduled station AE filter", codes=("0xA801", "mwl-empty"),
        vendor="Orthanc project", author="ama", site="Tamale Teaching Hospital"))
    first = _sync(tamale)
    assert (first.sent, first.errors) == (1, [])
    again = _sync(tamale)  # nothing pending, its own article coming back is not news
    assert (again.sent, again.received, again.conflicts) == (0, 0, 0)
    assert len(_remote_with_key(rt_peer, written.uuid)) == 1

    pulled = _sync(ho)
    assert pulled.received >= 1 and not pulled.errors
    copy = get_article(ho.db, written.uuid[:8])
    assert copy.title == written.title and copy.origin == "helpdesk"
    assert copy.codes == ("0xa801", "mwl-empty") and "station AE" in copy.fix
    assert copy.site == "Tamale Teaching Hospital" and copy.sync_state == "synced"
    assert [h.article.uuid for h in search(ho.db, "worklist RIS")] == [written.uuid]
    assert _sync(ho).received == 0  # exactly once on the other laptop too
    assert len(_remote_with_key(rt_peer, written.uuid)) == 1

    # An edit made at Ho travels back to Tamale.
    update_article(ho.db, copy.id, fix="Re-enable the AE filter; restart the MWL service")
    assert _sync(ho).sent == 1
    back = _sync(tamale)
    assert back.received == 1 and back.conflicts == 0
    assert "restart the MWL service" in get_article(tamale.db, written.id).fix


def test_a_create_whose_answer_was_lost_is_found_not_repeated(laptops, rt_peer):
    tamale, _ho = laptops
    article = create_article(tamale.db, Article(title="Router NAT drops C-MOVE back-connections"))
    adapter = helpdesk.adapter(tamale)
    try:  # the create reached RT but the laptop died before recording it
        RTArticles(adapter, ARTICLE_CLASS).create(article)
    finally:
        adapter.close()
    assert get_article(tamale.db, article.id).remote_id == ""
    result = _sync(tamale)
    assert result.sent == 1 and not result.errors
    assert len(_remote_with_key(rt_peer, article.uuid)) == 1
    assert get_article(tamale.db, article.id).remote_id == str(
        _remote_with_key(rt_peer, article.uuid)[0])


def test_edits_on_both_sides_are_a_conflict_shown_side_by_side(laptops, rt_peer):
    tamale, ho = laptops
    article = create_article(tamale.db, Article(title="CR reader calibration drift",
                                                fix="Recalibrate monthly"))
    _sync(tamale)
    _sync(ho)
    theirs = get_article(ho.db, article.uuid[:8])
    update_article(ho.db, theirs.id, fix="Recalibrate weekly in the rainy season")
    _sync(ho)
    update_article(tamale.db, article.id, fix="Replace the reader's lamp")
    result = _sync(tamale)
    assert result.conflicts == 1
    mine = get_article(tamale.db, article.id)
    assert mine.sync_state == "conflict" and mine.fix == "Replace the reader's lamp"
    assert conflict_copy(tamale.db, article.id)["fix"] == "Recalibrate weekly in the rainy season"
    shown = run_cli("kb", "show", str(article.id), data_dir=tamale.paths.data.parent)
    assert "Replace the reader's lamp" in shown.stdout and "CONFLICT" in shown.stdout
    assert "Recalibrate weekly in the rainy season" in shown.stdout


def test_kb_sync_from_the_command_line(tmp_path, rt_peer):
    add_article_class(rt_peer)
    env = {"PACS_CONSOLE_HELPDESK_TOKEN": rt_peer.token}
    data = tmp_path / "cli"
    assert run_cli("helpdesk", "set", "--kind", "rt", "--url", rt_peer.url, "--queue",
                   rt_peer.queue, "--user", rt_peer.user, data_dir=data, env=env).returncode == 0
    made = json.loads(run_cli("kb", "new", "--title", "Printer film jam SOP", "--body",
                              "Open tray B", "--json", data_dir=data).stdout)
    done = run_cli("kb", "sync", "--json", data_dir=data, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["sent"] == 1
    assert len(_remote_with_key(rt_peer, made["uuid"])) == 1
    run_cli("kb", "new", "--title", "Film processor temperature SOP", data_dir=data)
    both = run_cli("sync", data_dir=data, env=env)  # tickets and articles in one sync
    assert both.returncode == 0, both.stdout + both.stderr
    assert "Articles: sent 1, received 0" in both.stdout and "Delivered 0" in both.stdout
    missing = run_cli("kb", "sync", "--class", "No Such Class", data_dir=data, env=env)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "no article class 'No Such Class'" in missing.stdout


def test_kb_sync_killed_with_sigkill_mid_way_leaves_no_duplicate(tmp_path, rt_peer):
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    from pacs_console.core.kb.store import create_articles, list_articles
    from tests.conftest import ROOT

    add_article_class(rt_peer)
    data = tmp_path / "killed"
    with cli_laptop(data, rt_peer) as (ctx, env):
        total = create_articles(ctx.db, (Article(title=f"SIGKILL article {n}",
                                                 fix=f"step {n}") for n in range(40)))
        args = [sys.executable, "-m", "pacs_console", "--data-dir", str(data), "kb", "sync"]
        def synced() -> int:
            return sum(a.sync_state == "synced" for a in list_articles(ctx.db))

        # Kill each run just after it has delivered something (plus a random moment), so every
        # kill lands mid-way, however fast the helpdesk answers on this machine.
        rng, kills = random.Random(21), 0
        while kills < 6:
            before = synced()
            child = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while child.poll() is None and synced() == before and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.15))
            if child.poll() is not None:
                break  # it finished before this kill
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
            kills += 1
        assert kills >= 2, "the sync finished before it was killed"
        final = run_cli("kb", "sync", "--json", data_dir=data, env=env)
        assert final.returncode == 0, final.stdout + final.stderr
        everything = list_articles(ctx.db)
        assert {a.sync_state for a in everything} == {"synced"}
        articles = [a for a in everything if a.origin != "helpdesk"]  # the team's come too
        assert len(articles) == total
        for article in articles:
            assert _remote_with_key(rt_peer, article.uuid) == [int(article.remote_id)]
        assert ctx.db.integrity_ok()


def test_a_laptop_that_sends_before_its_first_pull_still_gets_the_teams_older_articles(
        laptops, rt_peer):
    """Sync sends first, then pulls. The pull must not start from the time of what this laptop
    just sent: the team's articles are older than that and would never arrive."""
    tamale, ho = laptops
    older = [create_article(tamale.db, Article(
        title=f"Archive {n} refuses stores after a disk swap", symptoms="C-STORE 0xA700",
        fix=f"Free space on volume {n}", codes=("0xA700",), author="ama")) for n in range(3)]
    assert _sync(tamale).sent == 3
    create_article(ho.db, Article(title="Ho: worklist empty on Mondays", symptoms="MWL 0 rows",
                                  fix="Restart the RIS bridge", codes=("mwl-empty",),
                                  author="kofi"))
    first = _sync(ho)  # sends its own article (newest on the helpdesk), then pulls
    assert first.sent == 1 and not first.errors, first
    for article in older:
        assert get_article(ho.db, article.uuid[:8]).title == article.title
    again = _sync(ho)
    assert (again.sent, again.received, again.conflicts) == (0, 0, 0)
