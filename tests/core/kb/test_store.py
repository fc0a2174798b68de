"""Articles in real SQLite: FTS5 search ranked by bm25, suggestions by code, PHI scrubbed."""

from __future__ import annotations

import pytest

from pacs_console.core.kb.model import Article, ArticleProblem
from pacs_console.core.kb.store import (
    ArticleNotFound,
    create_article,
    get_article,
    search,
    suggest,
    update_article,
)


@pytest.fixture
def db(ctx):
    return ctx.db


def test_search_ranks_title_and_code_matches_above_a_body_mention(db):
    body_only = create_article(db, Article(title="Weekly checklist",
                                           body="check the archive listener and the router"))
    titled = create_article(db, Article(title="Archive listener down after power cut",
                                        body="restart the service", codes=("connection-refused",)))
    hits = search(db, "archive listener")
    assert [h.article.id for h in hits] == [titled.id, body_only.id]
    assert hits[0].rank < hits[1].rank and "[" in hits[0].snippet
    assert [h.article.id for h in search(db, "connection-refused")] == [titled.id]
    assert [h.article.id for h in search(db, "listen")] == [titled.id, body_only.id]  # prefix
    assert search(db, "nothing-like-this") == []


def test_fts_syntax_from_the_user_is_words_only(db):
    create_article(db, Article(title="Router NAT blocks 104", body="open port 104 on the router"))
    assert len(search(db, 'router" (( *')) == 1
    assert search(db, "router OR nothing") == []  # OR is a word to find, not an operator
    with pytest.raises(ArticleProblem):
        search(db, '"*()')


def test_edits_are_reindexed_and_codes_follow(db):
    article = create_article(db, Article(title="TLS trust", codes=("tls-untrusted",)))
    update_article(db, article.id, title="Certificate chain missing", codes=["0xA801"])
    assert search(db, "trust") == []
    assert [h.article.id for h in search(db, "chain")] == [article.id]
    assert suggest(db, ["tls-untrusted"]) == []
    assert [s.article.id for s in suggest(db, ["0xa801"])] == [article.id]
    refreshed = get_article(db, article.uuid[:8])
    assert refreshed.updated_at >= article.updated_at and refreshed.codes == ("0xa801",)


def test_suggest_best_first_by_codes_then_vendor(db):
    one = create_article(db, Article(title="AE typo", codes=("called-ae-rejected",)))
    two = create_article(db, Article(title="AE list on Orthanc", vendor="Orthanc",
                                     codes=("called-ae-rejected",)))
    both = create_article(db, Article(title="AE and calling", site="Ho Teaching Hospital",
                                      codes=("called-ae-rejected", "calling-ae-rejected")))
    found = suggest(db, ["Called-AE-Rejected", "calling-ae-rejected"], vendor="Orthanc project")
    assert [s.article.id for s in found] == [both.id, two.id, one.id]
    assert found[0].matched_codes == ("called-ae-rejected", "calling-ae-rejected")
    assert found[1].vendor_match and not found[2].vendor_match
    assert found[0].where_and_when().startswith("Ho Teaching Hospital, ")
    # A node's fingerprint alone (an incident opened on it) finds the vendor's articles.
    assert [s.article.id for s in suggest(db, [], vendor="Orthanc")] == [two.id]


def test_patient_identities_never_enter_an_article(db):
    article = create_article(db, Article(
        title="Worklist PatientName=DOE^JANE wrong", symptoms="(0010,0020) LO [12345678] seen",
        body="PatientID: 998877 then query again"))
    text = " ".join((article.title, article.symptoms, article.body))
    assert "DOE" not in text and "12345678" not in text and "998877" not in text
    assert search(db, "998877") == [] and search(db, "JANE") == []


def test_bad_input_is_refused_with_one_line(db):
    for bad in (Article(title="  "), Article(title="x", codes=("no spaces allowed",)),
                Article(title="x" * 201), Article(title="x", origin="elsewhere")):
        with pytest.raises(ArticleProblem) as caught:
            create_article(db, bad)
        assert "\n" not in str(caught.value)
    with pytest.raises(ArticleNotFound):
        get_article(db, 42)
