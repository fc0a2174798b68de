"""Helpdesk sync: outbox items, incident-to-ticket mapping, events pulled back from the helpdesk."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.String, nullable=False, server_default="")


def upgrade() -> None:
    op.create_table(
        "outbox_item",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(36), nullable=False, unique=True),
        sa.Column("incident_uuid", sa.String(36), nullable=False, index=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id", ondelete="SET NULL"),
                  index=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("device_time", sa.DateTime, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("state", sa.String, nullable=False, server_default="pending", index=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime),
        _text("lease_owner"),
        sa.Column("lease_until", sa.DateTime),
        _text("last_error"),
        sa.Column("diagnosis", sa.JSON),
        _text("remote_ref"),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("done_at", sa.DateTime),
    )
    op.create_index("ix_outbox_item_state_group", "outbox_item", ["state", "incident_uuid", "id"])
    op.create_table(
        "helpdesk_ticket",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id", ondelete="SET NULL"),
                  index=True),
        _text("helpdesk"),
        sa.Column("ticket_id", sa.String, nullable=False),
        _text("remote_status"),
        sa.Column("last_transaction", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("pulled_at", sa.DateTime),
    )
    op.create_table(
        "helpdesk_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"),
                  index=True),
        sa.Column("ticket_id", sa.String, nullable=False, index=True),
        sa.Column("remote_id", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        _text("author"), _text("text"), _text("from_status"), _text("to_status"),
        sa.Column("applied", sa.Boolean, nullable=False, server_default="0"),
        _text("conflict"),
        sa.Column("pulled_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("ticket_id", "remote_id", name="uq_helpdesk_event_remote"),
    )


def downgrade() -> None:
    op.drop_table("helpdesk_event")
    op.drop_table("helpdesk_ticket")
    op.drop_index("ix_outbox_item_state_group", "outbox_item")
    op.drop_table("outbox_item")
