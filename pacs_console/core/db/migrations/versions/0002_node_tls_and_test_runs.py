"""Node TLS settings and capabilities; test runs saved as evidence."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("node") as batch:
        batch.add_column(sa.Column("tls", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("tls_ca_file", sa.String, nullable=False, server_default=""))
        batch.add_column(sa.Column("tls_cert_file", sa.String, nullable=False, server_default=""))
        batch.add_column(sa.Column("tls_key_file", sa.String, nullable=False, server_default=""))
        batch.add_column(sa.Column("tls_server_name", sa.String, nullable=False, server_default=""))
        batch.add_column(sa.Column("capabilities", sa.JSON, nullable=True))
        batch.add_column(sa.Column("capabilities_at", sa.DateTime, nullable=True))
    op.create_table(
        "test_run",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("node_id", sa.Integer, sa.ForeignKey("node.id", ondelete="SET NULL")),
        sa.Column("node_label", sa.String, nullable=False, server_default=""),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False, server_default="0"),
        sa.Column("outcome", sa.String, nullable=False),
        sa.Column("summary", sa.String, nullable=False, server_default=""),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("diagnosis", sa.JSON, nullable=True),
        sa.Column("association", sa.JSON, nullable=True),
    )
    op.create_index("ix_test_run_node_id", "test_run", ["node_id"])
    op.create_index("ix_test_run_started_at", "test_run", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_test_run_started_at", "test_run")
    op.drop_index("ix_test_run_node_id", "test_run")
    op.drop_table("test_run")
    with op.batch_alter_table("node") as batch:
        for name in ("capabilities_at", "capabilities", "tls_server_name", "tls_key_file",
                     "tls_cert_file", "tls_ca_file", "tls"):
            batch.drop_column(name)
