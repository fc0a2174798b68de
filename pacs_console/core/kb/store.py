"""Saving, finding and suggesting articles: SQLite FTS5 ranked with bm25, codes in their own index."""

from __future__ import annotations

import json
import re
import uuid as uuid_module
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from pacs_console.core.db.engine import Database
from pacs_console.core.kb.model import Article, ArticleProblem, scrub, valid_codes

_COLUMNS = ("id", "uuid", "title", "symptoms", "body", "cause", "fix", "codes_text", "vendor",
            "model", "attachments", "origin", "author", "site", "incident_uuid", "created_at",
            "updated_at", "remote_id", "sync_state")
_SELECT = ", ".join(f"a.{c}" for c in _COLUMNS)
# bm25 weights in the FTS column order: title, symptoms, body, cause, fix, codes, vendor, model.
_BM25 = "bm25(kb_article_fts, 10.0, 6.0, 1.0, 3.0, 3.0, 8.0, 4.0, 4.0)"
MAX_QUERY = 500
_WORD_RE = re.compile(r"\w+", re.UNICODE)


class ArticleNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Hit:
    article: Article
    rank: float  # bm25: lower is better
    snippet: str

    def to_dict(self) -> dict:
        return {**self.article.to_dict(), "rank": round(self.rank, 4), "snippet": self.snippet}


@dataclass(frozen=True)
class Suggestion:
    article: Article
    matched_codes: tuple[str, ...]
    vendor_match: bool

    def where_and_when(self) -> str:
        a = self.article
        when = f"{a.updated_at:%Y-%m-%d}" if a.updated_at else "undated"
        where = a.site or ("the helpdesk" if a.origin == "helpdesk" else "this laptop")
        return f"{where}, {when}"

    def line(self) -> str:
        return f"#{self.article.id} {self.article.title} ({self.where_and_when()})"

    def to_dict(self) -> dict:
        return {**self.article.to_dict(), "matched_codes": list(self.matched_codes),
                "vendor_match": self.vendor_match, "where_and_when": self.where_and_when()}


def _now() -> datetime:
    return datetime.now(UTC)


def _time(value) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _article(row) -> Article:
    data = dict(zip(_COLUMNS, row, strict=False))
    codes = tuple(data.pop("codes_text").split())
    attachments = data.pop("attachments")
    attachments = json.loads(attachments) if isinstance(attachments, str) else attachments
    data["created_at"], data["updated_at"] = _time(data["created_at"]), _time(data["updated_at"])
    return Article(codes=codes, attachments=tuple(attachments or ()), **data)


def _values(article: Article) -> dict:
    return {"title": article.title, "symptoms": article.symptoms, "body": article.body,
            "cause": article.cause, "fix": article.fix, "codes_text": " ".join(article.codes),
            "vendor": article.vendor, "model": article.model,
            "attachments": json.dumps(list(article.attachments)), "origin": article.origin,
            "author": article.author, "site": article.site,
            "incident_uuid": article.incident_uuid, "remote_id": article.remote_id,
            "sync_state": article.sync_state}


def _insert(connection, article: Article) -> int:
    article = article.cleaned()
    now = _now()
    values = _values(article)
    values.update(uuid=article.uuid or str(uuid_module.uuid4()),
                  created_at=(article.created_at or now).isoformat(),
                  updated_at=(article.updated_at or now).isoformat())
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    cursor = connection.exec_driver_sql(f"INSERT INTO kb_article ({names}) VALUES ({marks})",
                                        tuple(values.values()))
    article_id = cursor.lastrowid
    _set_codes(connection, article_id, article.codes)
    return article_id


def _set_codes(connection, article_id: int, codes: Iterable[str]) -> None:
    connection.exec_driver_sql("DELETE FROM kb_article_code WHERE article_id = ?", (article_id,))
    rows = [(article_id, code) for code in codes]
    if rows:
        connection.exec_driver_sql(
            "INSERT INTO kb_article_code (article_id, code) VALUES (?, ?)", rows)


def create_article(db: Database, article: Article) -> Article:
    with db.engine.begin() as connection:
        article_id = _insert(connection, article)
    return get_article(db, article_id)


def create_articles(db: Database, articles: Iterable[Article]) -> int:
    """Many articles in one transaction (an import, or the first pull from the helpdesk)."""
    count = 0
    with db.engine.begin() as connection:
        for article in articles:
            _insert(connection, article)
            count += 1
        if count >= 500:  # merge the index's segments after a bulk load: faster searches
            connection.exec_driver_sql(
                "INSERT INTO kb_article_fts(kb_article_fts) VALUES ('optimize')")
    return count


def update_article(db: Database, ref: int | str, **changes) -> Article:
    """Change fields of an article; stamps updated_at unless one is given."""
    current = get_article(db, ref)
    if "codes" in changes:
        changes["codes"] = tuple(changes["codes"])
    if "attachments" in changes:
        changes["attachments"] = tuple(changes["attachments"])
    changes.setdefault("sync_state", "pending")  # a local edit goes to the helpdesk
    article = replace(current, **changes).cleaned()
    values = _values(article)
    values["updated_at"] = (changes.get("updated_at") or _now()).isoformat()
    assignments = ", ".join(f"{name} = ?" for name in values)
    with db.engine.begin() as connection:
        connection.exec_driver_sql(f"UPDATE kb_article SET {assignments} WHERE id = ?",
                                   (*values.values(), current.id))
        _set_codes(connection, current.id, article.codes)
    return get_article(db, current.id)


