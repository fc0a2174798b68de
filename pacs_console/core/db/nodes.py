"""Address-book queries: the only way panels and the CLI read or change nodes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from pacs_console.core.db.engine import Database
from pacs_console.core.db.tables import Node, utcnow

DEMO_NODE_NAME = "Demo PACS"


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


def _record(node: Node) -> NodeRecord:
    return NodeRecord(node.id or 0, node.name, node.ae_title, node.host, node.port,
                      node.tags, node.notes, node.is_demo)


def list_nodes(db: Database) -> list[NodeRecord]:
    with db.session() as session:
        return [_record(n) for n in session.exec(select(Node).order_by(Node.name))]


def get_node(db: Database, name: str) -> NodeRecord | None:
    with db.session() as session:
        node = session.exec(select(Node).where(Node.name == name)).first()
        return _record(node) if node else None


def save_node(db: Database, name: str, ae_title: str, host: str, port: int, *,
              tags: str = "", notes: str = "", is_demo: bool = False) -> NodeRecord:
    """Insert or update by name."""
    with db.session() as session:
        node = session.exec(select(Node).where(Node.name == name)).first()
        if node is None:
            node = Node(name=name, ae_title=ae_title, host=host, port=port)
        node.ae_title, node.host, node.port = ae_title, host, port
        node.tags, node.notes, node.is_demo = tags, notes, is_demo
        node.updated_at = utcnow()
        session.add(node)
        session.flush()
        return _record(node)


def register_demo_node(db: Database, ae_title: str, host: str, port: int) -> NodeRecord:
    """The demo PACS picks a free port each start, so its entry is refreshed every time."""
    return save_node(db, DEMO_NODE_NAME, ae_title, host, port, tags="pacs,demo",
                     notes="Embedded demo PACS with synthetic studies (started by --demo)",
                     is_demo=True)
