"""A visit report: preview it, sign it, verify the signed PDF, all from the Reports panel."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QTableView,
)

from tests.ui.acceptance import records_support
from tests.ui.acceptance.records_support import Person
from tests.ui.acceptance.window import Dialog, press

pytestmark = records_support.OFFSCREEN_NOTES

SITE = "Tamale Teaching Hospital"


def _open_file(path: str):
    """Handler for the Qt file dialog: type the path into the file-name box, press Enter, and
    if the dialog is still there (under load the first key can go astray), click Open."""
    def handler(dialog: Dialog) -> None:
        box = dialog.widget
        assert isinstance(box, QFileDialog), dialog.title
        # Input reaches a window once it is on screen: before that, clicks and keys are lost.
        assert QTest.qWaitForWindowExposed(box, 10000)
        edit = dialog.find(QLineEdit, "fileNameEdit")
        dialog.console.type_into(edit, path, enter=True)
        button = box.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Open)
        for attempt in range(4):
            with contextlib.suppress(AssertionError):
                dialog.console.wait_for(lambda: not box.isVisible(), 3, "the dialog to close")
            if not box.isVisible():
                return
            if attempt % 2:
                dialog.console.key(edit, Qt.Key.Key_Return)
            else:
                dialog.console.click(button)
    return handler


def _profile(name: str, organisation: str):
    """Handler for File > Settings: the engineer profile reports are signed with."""
    def handler(dialog: Dialog) -> None:
        assert dialog.title == "Settings"
        dialog.type_into("engineer_name", name)
        dialog.type_into("organisation", organisation)
        dialog.click("OK")
    return handler


def _status(person: Person) -> str:
    return person.labels(person.window.panels["Reports"])


def test_preview_sign_and_verify_a_visit_report(person: Person):
    person.cli("site", "add", SITE)
    person.cli("visit", "start", "--site", SITE, "--purpose", "archive migration check")
    person.go_to("Reports")
    panel = person.window.panels["Reports"]
    visits = person.visible(panel, QComboBox)[0]
    person.qtbot.waitUntil(lambda: visits.findText(SITE, records_support.Qt.MatchFlag.MatchContains)
                           >= 0, timeout=10000)
    person.choose(visits, SITE)
    person.type_into(person.field(panel, "Executive summary"),
                     "Archive reachable; two modalities re-pointed to the new AE title.")

    person.press("Preview", panel)
    person.wait_text(lambda: _status(person), "preview (unsigned)", timeout=60000)
    person.qtbot.waitUntil(lambda: bool(person.visible(
        panel, QLabel, lambda label: label.objectName() == "preview-page-1")), timeout=30000)
    page = person.named("preview-page-1", QLabel, panel)
    assert page.pixmap() is not None and page.pixmap().width() > 100

    # Reports are signed in the engineer's name: without a profile, signing says so.
    with person.console.dialogs(press("OK")) as seen:
        person.press("Generate and sign", panel)
    assert seen[0].title == "Engineer profile needed"
    assert "set your name and organisation first" in _status(person)
    with person.console.dialogs(_profile("Ama Mensah", "Northern Imaging Services")):
        person.console.menu("File", "Settings…")
    person.console.wait_for(lambda: "Settings saved." in person.console.status_text(), 10,
                            "the settings saved", observe=person.console.status_text)
    # The first signing makes the engineer's certificate from the profile, after asking.
    with person.console.dialogs(press("Yes")) as seen:
        person.press("Generate and sign", panel)
    assert seen[0].title == "Create your signing certificate"
    assert "CN=Ama Mensah, O=Northern Imaging Services" in seen[0].text
    person.wait_text(lambda: _status(person), "pages, signed", timeout=90000)
    reports = person.visible(panel, QTableView)[0]
    person.qtbot.waitUntil(lambda: len(person.rows(reports)) == 1, timeout=10000)
    headers = [reports.model().headerData(c, records_support.Qt.Orientation.Horizontal)
               for c in range(reports.model().columnCount())]
    row = dict(zip(headers, person.rows(reports)[0], strict=True))
    assert row["Site"] == SITE and row["Signature"] == "valid", row

    with person.console.dialogs(_open_file(row["File"])) as seen:
        person.press("Verify a PDF…", panel)
    assert seen and "Verify" in seen[0].title
    person.wait_text(lambda: _status(person), "signed bytes intact", timeout=60000)
    assert "BROKEN" not in _status(person)
