"""Relay tab, issue 20: open a real relay trace, pick a conversation, "Attach to incident…",
choose the incident in the dialog; the incident gets the redacted timeline, never the raw
bytes, and the patient name planted in the relayed images is nowhere in what was attached."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLineEdit, QPlainTextEdit, QTableWidget, QTabWidget

from pacs_console.core.incidents.evidence import attachments
from pacs_console.core.incidents.service import create_incident
from tests.test_cli_trace_attach import PLANTED, relayed_trace


def test_attach_a_conversation_to_an_incident_from_clicks(console, ctx, tmp_path):
    trace = relayed_trace(tmp_path)
    incident = create_incident(ctx.db, title="CT images arrive late", severity="medium")
    label = f"#{incident.id} CT images arrive late"

    def choose(dialog) -> None:
        assert dialog.title == "Attach to incident"
        assert any("patient data redacted" in text for text in dialog.labels())
        console.choose_combo(dialog.find(QComboBox), label)
        dialog.click("OK")

    panel = console.choose_nav("Tests")
    console.choose_tab(panel.findChild(QTabWidget), "Relay")
    console.type_into(console.find(QLineEdit, "relay-capture", panel), str(trace))
    console.click_button("Open capture", panel)
    status = console.find(name="relay-status", parent=panel)
    console.wait_text(status, "1 conversation(s)", 30)
    attach = console.button("Attach to incident…", panel)
    assert not attach.isEnabled()  # nothing chosen yet
    table = console.find(QTableWidget, "relay-associations", panel)
    console.click_row(table, 0, 1)
    assert "CTSCANNER -> ANY-SCP" in console.find(QPlainTextEdit, "relay-details",
                                                  panel).toPlainText()
    with console.dialogs(choose):
        console.click(attach)
    shown = console.wait_text(status, "Attached", 20)
    assert f"incident #{incident.id}" in shown and "patient data redacted" in shown

    [item] = attachments(ctx.db, incident.id)
    assert item.filename == "session.timeline.json" and item.media_type == "application/json"
    stored = (ctx.paths.data / "attachments" / item.sha256[:2] / item.sha256).read_bytes()
    assert b"CTSCANNER" in stored and b"timeline" in stored
    assert stored != trace.read_bytes()
    assert not any(p.encode() in stored for p in PLANTED)
    assert all(p.encode() in trace.read_bytes() for p in PLANTED)  # it was there to leak
