"""RT Articles (REST 2.0 /articles) for the shared knowledge base, over RTAdapter's plumbing.

Articles live in one class (default 'PACS Field'); their text is in custom fields on the
class (see the README's helpdesk section). RT has no idempotency key for articles, so every
article carries its console UUID in the ArticleKey field and is searched for before creating.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from pacs_console.core.sync.adapters.base import HelpdeskError, permanent, transient
from pacs_console.core.sync.adapters.rt import RTAdapter
from pacs_console.core.sync.adapters.rt_records import RTRecords, custom_field_values, rt_time

ARTICLE_CLASS = "PACS Field"
KEY_FIELD = "ArticleKey"
FILES_FIELD = "Files"  # Binary custom field holding the article's files
# Article field -> custom field on the class.
FIELDS = {"symptoms": "Symptoms", "cause": "Cause", "fix": "Fix", "body": "Steps",
          "vendor": "Vendor", "model": "Model", "site": "Site", "author": "Author"}


@dataclass(frozen=True)
class RemoteArticle:
    id: str
    key: str
    title: str
    fields: dict[str, str]
    codes: tuple[str, ...]
    attachments: tuple[str, ...]
    updated_at: datetime
    files: tuple[tuple[str, str], ...] = ()  # (file name, download URL) of the Files field


class RTArticles(RTRecords):
    """``files_dir``: where this laptop keeps article files (core/kb/files.py); with it the
    files go out in the class's Files field (Binary, several values) and come back."""

    kind, container_kind, container_field = "article", "class", "Class"
    key_field, search_fields = KEY_FIELD, "Name,Summary,LastUpdated,CustomFields"
    looking_up, pulling = "Looking up the knowledge-base class", "Pulling articles"

    def __init__(self, adapter: RTAdapter, article_class: str = ARTICLE_CLASS,
                 files_dir: Path | None = None) -> None:
        super().__init__(adapter, article_class)
        self.files_dir = files_dir

    def _missing(self) -> HelpdeskError:
        return permanent("helpdesk-no-article-class", f"The helpdesk has no article class "
                         f"{self.container!r} this user may see", "Ask the helpdesk admin to "
                         "create it and grant SeeClass (README: Knowledge base)")

    def _custom_fields(self, article) -> dict[str, str]:
        values = {cf: getattr(article, name) for name, cf in FIELDS.items()}
        values["Codes"] = " ".join(article.codes)
        values["Attachments"] = "\n".join(article.attachments)
        if self.files_dir is not None:
            from pacs_console.core.kb import files

            kept = [f for f in (files.read(self.files_dir, a) for a in article.attachments) if f]
            values[FILES_FIELD] = [{"FileName": name, "FileType": files.media_type(name),
                                    "FileContent": base64.b64encode(data).decode()}
                                   for name, data in kept]
        return values

    def download(self, url: str, limit: int) -> bytes:
        """One file of the Files field, from this helpdesk only, at most ``limit`` bytes."""
        base = self.adapter.config.url.rstrip("/") + "/REST/2.0/download/cf/"
        if not url.startswith(base) or not url[len(base):].isdigit():
            raise permanent("helpdesk-file-url", "The helpdesk named a file somewhere else",
                            "Look at the article on the helpdesk", url=url[:200])
        data = bytearray()
        try:  # read in chunks and stop past the limit: never more than that in memory
            with self.adapter.client.stream("GET", url) as answer:
                if answer.status_code >= 400:
                    raise permanent("helpdesk-file-missing", f"The helpdesk answered HTTP "
                                    f"{answer.status_code} for an article file",
                                    "Look at the article on the helpdesk", url=url)
                for chunk in answer.iter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise permanent("helpdesk-file-too-big", "An article file is larger "
                                        f"than {limit} bytes", "Make the file smaller on the "
                                        "helpdesk", url=url)
        except httpx.HTTPError as exc:
            raise transient("helpdesk-unreachable", f"Downloading an article file: "
                            f"{type(exc).__name__}", ambiguous=False) from exc
        return bytes(data)

    def create(self, article) -> str:
        answer = self.adapter._call("POST", "/article", "Creating the article", json={
            "Class": self.container_id(), "Name": article.title, "Summary": article.title,
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

    @staticmethod
    def _files(item: dict) -> tuple[tuple[str, str], ...]:
        found = []
        for field in item.get("CustomFields") or []:
            if isinstance(field, dict) and field.get("name") == FILES_FIELD:
                found += [(str(v.get("filename") or ""), str(v.get("_url") or ""))
                          for v in (field.get("values") or []) if isinstance(v, dict)]
        return tuple(found[:20])

    def _remote(self, item: dict) -> RemoteArticle:
        values = custom_field_values(item)
        fields = {name: values.get(cf, "") for name, cf in FIELDS.items()}
        return RemoteArticle(
            id=str(item.get("id")), key=values.get(KEY_FIELD, "").strip(),
            title=str(item.get("Name") or item.get("Summary") or "")[:200], fields=fields,
            codes=tuple(values.get("Codes", "").split()),
            attachments=tuple(a for a in values.get("Attachments", "").splitlines() if a),
            updated_at=rt_time(item.get("LastUpdated")), files=self._files(item))
