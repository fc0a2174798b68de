"""Local tables that mirror helpdesk records (kb_article, site_asset): their rows, the RT time
stamp they keep, and the changes since the last pull."""

from __future__ import annotations

from datetime import UTC, datetime

from pacs_console.core.db.engine import Database
from pacs_console.core.sync.adapters.base import HelpdeskError

RT_STAMP = "%Y-%m-%d %H:%M:%S"  # RT's LastUpdated, as the remote_updated column keeps it


def rows(db: Database, sql: str, params: tuple = ()) -> list:
    with db.engine.connect() as connection:
        return connection.exec_driver_sql(sql, params).all()


def stamp(remote) -> str:
    """A pulled record's ``updated_at`` as the remote_updated column keeps it."""
    return remote.updated_at.strftime(RT_STAMP)


def changed_since_last_pull(db: Database, table: str, remote, errors: list[dict]) -> list | None:
    """The records ``remote`` changed since the newest remote_updated of ``table``; None (and
    the failure in ``errors``) when the helpdesk could not be asked."""
    since = rows(db, f"SELECT max(remote_updated) FROM {table} WHERE remote_updated != ''")
    when = (datetime.strptime(since[0][0], RT_STAMP).replace(tzinfo=UTC)
            if since and since[0][0] else None)
    try:
        return remote.changed_since(when)
    except HelpdeskError as exc:
        errors.append({"pull": True, **exc.diagnosis.to_dict()})
        return None
