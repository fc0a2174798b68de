"""Fixtures for incident tests: a database with a site, a node and a failed test run."""

from __future__ import annotations

import pytest

from pacs_console.core.db.nodes import save_node
from pacs_console.core.db.testruns import save_test_run
from pacs_console.core.incidents import sites


@pytest.fixture
def db(ctx):
    return ctx.db


@pytest.fixture
def tamale(db):
    return sites.save_site(db, "Tamale Teaching Hospital", region="Northern",
                           facility_type="teaching", actor="ama")


@pytest.fixture
def node(db):
    return save_node(db, "TTH main PACS", "TTHPACS", "10.20.0.5", 104, tags="pacs")


@pytest.fixture
def failed_run(db, node):
    return save_test_run(db, kind="echo", outcome="failed", node_id=node.id,
                         node_label="TTHPACS@10.20.0.5:104", summary="Connection refused",
                         diagnosis={"code": "connection-refused", "what": "Connection refused",
                                    "causes": ["DICOM service stopped"],
                                    "actions": ["Start the archive's DICOM listener"]})
