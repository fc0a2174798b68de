"""Shared site inventory: each site node's asset on the helpdesk (RT Assets) and its sync state."""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.String, nullable=False, server_default="")


def upgrade() -> None:
    op.create_table(
        "site_asset",
        sa.Column("id", sa.Integer, primary_key=True),
        # The asset's identity on every laptop and on the helpdesk (its AssetKey field).
        sa.Column("key", sa.String(36), nullable=False, unique=True),
        sa.Column("node_id", sa.Integer, sa.ForeignKey("node.id", ondelete="SET NULL"),
                  index=True),
        _text("remote_id"),  # the helpdesk's asset id once known
        _text("queued_digest"),  # the node's state last put in the outbox
        _text("remote_digest"),  # the helpdesk's version last seen (the base of a conflict)
        _text("remote_updated"),  # its LastUpdated (server clock, for incremental pulls)
        _text("remote_by"),  # who last changed it there
        # synced; conflict: changed here and there (remote_copy holds the helpdesk's version)
        sa.Column("sync_state", sa.String, nullable=False, server_default="synced"),
        sa.Column("remote_copy", sa.JSON),
        _text("origin"),  # local, or helpdesk (added by a colleague or the office)
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("site_asset")
