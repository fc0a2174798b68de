"""RT Articles (REST 2.0 /articles) for the shared knowledge base, over RTAdapter's plumbing.

Articles live in one class (default 'PACS Field'); their text is in custom fields on the
class (see the README's helpdesk section). RT has no idempotency key for articles, so every
article carries its console UUID in the ArticleKey field and is searched for before creating.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from pacs_console.core.sync.adapters.base import HelpdeskError, permanent
from pacs_console.core.sync.adapters.rt import RTAdapter

ARTICLE_CLASS = "PACS Field"
KEY_FIELD = "ArticleKey"
# Article field -> custom field on the class.
FIELDS = {"symptoms": "Symptoms", "cause": "Cause", "fix": "Fix", "body": "Steps",
          "vendor": "Vendor", "model": "Model", "site": "Site", "author": "Author"}
MAX_FIELD = 64_000


@dataclass(frozen=True)
class RemoteArticle:
    id: str
    key: str
    title: str
    fields: dict[str, str]
    codes: tuple[str, ...]
    attachments: tuple[str, ...]
    updated_at: datetime


def rt_time(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    return datetime.strptime(text.replace("Z", ""), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)


def custom_field_values(item: dict) -> dict[str, str]:
    found = {}
    for field in item.get("CustomFields") or []:
        if isinstance(field, dict) and field.get("name"):
            values = field.get("values") or []
            found[str(field["name"])] = str(values[0] or "")[:MAX_FIELD] if values else ""
    return found


def container_id(adapter: RTAdapter, path: str, what: str, missing: HelpdeskError) -> str:
    """The id of an article class or asset catalog; ``missing`` when it does not exist or is
    not visible (RT answers 403 for both)."""
    try:
        found = str(adapter._call("GET", path, what).json().get("id") or "")
    except HelpdeskError as exc:
        if exc.diagnosis.code not in ("helpdesk-forbidden", "helpdesk-not-found"):
            raise
        found = ""
    if not found:
        raise missing
    return found


class RTArticles:
    def __init__(self, adapter: RTAdapter, article_class: str = ARTICLE_CLASS) -> None:
        self.adapter, self.article_class = adapter, article_class
        self._class_id: str | None = None

    def class_id(self) -> str:
        if self._class_id is None:
            self._class_id = container_id(
                self.adapter, f"/class/{quote(self.article_class)}",
                "Looking up the knowledge-base class", permanent(
                    "helpdesk-no-article-class", f"The helpdesk has no article class "
                    f"{self.article_class!r} this user may see", "Ask the helpdesk admin to "
                    "create it and grant SeeClass (README: Knowledge base)"))
        return self._class_id

    def _search(self, conditions: list[dict], what: str) -> list[dict]:
        conditions = [{"field": "Class", "value": self.class_id()}, *conditions]
        return self.adapter._pages("/articles", what, {
            "query": json.dumps(conditions), "orderby": "id",
            "fields": "Name,Summary,LastUpdated,CustomFields"})

    def find(self, key: str) -> list[str]:
        items = self._search([{"field": f"CustomField.{{{KEY_FIELD}}}", "value": key}],
                             "Searching the helpdesk for the article key")
        return [str(i) for i in sorted({int(item["id"]) for item in items})]

    def _custom_fields(self, article) -> dict[str, str]:
        values = {cf: getattr(article, name) for name, cf in FIELDS.items()}
        values["Codes"] = " ".join(article.codes)
        values["Attachments"] = "\n".join(article.attachments)
        return values

    def create(self, article) -> str:
        answer = self.adapter._call("POST", "/article", "Creating the article", json={
            "Class": self.class_id(), "Name": article.title, "Summary": article.title,
            "CustomFields": {KEY_FIELD: article.uuid, **self._custom_fields(article)}})
        article_id = str(answer.json().get("id") or "")
        if not article_id:
            raise permanent("helpdesk-article-unconfirmed", "The helpdesk did not confirm the "
                            "new article", "Run sync again; the article is searched for first")
        return article_id

    def update(self, remote_id: str, article) -> None:
        self.adapter._call("PUT", f"/article/{remote_id}", "Updating the article", json={
            "Name": article.title, "Summary": article.title,
            "CustomFields": self._custom_fields(article)})

    def get(self, remote_id: str) -> RemoteArticle:
        item = self.adapter._call("GET", f"/article/{remote_id}", "Reading the article").json()
        item.setdefault("id", remote_id)
        return self._remote(item)

    def changed_since(self, when: datetime | None) -> list[RemoteArticle]:
        conditions = []
        if when is not None:
            conditions.append({"field": "LastUpdated", "operator": ">=",
                               "value": when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")})
        return [self._remote(item) for item in self._search(conditions, "Pulling articles")]

    @staticmethod
    def _remote(item: dict) -> RemoteArticle:
        values = custom_field_values(item)
        fields = {name: values.get(cf, "") for name, cf in FIELDS.items()}
        return RemoteArticle(
            id=str(item.get("id")), key=values.get(KEY_FIELD, "").strip(),
            title=str(item.get("Name") or item.get("Summary") or "")[:200], fields=fields,
            codes=tuple(values.get("Codes", "").split()),
            attachments=tuple(a for a in values.get("Attachments", "").splitlines() if a),
            updated_at=rt_time(item.get("LastUpdated")))
