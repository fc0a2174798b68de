"""Changes since the last visit, and which visit a push is for (issue 21), in the window.

Three sweeps of one site: during Kwame's visit, between visits (a new node appeared), and
during Ama's visit (the PACS's port closed). After the last one the details say what changed
since the previous sweep (the port closed only) and since the last visit (the new node too,
against the sweep made during Kwame's visit); the 'Changes since last visit' button says the
same. The push's visit picker lists both visits; the engineer chooses Kwame's, and the push is
recorded against its incident's ticket, not the open visit's."""

from __future__ import annotations

from pynetdicom import AE
from pynetdicom.sop_class import Verification
from PySide6.QtWidgets import QCheckBox
from sqlmodel import select

from pacs_console.core.db.nodes import save_node
from pacs_console.core.db.tables import OutboxItem
from pacs_console.core.incidents import service, sites
from tests.ui.acceptance.window import Console

HOST = "127.0.0.6"
SITE = "Yendi Government Hospital"


def _server(title: str, port: int = 0):
    ae = AE(title)
    ae.add_supported_context(Verification)
    return ae.start_server((HOST, port), block=False)


def _sweep(console: Console, panel, ports: str) -> str:
    console.type_into(console.field_for_label(panel, "Targets"), HOST)
    console.type_into(panel.ports, ports)
    console.type_into(panel.web_ports, "")
    for box in panel.findChildren(QCheckBox):
        if "DNS-SD" in box.text() and box.isChecked():
            console.click(box)  # no multicast listening in a test
    console.click_button("Start sweep", panel)
    return console.wait_text(panel.status, "Done in", 60)


def test_changes_since_the_last_visit_and_a_push_for_a_chosen_visit(console):
    ctx = console.ctx
    pacs, ris = _server("YENDIPACS"), _server("YENDIRIS")
    pacs_port, ris_port = pacs.server_address[1], ris.server_address[1]
    ris.shutdown()  # the RIS's DICOM port appears only between the visits
    ris = None
    ports = f"{pacs_port},{ris_port}"
    site = sites.save_site(ctx.db, SITE)
    save_node(ctx.db, "Yendi PACS", "YENDIPACS", HOST, pacs_port, tags="pacs", site_id=site.id)
    kwame = sites.start_visit(ctx.db, SITE, engineer="Kwame")
    kwame_incident = service.create_incident(ctx.db, title="PACS slow", severity="low",
                                             site=SITE, visit_id=kwame.id)
    panel = console.choose_nav("Discovery")
    console.type_into(panel.site, SITE)
    try:
        _sweep(console, panel, ports)  # during Kwame's visit
        sites.end_visit(ctx.db, kwame.id)
        ris = _server("YENDIRIS", ris_port)
        _sweep(console, panel, ports)  # between visits: the RIS answers now
        ama = sites.start_visit(ctx.db, SITE, engineer="Ama")
        service.create_incident(ctx.db, title="CR cannot send", severity="high", site=SITE,
                                visit_id=ama.id)
        pacs.shutdown()
        pacs = None
        _sweep(console, panel, ports)  # during Ama's visit: the PACS's port is closed
    finally:
        for server in (pacs, ris):
            if server is not None:
                server.shutdown()

    details = panel.details
    text = console.wait_text(details, "Since the last visit", 10)
    since_sweep, since_visit = text.split("Since the last visit")
    assert "Port closed" in since_sweep and "New:" not in since_sweep
    assert "(Kwame; its sweep of" in since_visit
    assert f"@{HOST}:{ris_port} (dicom-any-ae)" in since_visit and "New: " in since_visit
    assert "Port closed" in since_visit

    console.click_button("Changes since last visit", panel)
    console.wait_for(lambda: console.text(details).startswith("Since the last visit"), 10,
                     "the comparison with the last visit", observe=lambda: console.text(details))
    assert f"{HOST}:{ris_port}" in console.text(details)

    # The push's visit picker lists the site's visits; Kwame's is chosen.
    picker = panel.findings.visit
    label = f"Visit {kwame.id}: "
    console.wait_for(lambda: any(picker.itemText(i).startswith(label)
                                 for i in range(picker.count())), 10, "Kwame's visit listed")
    assert picker.currentText().startswith("The open visit")
    kwame_text = next(picker.itemText(i) for i in range(picker.count())
                      if picker.itemText(i).startswith(label))
    assert "(Kwame)" in kwame_text and "to 20" in kwame_text  # ended, with its incident
    console.choose_combo(picker, kwame_text)
    console.click_button("Push to helpdesk", panel)
    status = console.wait_text(panel.status, "goes at the next sync", 60)
    assert f"(visit {kwame.id})" in status and f"incident {kwame_incident.id}" in status

    with ctx.db.session() as session:  # the comment waits in Kwame's incident's queue
        comments = session.exec(select(OutboxItem).where(OutboxItem.kind == "comment")).all()
    assert [c.incident_id for c in comments] == [kwame_incident.id]
