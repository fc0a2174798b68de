"""RT Assets (REST 2.0 /assets) for the shared site inventory, over RTAdapter's plumbing.

Each site node is one asset in one catalog (default 'PACS Sites'); its DICOM details are custom
fields on the catalog (see the README's helpdesk section). RT has no idempotency key for
assets, so every asset carries its console key in the AssetKey field and is searched for
before creating, as tickets and articles are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pacs_console.core.sync.adapters.base import HelpdeskError, permanent
from pacs_console.core.sync.adapters.rt import RTAdapter
from pacs_console.core.sync.adapters.rt_records import RTRecords, custom_field_values, rt_time

CATALOG = "PACS Sites"
KEY_FIELD = "AssetKey"
# Snapshot field -> custom field on the catalog (the asset's Name is the node's name).
FIELDS = {"site": "Site", "ae_title": "AETitle", "host": "Host", "port": "Port",
          "role": "Role", "vendor": "Vendor", "capabilities": "Capabilities",
          "last_seen": "LastSeen", "cert_expiry": "CertExpiry"}
# Snapshot field -> the asset's own (core) field: no catalog set-up needed.
CORE = {"state": "Description"}  # "Not answering at the sweep of ..." for a node gone
MAX_FIELD = 4_000
GONE = "Not answering at the sweep of"  # how the console's own part of a Description begins
_PARTS = " | "
DESCRIPTION_MAX = 255  # RT keeps an asset's Description in a varchar(255)


def description(theirs: str, ours: str | None) -> str:
    """An asset's Description with the console's word on the node (``ours``: "" when it
    answers, None when no pushed sweep said anything) first, and whatever else the office
    wrote there kept after it."""
    if ours is None:
        return theirs
    kept = [p for p in theirs.split(_PARTS) if p.strip() and not p.startswith(GONE)]
    return _PARTS.join(filter(None, [ours, *kept]))[:DESCRIPTION_MAX].strip()


@dataclass(frozen=True)
class RemoteAsset:
    id: str
    key: str
    snapshot: dict[str, str]  # name and FIELDS, as text
    updated_at: datetime
    updated_by: str
    status: str


class RTAssets(RTRecords):
    kind, container_kind, container_field = "asset", "catalog", "Catalog"
    key_field = KEY_FIELD
    search_fields = "Name,Description,Status,LastUpdated,LastUpdatedBy,CustomFields"
    looking_up, pulling = "Looking up the site inventory catalog", "Pulling site assets"

    def __init__(self, adapter: RTAdapter, catalog: str = CATALOG) -> None:
        super().__init__(adapter, catalog)

    def _missing(self) -> HelpdeskError:
        return permanent("helpdesk-no-asset-catalog", f"The helpdesk has no asset catalog "
                         f"{self.container!r} this user may see", "Ask the helpdesk admin to "
                         "create it and grant ShowCatalog, ShowAsset, CreateAsset, ModifyAsset "
                         "(README: Shared site inventory)")

    def _live(self, item: dict) -> bool:
        return item.get("Status") != "deleted"

    @staticmethod
    def _custom_fields(snapshot: dict) -> dict[str, str]:
        return {cf: str(snapshot.get(name, ""))[:MAX_FIELD] for name, cf in FIELDS.items()}

    @staticmethod
    def _core(snapshot: dict) -> dict[str, str]:
        return {field: str(snapshot.get(name, ""))[:MAX_FIELD] for name, field in CORE.items()}

    def create(self, key: str, snapshot: dict) -> str:
        answer = self.adapter._call("POST", "/asset", "Creating the asset", json={
            "Catalog": self.container_id(), "Name": snapshot["name"], **self._core(snapshot),
            "CustomFields": {KEY_FIELD: key, **self._custom_fields(snapshot)}})
        asset_id = str(answer.json().get("id") or "")
        if not asset_id:
            raise permanent("helpdesk-asset-unconfirmed", "The helpdesk did not confirm the "
                            "new asset", "Run sync again; the asset is searched for first")
        return asset_id

    def update(self, asset_id: str, snapshot: dict) -> None:
        self.adapter._call("PUT", f"/asset/{asset_id}", "Updating the asset", json={
            "Name": snapshot["name"], **self._core(snapshot),
            "CustomFields": self._custom_fields(snapshot)})

    def linked(self, asset_id: str, ticket: str) -> bool:
        """Whether the asset is referred to by the ticket (read from its _hyperlinks)."""
        item = self.adapter._call("GET", f"/asset/{asset_id}", "Reading the asset's links").json()
        return any(link.get("ref") == "referred-to-by" and link.get("type") == "ticket"
                   and str(link.get("id")) == str(ticket)
                   for link in item.get("_hyperlinks") or [] if isinstance(link, dict))

    def link_ticket(self, asset_id: str, ticket: str) -> None:
        """The ticket refers to the asset (RT keeps one such link: repeating is harmless);
        trusted only once read back, as RT answers 200 to a link it refused."""
        if self.linked(asset_id, ticket):
            return
        answer = self.adapter._call("PUT", f"/ticket/{ticket}", f"Linking ticket {ticket} to "
                                    f"asset {asset_id}", json={"AddRefersTo": [f"asset:{asset_id}"]})
        if not self.linked(asset_id, ticket):
            raise permanent("helpdesk-link-refused", f"Ticket {ticket} was not linked to asset "
                            f"{asset_id}", "Check the API user's ModifyTicket right on the "
                            "queue and ShowAsset on the catalog",
                            answer="; ".join(self.adapter._messages(answer))[:300])

    def retire(self, asset_id: str) -> None:
        """A duplicate made by a create whose answer was lost: marked deleted (RT keeps it)."""
        self.adapter._call("PUT", f"/asset/{asset_id}", f"Retiring duplicate asset {asset_id}",
                           json={"Status": "deleted"})

    def _remote(self, item: dict) -> RemoteAsset:
        values = custom_field_values(item)
        snapshot = {"name": str(item.get("Name") or "")[:200]}
        snapshot.update({name: values.get(cf, "")[:MAX_FIELD] for name, cf in FIELDS.items()})
        snapshot.update({name: str(item.get(field) or "").strip()[:MAX_FIELD]
                         for name, field in CORE.items()})
        by = item.get("LastUpdatedBy")
        return RemoteAsset(id=str(item.get("id")), key=values.get(KEY_FIELD, "").strip(),
                           snapshot=snapshot, updated_at=rt_time(item.get("LastUpdated")),
                           updated_by=str(by.get("id") if isinstance(by, dict) else by or ""),
                           status=str(item.get("Status") or ""))
