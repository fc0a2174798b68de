"""Knowledge base: articles, their diagnosis codes, and an FTS5 index ranked with bm25."""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TEXT_COLUMNS = ("title", "symptoms", "body", "cause", "fix", "codes_text", "vendor", "model")


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.String, nullable=False, server_default="")


def upgrade() -> None:
    op.create_table(
        "kb_article",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        _text("title"), _text("symptoms"), _text("body"), _text("cause"), _text("fix"),
        _text("codes_text"),  # the diagnosis codes, space separated, for the full-text index
        _text("vendor"), _text("model"),
        sa.Column("attachments", sa.JSON, nullable=False, server_default="[]"),
        sa.Column("origin", sa.String, nullable=False, server_default="local"),
        _text("author"), _text("site"), _text("incident_uuid"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        _text("remote_id"),  # the helpdesk's article id once shared
        sa.Column("remote_synced_at", sa.DateTime),
        # pending: local change to send; synced; conflict: changed on both sides (remote_copy
        # holds the helpdesk's version to show side by side). remote_updated: the helpdesk's
        # LastUpdated of the version this laptop has (server clock, for incremental pulls).
        sa.Column("sync_state", sa.String, nullable=False, server_default="pending",
                  index=True),
        _text("remote_updated"),
        _text("remote_digest"),  # digest of the helpdesk version last seen: edits are content
        sa.Column("remote_copy", sa.JSON),
    )
    op.create_table(
        "kb_article_code",
        sa.Column("article_id", sa.Integer, sa.ForeignKey("kb_article.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("code", sa.String, primary_key=True),
    )
    op.create_index("ix_kb_article_code_code", "kb_article_code", ["code"])
    columns = ", ".join(_TEXT_COLUMNS)
    new_values = ", ".join(f"new.{c}" for c in _TEXT_COLUMNS)
    old_values = ", ".join(f"old.{c}" for c in _TEXT_COLUMNS)
    op.execute(f"CREATE VIRTUAL TABLE kb_article_fts USING fts5({columns}, "
               "content='kb_article', content_rowid='id', tokenize='unicode61')")
    op.execute(f"CREATE TRIGGER kb_article_ai AFTER INSERT ON kb_article BEGIN "
               f"INSERT INTO kb_article_fts(rowid, {columns}) VALUES (new.id, {new_values}); END")
    op.execute(f"CREATE TRIGGER kb_article_ad AFTER DELETE ON kb_article BEGIN "
               f"INSERT INTO kb_article_fts(kb_article_fts, rowid, {columns}) "
               f"VALUES ('delete', old.id, {old_values}); END")
    op.execute(f"CREATE TRIGGER kb_article_au AFTER UPDATE ON kb_article BEGIN "
               f"INSERT INTO kb_article_fts(kb_article_fts, rowid, {columns}) "
               f"VALUES ('delete', old.id, {old_values}); "
               f"INSERT INTO kb_article_fts(rowid, {columns}) VALUES (new.id, {new_values}); END")


def downgrade() -> None:
    for trigger in ("kb_article_au", "kb_article_ad", "kb_article_ai"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS kb_article_fts")
    op.drop_index("ix_kb_article_code_code", "kb_article_code")
    op.drop_table("kb_article_code")
    op.drop_table("kb_article")
