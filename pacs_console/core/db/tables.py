"""SQLModel tables; every change to them ships with an Alembic migration in migrations/versions."""

from __future__ import annotations

import uuid as uuid_module
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column
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
    tls: bool = False
    tls_ca_file: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_server_name: str = ""  # when the certificate names a host other than `host`
    capabilities: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    capabilities_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TestRun(SQLModel, table=True):
    """One echo, query, retrieve, store or probe, kept as evidence for incidents and reports."""

    __tablename__ = "test_run"
    __test__ = False  # not a pytest class

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=lambda: str(uuid_module.uuid4()), unique=True)
    node_id: int | None = Field(default=None, foreign_key="node.id", index=True, ondelete="SET NULL")
    node_label: str = ""  # "AE@host:port", kept when the node is deleted or was ad hoc
    kind: str  # echo, echo-series, find, move, get, store, probe, worklist
    parameters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    started_at: datetime = Field(default_factory=utcnow, index=True)
    duration_ms: float = 0.0
    outcome: str  # ok, failed, cancelled, partial
    summary: str = ""
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    diagnosis: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    association: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
