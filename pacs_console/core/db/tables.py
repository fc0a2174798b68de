"""SQLModel tables; every change to them ships with an Alembic migration in migrations/versions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Site(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    region: str = ""
    facility_type: str = ""
    notes: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class Node(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    ae_title: str = Field(max_length=16)
    host: str
    port: int
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True,
                                ondelete="SET NULL")
    tags: str = ""  # comma separated: modality, pacs, workstation, router, demo
    notes: str = ""
    is_demo: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
