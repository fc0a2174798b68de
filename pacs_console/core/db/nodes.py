"""Address-book queries: the only way panels and the CLI read or change nodes."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from sqlmodel import select

from pacs_console.core.db.engine import Database
from pacs_console.core.db.tables import Node, utcnow

DEMO_NODE_NAME = "Demo PACS"
TAGS = ("pacs", "modality", "workstation", "router", "ris", "archive", "demo")


@dataclass(frozen=True)
class NodeRecord:
    """A node as the layers above see it: plain data, detached from any session."""

    id: int
    name: str
    ae_title: str
    host: str
    port: int
    tags: str = ""
    notes: str = ""
    is_demo: bool = False
    site_id: int | None = None
    tls: bool = False
    tls_ca_file: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_server_name: str = ""
    capabilities: dict[str, Any] | None = field(default=None, compare=False)
    capabilities_at: datetime | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        return f"{self.ae_title}@{self.host}:{self.port}"

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.split(",") if t.strip()]


EDITABLE = ("name", "ae_title", "host", "port", "tags", "notes", "site_id", "tls", "tls_ca_file",
            "tls_cert_file", "tls_key_file", "tls_server_name")


def _record(node: Node) -> NodeRecord:
    values = {f.name: getattr(node, f.name) for f in fields(NodeRecord) if f.name != "id"}
    return NodeRecord(id=node.id or 0, **values)


def list_nodes(db: Database) -> list[NodeRecord]:
    with db.session() as session:
        return [_record(n) for n in session.exec(select(Node).order_by(Node.name))]


def get_node(db: Database, name_or_id: str | int) -> NodeRecord | None:
    """By id, by exact name, or by AE title when that is unambiguous."""
    with db.session() as session:
        if isinstance(name_or_id, int) or str(name_or_id).isdigit():
            node = session.get(Node, int(name_or_id))
            if node is not None:
                return _record(node)
        node = session.exec(select(Node).where(Node.name == str(name_or_id))).first()
        if node is None:
            matches = session.exec(select(Node).where(Node.ae_title == str(name_or_id))).all()
            node = matches[0] if len(matches) == 1 else None
        return _record(node) if node else None


def save_node(db: Database, name: str, ae_title: str, host: str, port: int, *,
              tags: str = "", notes: str = "", is_demo: bool = False, **extra: Any) -> NodeRecord:
    """Insert or update by name."""
    with db.session() as session:
        node = session.exec(select(Node).where(Node.name == name)).first()
        if node is None:
            node = Node(name=name, ae_title=ae_title, host=host, port=port)
        node.ae_title, node.host, node.port = ae_title, host, port
        node.tags, node.notes, node.is_demo = tags, notes, is_demo
        return _edited(session, node, extra)


def save_nodes(db: Database, records: list[NodeRecord]) -> int:
    """Insert or update many nodes by name in one transaction: all are written or none."""
    from sqlalchemy import insert

    keep = [f for f in EDITABLE if f not in ("name", "site_id")]
    now = utcnow()
    with db.session() as session:
        existing = {node.name: node for node in session.exec(select(Node))}
        new_rows = []
        for record in records:
            values = {key: getattr(record, key) for key in keep}
            if record.site_id is not None:
                values["site_id"] = record.site_id
            node = existing.get(record.name)
            if node is None:
                new_rows.append({"name": record.name, "is_demo": False, "created_at": now,
                                 "updated_at": now, **values})
                continue
            if node.is_demo:
                raise ValueError(f"{record.name!r} is the demo node: it is not replaced")
            for key, value in values.items():
                setattr(node, key, value)
            node.updated_at = now
            session.add(node)
        if new_rows:
            session.execute(insert(Node), new_rows)
    return len(records)


def add_nodes(db: Database, records: list[NodeRecord]) -> dict[str, int]:
    """New nodes (names not taken), capabilities included, in one transaction; their ids by
    name. For bulk arrivals such as a first pull of a team's inventory."""
    from sqlalchemy import insert

    now = utcnow()
    rows = [{**{key: getattr(record, key) for key in EDITABLE}, "is_demo": False,
             "capabilities": record.capabilities, "created_at": now, "updated_at": now}
            for record in records]
    if not rows:
        return {}
    with db.session() as session:
        session.execute(insert(Node), rows)
        ids = dict(session.exec(select(Node.name, Node.id)).all())
    return {record.name: ids[record.name] for record in records}


def update_node(db: Database, node_id: int, **changes: Any) -> NodeRecord:
    """Change some fields of one node (renames included)."""
    with db.session() as session:
        node = session.get(Node, node_id)
        if node is None:
            raise KeyError(f"no node with id {node_id}")
        return _edited(session, node, changes)


def _edited(session, node: Node, changes: dict[str, Any]) -> NodeRecord:
    """Set the editable ``changes`` on ``node``, stamp it and write it in ``session``."""
    for key, value in changes.items():
        if key not in EDITABLE:
            raise ValueError(f"unknown node field {key!r}")
        setattr(node, key, value)
    node.updated_at = utcnow()
    session.add(node)
    session.flush()
    return _record(node)


def delete_node(db: Database, node_id: int) -> None:
    with db.session() as session:
        node = session.get(Node, node_id)
        if node is not None:
            session.delete(node)


def duplicate_node(db: Database, node_id: int) -> NodeRecord:
    """A copy named 'NAME (copy)', 'NAME (copy 2)', ... for quick variants of one node."""
    original = get_node(db, node_id)
    if original is None:
        raise KeyError(f"no node with id {node_id}")
    taken = {n.name for n in list_nodes(db)}
    name, counter = f"{original.name} (copy)", 2
    while name in taken:
        name, counter = f"{original.name} (copy {counter})", counter + 1
    values = {k: getattr(original, k) for k in EDITABLE if k not in ("name", "ae_title", "host",
                                                                      "port", "tags", "notes")}
    return save_node(db, name, original.ae_title, original.host, original.port,
                     tags=original.tags, notes=original.notes, **values)


def set_capabilities(db: Database, node_id: int, capabilities: dict[str, Any], *,
                     probed: bool = True) -> NodeRecord:
    """Store a probe's capabilities (``probed``: stamped now), or change what is kept beside
    them without a new probe (``probed=False``: the probe time stays)."""
    with db.session() as session:
        node = session.get(Node, node_id)
        if node is None:
            raise KeyError(f"no node with id {node_id}")
        node.capabilities = capabilities
        if probed:
            node.capabilities_at = utcnow()
        session.add(node)
        session.flush()
        return _record(node)


def register_demo_node(db: Database, ae_title: str, host: str, port: int) -> NodeRecord:
    """The demo PACS may move to another port between starts, so its entry is refreshed."""
    return save_node(db, DEMO_NODE_NAME, ae_title, host, port, tags="pacs,demo",
                     notes="Embedded demo PACS with synthetic studies (started by --demo)",
                     is_demo=True)


def as_record(**values: Any) -> NodeRecord:
    """A NodeRecord not (yet) in the database, e.g. parsed from an import file."""
    base = NodeRecord(0, values.pop("name", ""), values.pop("ae_title", ""),
                      values.pop("host", ""), int(values.pop("port", 104)))
    return replace(base, **values)
