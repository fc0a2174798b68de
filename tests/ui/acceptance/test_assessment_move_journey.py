"""Security assessment journey, the C-MOVE opt-in (issue 19): an engineer ticks "Test C-MOVE
routing with ONE existing study" and assesses a site whose real Orthanc holds one study. The
move of that study to an AE nobody configured is refused, so no C-MOVE finding is shown, and
the check counts as run (one fewer 'not run' than without the tick). The study's UID, found to
ask for the move, is in nothing the assessment keeps."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QCheckBox, QTabWidget

from pacs_console.core.db.nodes import save_node
from pacs_console.core.dicom.synth.studies import generate_study, write_study
from pacs_console.core.incidents import sites
from tests.core.assess.peers import ConfiguredOrthanc
from tests.peers.net import addr, free_port
from tests.ui.acceptance.window import Console

SITE = "Keta Municipal Hospital"
MOVE_CHECK = "Accepts C-MOVE to a destination it was not given"


def _not_run(status: str) -> int:
    return int(re.search(r"(\d+) checks not run", status).group(1))


def _assess(console: Console, view) -> str:
    console.click_button("Start assessment", view)
    return console.wait_text(view.status, "site score", 120)


def test_move_routing_tick_moves_one_study_refused_and_keeps_no_uid(console, tmp_path):
    ctx = console.ctx
    host = addr(164)
    dicom, http = free_port(host), free_port(host)
    peer = ConfiguredOrthanc("KETA-PACS", host, dicom, http, {
        # The console is a configured modality (it may query and move here); PCA-NO-SUCH-DEST
        # is configured nowhere.
        "DicomModalities": {"console": [ctx.settings.ae_title, "127.0.0.1",
                                        ctx.settings.scp_port or 11113]}})
    peer.start()
    try:
        study = generate_study("CR", images=1, series=1, size=64)
        uid = str(study[0].StudyInstanceUID)
        peer.upload(write_study(study, tmp_path / "study")[0])
        site = sites.save_site(ctx.db, SITE)  # the site and its PACS, as the address book has it
        save_node(ctx.db, "Keta PACS", "KETA-PACS", host, dicom, tags="pacs", site_id=site.id)

        panel = console.choose_nav("Discovery")
        tabs = console.find(QTabWidget, parent=panel)
        console.choose_tab(tabs, "Security assessment")
        view = tabs.currentWidget()
        console.type_into(console.field_for_label(view, "Site or targets"), SITE)
        without = _not_run(_assess(console, view))  # the move asked for a study that does not exist

        tick = next(b for b in view.findChildren(QCheckBox)
                    if b.text() == "Test C-MOVE routing with ONE existing study")
        console.click(tick)
        assert tick.isChecked()
        status = _assess(console, view)
        assert _not_run(status) == without - 1, status  # now really asked, and answered

        assert console.rows(view.nodes)[0][0] == host
        console.click_row(view.nodes, 0)
        console.wait_for(lambda: console.rows(view.findings), 10, "the node's findings")
        shown = console.rows(view.findings)
        assert not [r for r in shown if r[2] == MOVE_CHECK], shown  # refused: not flagged
        for row in range(len(shown)):  # every finding's evidence, as the person reads it
            console.click_row(view.findings, row)
            console.wait_text(view.details, "What to fix", 5)
            assert uid not in console.text(view.details)
    finally:
        peer.stop()

    kept = [p for p in ctx.paths.data.rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" and SITE in p.read_text(errors="replace") for p in kept)
    leaked = [p for p in kept if uid.encode() in p.read_bytes()]
    assert leaked == [], leaked  # not in the saved assessments, nor anywhere in the data folder
