"""The incidents of the sample Tamale visit, shared by the report fixtures and the screenshots."""

from __future__ import annotations

from datetime import datetime, timedelta

from pacs_console.core.incidents import service


def visit_incidents(db, site: str, visit_id: int, arrived: datetime, *, reporter: str = "",
                    actor: str = ""):
    """A critical incident acknowledged within its SLA and resolved during the visit, and a
    high one acknowledged too late, each step by ``actor``; returns both records."""
    met = service.create_incident(db, title="CT cannot send studies to the archive",
                                  severity="critical", site=site, nodes=["TTHPACS"],
                                  reported_at=arrived - timedelta(minutes=30),
                                  visit_id=visit_id, reporter=reporter, actor=actor)
    service.set_status(db, met.id, "acknowledged", at=arrived - timedelta(minutes=20),
                       actor=actor)
    service.add_note(db, met.id, "Root cause: archive AE title changed by a vendor update",
                     at=arrived + timedelta(minutes=10), actor=actor)
    service.set_status(db, met.id, "resolved", at=arrived + timedelta(hours=1),
                       note="Updated the CT's destination AE title and re-sent the queue", actor=actor)
    late = service.create_incident(db, title="Worklist empty on the maternity ultrasound",
                                   severity="high", site=site,
                                   reported_at=arrived - timedelta(hours=5), visit_id=visit_id,
                                   actor=actor)
    service.set_status(db, late.id, "acknowledged", at=arrived - timedelta(hours=2),
                       actor=actor)
    return met, late
