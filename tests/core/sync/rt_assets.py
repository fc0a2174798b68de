"""What a helpdesk admin sets up in Request Tracker for the shared site inventory (the README's
"Site inventory in RT" section says the same): an asset catalog 'PACS Sites', its custom
fields, and the API user's rights on them. Inserted into the running test RT with RT's own
rt-setup-database, the way an admin would load an initialdata file."""

from __future__ import annotations

CATALOG = "PACS Sites"
ASSET_FIELDS = ("AssetKey", "Site", "AETitle", "Host", "Port", "Role", "Vendor",
                "Capabilities", "LastSeen", "CertExpiry")
INVENTORY_DATA = """\
@Catalogs = ({{ Name => '{catalog}', Description => 'PACS Console site inventory',
               Lifecycle => 'assets' }});
@CustomFields = (
{fields}
);
@ACL = (
  map({{ UserId => '{user}', ObjectType => 'RT::Catalog', ObjectId => '{catalog}',
         Right => $_ }}, qw(ShowCatalog ShowAsset CreateAsset ModifyAsset)),
  map({{ UserId => '{user}', Right => $_ }}, qw(SeeCustomField ModifyCustomField)),
);
1;
"""


def add_asset_catalog(peer) -> None:
    """The catalog, fields and rights on the session's RT peer (idempotent per session)."""
    fields = ",\n".join(
        f"  {{ Name => '{name}', Type => 'FreeformSingle', "
        f"LookupType => 'RT::Catalog-RT::Asset', ApplyTo => ['{CATALOG}'] }}"
        for name in ASSET_FIELDS)
    peer.insert("inventory", INVENTORY_DATA.format(catalog=CATALOG, user=peer.user,
                                                   fields=fields))
