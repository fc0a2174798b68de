"""Site business calendars; visits, incidents, timelines, attachments, maintenance, audit log."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Word-prefix search: one FTS5 document per incident (rowid = incident id) holding its fields
# and, appended by triggers, the text of its timeline. unicode61 rather than trigram: common
# trigrams made two-word searches ten times slower.
_FTS = [
    "CREATE VIRTUAL TABLE incident_fts USING fts5(body, notes, "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    """CREATE TRIGGER incident_fts_ai AFTER INSERT ON incident BEGIN
        INSERT INTO incident_fts(rowid, body, notes) VALUES (new.id,
            new.title || ' ' || new.description || ' ' || new.reporter || ' ' || new.contact, '');
    END""",
    """CREATE TRIGGER incident_fts_au AFTER UPDATE OF title, description, reporter, contact
        ON incident BEGIN
        UPDATE incident_fts SET body = new.title || ' ' || new.description || ' ' ||
            new.reporter || ' ' || new.contact WHERE rowid = new.id;
    END""",
    """CREATE TRIGGER incident_fts_ad AFTER DELETE ON incident BEGIN
        DELETE FROM incident_fts WHERE rowid = old.id;
    END""",
    """CREATE TRIGGER timeline_fts_ai AFTER INSERT ON timeline_entry WHEN new.text != '' BEGIN
        UPDATE incident_fts SET notes = notes || ' ' || new.text WHERE rowid = new.incident_id;
    END""",
    """CREATE TRIGGER timeline_fts_ad AFTER DELETE ON timeline_entry BEGIN
        UPDATE incident_fts SET notes = coalesce((SELECT group_concat(text, ' ')
            FROM timeline_entry WHERE incident_id = old.incident_id), '')
            WHERE rowid = old.incident_id;
    END""",
]


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True)


def _uuid() -> sa.Column:
    return sa.Column("uuid", sa.String(36), nullable=False, unique=True)


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.String, nullable=False, server_default="")


def upgrade() -> None:
    with op.batch_alter_table("site") as batch:
        batch.add_column(_text("address"))
        batch.add_column(_text("contacts"))
        batch.add_column(sa.Column("timezone", sa.String, nullable=False,
                                   server_default="Africa/Accra"))
        batch.add_column(sa.Column("business_hours", sa.JSON, nullable=True))
        batch.add_column(sa.Column("holiday_country", sa.String, nullable=False,
                                   server_default="GH"))
        batch.add_column(sa.Column("closed_days", sa.JSON, nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime, nullable=True))
    op.create_table(
        "visit", _id(), _uuid(),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False, index=True),
        _text("engineer"), _text("purpose"), _text("notes"),
        sa.Column("arrived_at", sa.DateTime, nullable=False),
        sa.Column("departed_at", sa.DateTime, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "incident", _id(), _uuid(),
        sa.Column("title", sa.String, nullable=False), _text("description"),
        sa.Column("severity", sa.String, nullable=False, index=True),
        sa.Column("category", sa.String, nullable=False, server_default="other"),
        sa.Column("status", sa.String, nullable=False, server_default="new", index=True),
        _text("hold_reason"), _text("status_before_hold"),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id", ondelete="SET NULL"),
                  index=True),
        sa.Column("source_test_run_id", sa.Integer,
                  sa.ForeignKey("test_run.id", ondelete="SET NULL")),
        _text("reporter"), _text("contact"), _text("created_by"),
        sa.Column("reported_at", sa.DateTime, nullable=False, index=True),
        sa.Column("acknowledged_at", sa.DateTime, nullable=True),
        sa.Column("resolved_at", sa.DateTime, nullable=True),
        sa.Column("closed_at", sa.DateTime, nullable=True),
        sa.Column("response_due_at", sa.DateTime, nullable=False, index=True),
        sa.Column("clock_offset_s", sa.Float, nullable=False, server_default="0"),
        sa.Column("device_utc_offset_min", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "incident_node", _id(),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("node_id", sa.Integer, sa.ForeignKey("node.id", ondelete="SET NULL"),
                  index=True),
        _text("node_label"),
    )
    op.create_table(
        "visit_incident",
        sa.Column("visit_id", sa.Integer, sa.ForeignKey("visit.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"),
                  primary_key=True, index=True),
    )
    op.create_table(
        "attachment", _id(),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("filename", sa.String, nullable=False),
        sa.Column("media_type", sa.String, nullable=False,
                  server_default="application/octet-stream"),
        sa.Column("size", sa.Integer, nullable=False, server_default="0"),
        sa.Column("added_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "timeline_entry", _id(),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("clock_offset_s", sa.Float, nullable=False, server_default="0"),
        sa.Column("kind", sa.String, nullable=False),
        _text("author"), _text("text"), _text("from_status"), _text("to_status"),
        sa.Column("test_run_id", sa.Integer, sa.ForeignKey("test_run.id", ondelete="SET NULL")),
        sa.Column("attachment_id", sa.Integer,
                  sa.ForeignKey("attachment.id", ondelete="SET NULL")),
    )
    op.create_table(
        "maintenance_window", _id(),
        sa.Column("node_id", sa.Integer, sa.ForeignKey("node.id", ondelete="CASCADE"),
                  index=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id", ondelete="CASCADE"),
                  index=True),
        sa.Column("starts_at", sa.DateTime, nullable=False),
        sa.Column("ends_at", sa.DateTime, nullable=False),
        _text("reason"),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "audit_log", _id(),
        sa.Column("at", sa.DateTime, nullable=False),
        _text("actor"),
        sa.Column("action", sa.String, nullable=False),
        sa.Column("entity", sa.String, nullable=False),
        _text("entity_id"), _text("before_digest"), _text("after_digest"), _text("detail"),
        _text("prev_hash"), _text("hash"),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"])
    for statement in _FTS:
        op.execute(statement)


def downgrade() -> None:
    for trigger in ("timeline_fts_ad", "timeline_fts_ai", "incident_fts_ad", "incident_fts_au",
                    "incident_fts_ai"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS incident_fts")
    op.drop_index("ix_audit_log_entity", "audit_log")
    for table in ("audit_log", "maintenance_window", "timeline_entry", "attachment",
                  "visit_incident", "incident_node", "incident", "visit"):
        op.drop_table(table)
    with op.batch_alter_table("site") as batch:
        for name in ("updated_at", "closed_days", "holiday_country", "business_hours",
                     "timezone", "contacts", "address"):
            batch.drop_column(name)
