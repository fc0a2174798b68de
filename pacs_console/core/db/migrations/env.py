"""Alembic environment: runs on the connection the console hands it, never on a URL of its own."""

from alembic import context
from sqlmodel import SQLModel

from pacs_console.core.db import tables  # noqa: F401  (registers the tables on the metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("PACS Console migrations run through pacs_console.core.db.engine.upgrade()")

# render_as_batch: SQLite cannot ALTER most things in place; batch mode copies the table.
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
