"""RT records kept in one named container (articles in a class, assets in a catalog).

RT has no idempotency key for articles or assets, so every record carries the console's key in
a custom field and is searched for before creating; ``RTRecords`` is that search, the reads and
the pull of changes, shared by ``rt_articles`` and ``rt_assets`` over RTAdapter's plumbing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

from pacs_console.core.sync.adapters.base import HelpdeskError
from pacs_console.core.sync.adapters.rt import RTAdapter

MAX_VALUE = 64_000  # characters kept of one custom field value


def rt_time(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    return datetime.strptime(text.replace("Z", ""), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)


def custom_field_values(item: dict) -> dict[str, str]:
    """The first value of each custom field of a record, at most MAX_VALUE characters."""
    found = {}
    for field in item.get("CustomFields") or []:
        if isinstance(field, dict) and field.get("name"):
            values = field.get("values") or []
            found[str(field["name"])] = str(values[0] or "")[:MAX_VALUE] if values else ""
    return found


class RTRecords:
    """One kind of RT record in one container. A subclass names the kind, its container, the
    custom field with the console's key and the fields a search returns, and turns an RT item
    into its own record (``_remote``)."""

    kind = ""  # the REST name of one record: "article", "asset"
    container_kind = ""  # the REST name of the container: "class", "catalog"
    container_field = ""  # the search field naming the container: "Class", "Catalog"
    key_field = ""
    search_fields = ""
    looking_up = ""  # what the container look-up is called in a diagnosis
    pulling = ""  # what a pull is called in a diagnosis

    def __init__(self, adapter: RTAdapter, container: str) -> None:
        self.adapter, self.container = adapter, container
        self._container_id: str | None = None

    def _missing(self) -> HelpdeskError:
        """The error when the container does not exist or this user may not see it."""
        raise NotImplementedError

    def _remote(self, item: dict):
        raise NotImplementedError

    def _live(self, item: dict) -> bool:
        """Whether a record found by a search still counts (not retired)."""
        return True

    def container_id(self) -> str:
        """The container's id; ``_missing()`` when it does not exist or is not visible (RT
        answers 403 for both)."""
        if self._container_id is None:
            try:
                found = str(self.adapter._call(
                    "GET", f"/{self.container_kind}/{quote(self.container)}",
                    self.looking_up).json().get("id") or "")
            except HelpdeskError as exc:
                if exc.diagnosis.code not in ("helpdesk-forbidden", "helpdesk-not-found"):
                    raise
                found = ""
            if not found:
                raise self._missing()
            self._container_id = found
        return self._container_id

    def _search(self, conditions: list[dict], what: str) -> list[dict]:
        conditions = [{"field": self.container_field, "value": self.container_id()},
                      *conditions]
        return self.adapter._pages(f"/{self.kind}s", what, {
            "query": json.dumps(conditions), "orderby": "id", "fields": self.search_fields})

    def find(self, key: str) -> list[str]:
        items = self._search([{"field": f"CustomField.{{{self.key_field}}}", "value": key}],
                             f"Searching the helpdesk for the {self.kind} key")
        return [str(i) for i in sorted({int(item["id"]) for item in items if self._live(item)})]

    def get(self, remote_id: str):
        item = self.adapter._call("GET", f"/{self.kind}/{remote_id}",
                                  f"Reading the {self.kind}").json()
        item.setdefault("id", remote_id)
        return self._remote(item)

    def changed_since(self, when: datetime | None) -> list:
        conditions = []
        if when is not None:
            conditions.append({"field": "LastUpdated", "operator": ">=",
                               "value": when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")})
        return [self._remote(item) for item in self._search(conditions, self.pulling)
                if self._live(item)]
