"""Discovery sweeps per site and their findings (the site inventory)."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.String, nullable=False, server_default="")


def upgrade() -> None:
    op.create_table(
        "sweep",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id", ondelete="CASCADE"),
                  index=True),
        sa.Column("started_at", sa.DateTime, nullable=False, index=True),
        sa.Column("duration_s", sa.Float, nullable=False, server_default="0"),
        _text("targets"),
        sa.Column("ports", sa.JSON, nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("hosts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        _text("engineer"),
    )
    op.create_table(
        "sweep_finding",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sweep_id", sa.Integer, sa.ForeignKey("sweep.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("host", sa.String, nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("service", sa.String, nullable=False, server_default="dicom"),
        sa.Column("verdict", sa.String, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False, server_default="0"),
        _text("ae_title"), _text("ae_source"),
        sa.Column("guesses", sa.Integer, nullable=False, server_default="0"),
        _text("implementation_class_uid"), _text("implementation_version_name"),
        _text("vendor"), _text("product"), _text("version"), _text("confidence"),
        _text("dicomweb_url"), _text("detail"),
    )


def downgrade() -> None:
    op.drop_table("sweep_finding")
    op.drop_table("sweep")
