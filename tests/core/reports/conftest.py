"""Fixtures for report tests: a visit with incidents, test runs, nodes, sweeps and capabilities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pacs_console.core.db.nodes import save_node, set_capabilities
from pacs_console.core.db.tables import Sweep, SweepFinding
from pacs_console.core.db.testruns import save_test_run
from pacs_console.core.incidents import sites
from pacs_console.core.profile import Profile
from pacs_console.core.settings import updated
from tests.core.reports.story import visit_incidents

ARRIVED = datetime(2025, 6, 13, 8, 0, tzinfo=UTC)
ENGINEER = "Yaw Ɔsɛi-Bɔnsu"
ORGANISATION = "Ɔdɔ Medical Systems"
PASSPHRASE = "correct horse ɛ battery 42"


def _sweep(db, site_id, at, findings):
    with db.session() as session:
        sweep = Sweep(site_id=site_id, started_at=at, targets="10.20.0.0/24", hosts=256)
        session.add(sweep)
        session.flush()
        for host, port, ae in findings:
            session.add(SweepFinding(sweep_id=sweep.id, host=host, port=port, verdict="dicom",
                                     ae_title=ae))


@pytest.fixture
def visit(ctx):
    """A finished visit at Tamale with two incidents (SLA met and missed) and evidence."""
    db = ctx.db
    ctx.save_settings(updated(ctx.settings, engineer_id="FE-7",
                              profile=Profile(name=ENGINEER, organisation=ORGANISATION),
                              extra={"organisation_details": "Accra · +233 30 000 0000"}))
    site = sites.save_site(db, "Tamale Teaching Hospital", region="Northern",
                           contacts="Abɛna Sɛrwaa, +233 20 000 0000", actor="test")
    node = save_node(db, "TTH main PACS", "TTHPACS", "10.20.0.5", 104, tags="pacs",
                     site_id=site.id)
    set_capabilities(db, node.id, {"entries": {
        "1.2.840.10008.1.1": {"name": "Verification SOP Class", "service": "verification",
                              "transfer_syntaxes": ["1.2.840.10008.1.2"], "role": ""},
        "1.2.840.10008.5.1.4.1.1.2": {"name": "CT Image Storage", "service": "storage",
                                      "transfer_syntaxes": ["1.2.840.10008.1.2",
                                                            "1.2.840.10008.1.2.5"],
                                      "role": "SCU/SCP"},
        "1.2.840.10008.5.1.4.1.1.4": {"name": "MR Image Storage", "service": "storage",
                                      "transfer_syntaxes": [], "role": ""}}})
    _sweep(db, site.id, ARRIVED - timedelta(days=90), [("10.20.0.5", 104, "TTHARCH")])
    _sweep(db, site.id, ARRIVED + timedelta(minutes=20),
           [("10.20.0.5", 104, "TTHPACS"), ("10.20.0.9", 11120, "TTHWS03")])
    record = sites.start_visit(db, site.name, engineer=ENGINEER, purpose="Quarterly visit",
                               arrived_at=ARRIVED)
    visit_incidents(db, site.name, record.id, ARRIVED)
    save_test_run(db, kind="echo-series", outcome="ok", node_id=node.id,
                  node_label="TTHPACS@10.20.0.5:104", started_at=ARRIVED + timedelta(minutes=40),
                  duration_ms=20_000, summary="20 C-ECHO, 20 OK",
                  metrics={"sent": 20, "ok": 20, "round_trip_ms": {"median": 4.2, "p95": 9.1},
                           "series_ms": [3.9 + (i % 5) for i in range(20)]})
    save_test_run(db, kind="store", outcome="ok", node_id=node.id,
                  node_label="TTHPACS@10.20.0.5:104", started_at=ARRIVED + timedelta(minutes=50),
                  summary="C-STORE: 40 sent", metrics={"mb_per_s": 31.5, "images_per_s": 60.2})
    save_test_run(db, kind="echo", outcome="ok", node_label="OTHER@10.9.9.9:104",
                  started_at=ARRIVED - timedelta(days=3), metrics={"total_ms": 3.0})
    return sites.end_visit(db, record.id, departed_at=ARRIVED + timedelta(hours=6))


@pytest.fixture
def passphrase_env(monkeypatch):
    monkeypatch.setenv("PACS_CONSOLE_SIGNING_PASSPHRASE", PASSPHRASE)
    return PASSPHRASE


@pytest.fixture(autouse=True)
def fresh_signing_secret():
    """The test keyring lives for the whole session; each test starts without a passphrase."""
    import keyring

    from pacs_console.core.reports.certs import PASSPHRASE_KEY
    from pacs_console.core.secrets import SERVICE

    keyring.get_keyring().delete_password(SERVICE, PASSPHRASE_KEY)
    yield
    keyring.get_keyring().delete_password(SERVICE, PASSPHRASE_KEY)
