"""A visit report with both hand signatures drawn on the pads, signed, its PDF read back, and
the draft found again after a restart: all with the mouse and keys. (Replaces the real-visit
half of tests/ui/test_reports_panel.py, which filled the widgets from code.)"""

from __future__ import annotations

import subprocess

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QTableView, QTabWidget, QWidget

from pacs_console.core.incidents import sites
from pacs_console.core.profile import Profile
from pacs_console.core.settings import updated
from tests.ui.acceptance.gui_thread import besides_known, gui_thread_opens, gui_thread_sql
from tests.ui.acceptance.window import close_console, open_console, press

SITE = "Tamale Teaching Hospital"


def _status(panel) -> str:
    return "\n".join(w.text() for w in panel.findChildren(QLabel) if w.isVisible())


def _choose_visit(console, panel) -> None:
    visits = next(c for c in panel.findChildren(QComboBox) if c.isVisible())
    console.wait_for(lambda: any(SITE in visits.itemText(i) for i in range(visits.count())), 10,
                     "the visit offered")
    wanted = next(visits.itemText(i) for i in range(visits.count()) if SITE in visits.itemText(i))
    if console.text(visits) != wanted:
        console.choose_combo(visits, wanted)


def _sign_on_pad(console, capture: QWidget, name: str, role: str = "") -> None:
    """Draw two strokes; Accept without a printed name is refused; type it (unless Settings
    filled it in) and Accept."""
    pad = console.find(QWidget, "signature-pad", capture)
    h = pad.height()
    console.drag(pad, QPoint(20, h // 2), QPoint(80, h // 4))
    console.drag(pad, QPoint(90, h // 2), QPoint(160, 3 * h // 4))
    printed = console.field_for_label(capture, "Printed name")
    if console.text(printed) != name:
        console.click_button("Accept", capture)
        assert "Needs a signature and a printed name" in _status(capture)  # no name yet
        console.type_into(printed, name)
    if role:
        console.type_into(console.field_for_label(capture, "Role"), role)
    console.click_button("Accept", capture)
    console.wait_for(lambda: "Accepted" in _status(capture), 5, f"{name}'s signature accepted")


def test_sign_a_visit_report_with_drawn_signatures_and_find_the_draft_again(console):
    # The certificate's passphrase is the one the console makes and keeps in the keyring (an
    # environment passphrase would lose to another test's copy in the test keyring's memory).
    ctx = console.ctx
    ctx.save_settings(updated(ctx.settings, profile=Profile(name="Yaw Osei-Bonsu",
                                                         organisation="Odo Medical Systems")))
    sites.save_site(ctx.db, SITE, region="Northern")
    sites.start_visit(ctx.db, SITE, engineer="Yaw Osei-Bonsu", purpose="CT to archive")
    panel = console.choose_nav("Reports")
    # The draft, the certificate and the signing: none of it read or written by the window.
    with gui_thread_opens() as opened, gui_thread_sql() as sql:
        _choose_visit(console, panel)
        console.type_into(console.field_for_label(panel, "Executive summary"),
                          "CT sends again; worklist pending the RIS vendor.")
        console.type_into(console.field_for_label(panel, "Parts used\n(part; qty; serial; note)"),
                          "Patch cable; 2; ; WS3")
        console.type_into(console.field_for_label(panel, "Rating (1-5)"), "4")

        tabs = next(t for t in panel.findChildren(QTabWidget) if t.isVisible())
        console.choose_tab(tabs, "Signatures")
        captures = [p.parentWidget() for p in panel.findChildren(QWidget, "signature-pad")]
        _sign_on_pad(console, captures[0], "Abena Serwaa", "Radiology supervisor")
        assert "Printed name" in _status(captures[0])
        engineer = console.field_for_label(captures[1], "Printed name")
        assert console.text(engineer) == "Yaw Osei-Bonsu"  # from Settings
        _sign_on_pad(console, captures[1], "Yaw Osei-Bonsu")

        with console.dialogs(press("Yes")) as seen:
            console.click_button("Generate and sign", panel)
        assert seen[0].title == "Create your signing certificate"
        console.wait_for(lambda: "pages, signed" in _status(panel), 120, "the signed report",
                         observe=lambda: _status(panel))
    assert besides_known(opened) == [] and sql == [], (opened, sql)
    table = console.find(QTableView, "reports-table", panel)
    console.wait_for(lambda: len(console.rows(table)) == 1, 10, "the report listed")
    headers = [table.model().headerData(c, Qt.Orientation.Horizontal)
               for c in range(table.model().columnCount())]
    row = dict(zip(headers, console.rows(table)[0], strict=True))
    assert row["Signature"] == "valid", row
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", row["File"], "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "CT sends again; worklist pending the RIS vendor." in text
    assert "Abena Serwaa" in text and "Patch cable" in text and "Rating: 4 / 5" in text

    # Quit and start again: the draft (text and the accepted signatures) is still there.
    console.menu("File", "Quit")
    console.wait_for(lambda: not console.window.isVisible(), 5, "the window closed")
    close_console(console)
    again = open_console(console.data_dir, demo=False)
    console.window, console.ctx, console.demo = again.window, again.ctx, None
    panel = again.choose_nav("Reports")
    _choose_visit(again, panel)
    again.wait_text(again.field_for_label(panel, "Executive summary"),
                    "CT sends again; worklist pending the RIS vendor.", 10)
    tabs = next(t for t in panel.findChildren(QTabWidget) if t.isVisible())
    again.choose_tab(tabs, "Signatures")
    customer = [p.parentWidget() for p in panel.findChildren(QWidget, "signature-pad")][0]
    assert "Accepted" in _status(customer)
    assert again.text(again.field_for_label(customer, "Printed name")) == "Abena Serwaa"
