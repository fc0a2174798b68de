"""A site, a visit to it, a maintenance window, and the uptime they feed: by mouse and keys."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QTableWidget,
)

from tests.ui.acceptance import records_support
from tests.ui.acceptance.records_support import Person, within

pytestmark = records_support.OFFSCREEN_NOTES

SITE = "Ridge Regional Hospital"


def _visits_table(person: Person):
    return next(t for t in person.visible(person.window, QTableWidget)
                if t.horizontalHeaderItem(5) and t.horizontalHeaderItem(5).text() == "Purpose")


def _add_site(person: Person) -> None:
    person.press("Sites…")
    dialog = person.modal()
    assert dialog.windowTitle() == "Sites"
    person.type_into(person.field(dialog, "Name"), SITE)
    person.type_into(person.field(dialog, "Region"), "Greater Accra")
    buttons = dialog.findChild(QDialogButtonBox)
    person.click(buttons.button(QDialogButtonBox.StandardButton.Save))
    person.wait_text(lambda: person.labels(dialog), SITE)
    person.click(buttons.button(QDialogButtonBox.StandardButton.Close))
    person.no_modal()


def test_site_visit_and_maintenance(person: Person):
    person.go_to("Incidents")
    person.tab(person.tab_widget_with("Visits"), "Visits")
    person.wait_text(person.labels, "Add a site first")
    _add_site(person)
    # The Visits tab reloads its sites on a worker once the site is saved: wait for it to show.
    offered = lambda: person.visible(person.window, QComboBox,  # noqa: E731
                                     lambda c: c.findText(SITE) >= 0)
    person.qtbot.waitUntil(lambda: bool(offered()), timeout=10000)
    site = offered()
    person.wait_text(lambda: site[0].currentText(), SITE)
    assert "Add a site first" not in person.labels()

    purpose = person.visible(person.window, QLineEdit,
                             lambda e: e.placeholderText().startswith("Purpose"))[0]
    person.type_into(purpose, "Quarterly preventive maintenance")
    person.press("Arrive (start visit)")
    person.wait_text(person.labels, f"Visit 1 started at {SITE}")
    table = _visits_table(person)
    row = person.rows(table)[0]
    assert row[1] == SITE and row[4] == "on site" and row[5] == "Quarterly preventive maintenance"

    person.click_row(table, 0)
    person.press("Leave (end visit)")
    person.wait_text(person.labels, f"Visit 1 at {SITE} ended")
    assert person.rows(table)[0][4] != "on site"

    person.press("Maintenance…")
    dialog = person.modal()
    assert dialog.windowTitle() == "Maintenance windows"
    # The dialog opens at once; its sites and nodes arrive from a worker a moment later.
    person.wait_text(lambda: person.field(dialog, "Site").currentText(), SITE)
    person.choose(person.field(dialog, "Node"), "Demo PACS")
    assert isinstance(person.field(dialog, "Starts (local)"), QDateTimeEdit)
    person.press("Add window", dialog)
    person.wait_text(lambda: person.labels(dialog), "Say why")  # a reason is required
    person.type_into(person.field(dialog, "Reason"), "Archive firmware upgrade")
    person.press("Add window", dialog)
    person.wait_text(lambda: person.labels(dialog), "Maintenance window 1 added.")
    windows = next(t for t in person.visible(dialog, QTableWidget))
    assert len(person.rows(windows)) == 1
    assert "Archive firmware upgrade" in person.rows(windows)[0]
    person.click(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Close))
    person.no_modal()


def test_a_new_site_named_like_an_existing_one_is_refused_not_merged(person: Person):
    """"New site…" with a name already taken (in another case) says so; the existing site is
    left as it was, not silently updated."""
    person.go_to("Incidents")
    _add_site(person)
    person.press("Sites…")
    dialog = person.modal()
    chooser = person.field(dialog, "Site")
    assert chooser.currentText() == "New site…"
    person.type_into(person.field(dialog, "Name"), SITE.upper())
    person.type_into(person.field(dialog, "Region"), "Volta")
    buttons = dialog.findChild(QDialogButtonBox)
    person.click(buttons.button(QDialogButtonBox.StandardButton.Save))
    person.wait_text(lambda: person.labels(dialog), f"A site called '{SITE}' already exists")
    assert "Choose it in the Site list to edit it" in person.labels(dialog)
    assert [chooser.itemText(i) for i in range(chooser.count())] == ["New site…", SITE]
    person.choose(chooser, SITE)
    assert person.field(dialog, "Region").text() == "Greater Accra"  # untouched
    person.click(buttons.button(QDialogButtonBox.StandardButton.Close))
    person.no_modal()


def _echo_once(person: Person, times: int) -> None:
    person.pick_node("Demo PACS")
    person.tab(person.tab_widget_with("Verify"), "Verify")
    stats = person.named("echo-stats", QLabel)
    for _ in range(times):
        button = person.button("C-ECHO once")
        person.qtbot.waitUntil(button.isEnabled, timeout=30000)
        person.click(button)
        person.wait_text(stats.text, "1 sent, 1 OK", timeout=30000)
        person.qtbot.waitUntil(button.isEnabled, timeout=30000)


def test_uptime_follows_the_echo_history(person: Person):
    _echo_once(person, 2)
    person.go_to("Incidents")
    person.tab(person.tab_widget_with("Uptime"), "Uptime")
    def table():
        return next((t for t in person.visible(person.window, QTableWidget)
                     if t.horizontalHeaderItem(0) and t.horizontalHeaderItem(0).text() == "Node"),
                    None)

    person.qtbot.waitUntil(lambda: table() is not None, timeout=10000)
    uptime = table()
    headers = [uptime.horizontalHeaderItem(c).text() for c in range(uptime.columnCount())]
    samples = next(c for c, h in enumerate(headers) if "sample" in h.lower())

    def demo_row():
        return next((r for r in person.rows(uptime) if r[0].startswith("Demo PACS")), None)

    person.qtbot.waitUntil(lambda: demo_row() is not None, timeout=15000)
    assert demo_row()[samples] == "2"
    person.press("Compute")
    person.wait_text(person.labels, "node(s)")
    # A third echo while the tab is away: the figures have caught up when it is back.
    _echo_once(person, 1)
    person.go_to("Incidents")
    within(2.0, lambda: demo_row() is not None and demo_row()[samples] == "3")
