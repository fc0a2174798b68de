"""Gathering a visit: incidents with SLA, root cause and resolution, tests, inventory, laptop."""

from __future__ import annotations

import json

from pacs_console.core.reports.gather import gather
from pacs_console.core.reports.model import Extras, extras_from_dict, extras_to_dict
from pacs_console.core.reports.sample import sample_report
from pacs_console.core.reports.store import load_extras, save_extras
from tests.core.reports.conftest import ENGINEER


def test_gather_collects_the_visit(ctx, visit):
    report = gather(ctx.db, ctx.settings, visit.id, data_dir=ctx.paths.data)
    assert report.site == "Tamale Teaching Hospital" and report.engineer == ENGINEER
    assert report.organisation == "Ɔdɔ Medical Systems" and report.on_site_minutes == 360
    by_title = {i.title: i for i in report.incidents}
    ct = by_title["CT cannot send studies to the archive"]
    assert ct.sla_state == "met" and ct.response_minutes == 10.0
    assert ct.root_cause == "archive AE title changed by a vendor update"
    assert ct.resolution == "Updated the CT's destination AE title and re-sent the queue"
    assert ct.nodes == ("TTH main PACS (TTHPACS@10.20.0.5:104)",)
    assert by_title["Worklist empty on the maternity ultrasound"].sla_state == "breached"
    # Runs inside the visit window only; the echo three days earlier is not this visit's.
    assert [r.kind for r in report.test_runs] == ["echo-series", "store"]
    echo, store = report.test_runs
    assert echo.latency_ms == 4.2 and echo.latency_p95_ms == 9.1 and len(echo.latency_series_ms) == 20
    assert store.mb_per_s == 31.5
    assert [n.ae_title for n in report.nodes] == ["TTHPACS"]
    assert report.inventory.changes and any("TTHARCH -> TTHPACS" in c
                                            for c in report.inventory.changes)
    assert len(report.inventory.findings) == 2
    (matrix,) = report.capabilities
    assert [r.sop_class for r in matrix.rows] == ["Verification SOP Class", "CT Image Storage"]
    assert matrix.rows[1].syntaxes == "Implicit, RLE"
    assert report.laptop.interfaces and report.laptop.hostname


def test_free_text_overrides_and_drafts_round_trip(ctx, visit):
    extras = extras_from_dict({
        "summary": "All fixed.", "recommendations": ["Replace the switch"],
        "time_spent": [{"activity": "Repair", "minutes": 90}],
        "parts": [{"part": "Patch cable", "quantity": 2}], "feedback_rating": 4,
        "incident_notes": {"1": {"root_cause": "Typed by hand"}},
        "customer": {"name": "Abɛna Sɛrwaa", "role": "Supervisor",
                     "signed_at": "2025-06-13T14:00:00+00:00",
                     "strokes": {"width": 100, "height": 50, "strokes": [[[1, 2], [3, 4]]]}}})
    save_extras(ctx.paths.data, visit.id, extras)
    loaded = load_extras(ctx.paths.data, visit.id)
    assert loaded == extras and extras_to_dict(loaded)["customer"]["name"] == "Abɛna Sɛrwaa"
    report = gather(ctx.db, ctx.settings, visit.id, loaded, data_dir=ctx.paths.data)
    assert report.incidents[0].root_cause == "Typed by hand"
    assert load_extras(ctx.paths.data, 999) == Extras()


def test_json_is_canonical_and_hash_stable():
    report = sample_report()
    assert report.json_bytes() == sample_report().json_bytes()
    data = json.loads(report.json_bytes())
    assert data["format"] == "pacs-console-visit-report/1"
    assert data["extras"]["customer"]["name"] == "Abɛna Sɛrwaa Bɔatɛng"
    assert len(report.sha256()) == 64