def get_article(db: Database, ref: int | str) -> Article:
    """By number, UUID or a UUID prefix of at least 6 characters."""
    text = str(ref).strip().lstrip("#")
    is_prefix = len(text) >= 6 and re.fullmatch(r"[0-9a-fA-F-]+", text) is not None
    if not text.isdigit() and not is_prefix:
        raise ArticleProblem(f"{ref!r} is not an article number or UUID")
    rows = []
    with db.engine.connect() as connection:
        if text.isdigit():
            rows = connection.exec_driver_sql(
                f"SELECT {_SELECT} FROM kb_article a WHERE a.id = ?", (int(text),)).all()
        if not rows and is_prefix:  # a UUID prefix may be all digits, too
            rows = connection.exec_driver_sql(
                f"SELECT {_SELECT} FROM kb_article a WHERE a.uuid LIKE ? LIMIT 2",
                (text.lower() + "%",)).all()
    if len(rows) != 1:
        raise ArticleNotFound(f"no article {ref!r}" if not rows else f"{ref!r} is ambiguous")
    return _article(rows[0])


def list_articles(db: Database, *, limit: int | None = None) -> list[Article]:
    sql = f"SELECT {_SELECT} FROM kb_article a ORDER BY a.updated_at DESC, a.id DESC"
    with db.engine.connect() as connection:
        if limit:
            return [_article(r) for r in connection.exec_driver_sql(sql + " LIMIT ?", (limit,))]
        return [_article(r) for r in connection.exec_driver_sql(sql)]


def fts_query(text: str) -> str:
    """Words of the user's text as quoted FTS5 terms, all required, the last one also as a
    prefix (search as you type): no FTS syntax from the user reaches SQLite, so no input
    can raise an FTS5 syntax error."""
    if len(text) > MAX_QUERY:
        raise ArticleProblem(f"search text longer than {MAX_QUERY} characters")
    words = _WORD_RE.findall(text)
    if not words:
        raise ArticleProblem("search text has no words to look for")
    words = words[:32]
    return " ".join([f'"{w}"' for w in words[:-1]] + [f'"{words[-1]}"*'])


def _articles_by_id(connection, ids: Sequence[int]) -> dict[int, Article]:
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = connection.exec_driver_sql(
        f"SELECT {_SELECT} FROM kb_article a WHERE a.id IN ({marks})", tuple(ids))
    return {r[0]: _article(r) for r in rows}


def search(db: Database, text: str, *, limit: int = 20) -> list[Hit]:
    """Best first (bm25 with title, codes and symptoms weighted above the body). Ranks and
    highlights on the index alone (SQLite computes snippets only for the rows kept), then
    reads just that page of articles."""
    query = fts_query(text)
    limit = max(1, min(limit, 500))
    with db.engine.connect() as connection:
        ranked = connection.exec_driver_sql(
            f"SELECT rowid, {_BM25} AS rank, "
            "snippet(kb_article_fts, -1, '[', ']', '...', 12) FROM kb_article_fts "
            "WHERE kb_article_fts MATCH ? ORDER BY rank LIMIT ?", (query, limit)).all()
        articles = _articles_by_id(connection, [r[0] for r in ranked])
    return [Hit(articles[i], float(rank), snippet or "") for i, rank, snippet in ranked
            if i in articles]


def _vendor_matches(article_vendor: str, vendor: str | None) -> bool:
    a, v = (article_vendor or "").strip().lower(), (vendor or "").strip().lower()
    return bool(a and v and (a in v or v in a))


_VENDOR_SQL = ("(a.vendor != '' AND ? != '' AND (instr(lower(?), lower(a.vendor)) > 0 "
               "OR instr(lower(a.vendor), lower(?)) > 0))")


def suggest(db: Database, codes: Sequence[str], vendor: str | None = None, *,
            limit: int = 5) -> list[Suggestion]:
    """Articles for diagnosis codes (and/or a node's vendor), best first: most codes matched,
    then same vendor, then most recently updated. Malformed codes are ignored."""
    wanted = list(dict.fromkeys(valid_codes(codes)))
    vendor = scrub(vendor or "")
    vendor_params = (vendor, vendor, vendor)
    limit = max(1, min(limit, 100))
    with db.engine.connect() as connection:
        if wanted:
            marks = ", ".join("?" for _ in wanted)
            rows = connection.exec_driver_sql(
                f"SELECT a.id, group_concat(c.code, ' ') FROM kb_article_code c "
                f"JOIN kb_article a ON a.id = c.article_id WHERE c.code IN ({marks}) "
                f"GROUP BY a.id ORDER BY count(*) DESC, {_VENDOR_SQL} DESC, a.updated_at DESC, "
                "a.id LIMIT ?", (*wanted, *vendor_params, limit)).all()
        elif vendor:
            rows = connection.exec_driver_sql(
                f"SELECT a.id, '' FROM kb_article a WHERE {_VENDOR_SQL} "
                "ORDER BY a.updated_at DESC, a.id LIMIT ?", (*vendor_params, limit)).all()
        else:
            return []
        articles = _articles_by_id(connection, [r[0] for r in rows])
    return [Suggestion(articles[i], tuple(sorted((matched or "").split())),
                       _vendor_matches(articles[i].vendor, vendor)) for i, matched in rows]


def known_fixes_line(suggestions: Sequence[Suggestion]) -> str:
    """The one line the CLI prints after a diagnosis; empty when nothing matches."""
    if not suggestions:
        return ""
    return "Known fixes: " + "; ".join(s.line() for s in suggestions)
