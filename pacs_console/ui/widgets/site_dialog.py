"""Add or edit a site and its business calendar, with core's validation messages inline."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.core.errors import ConsoleError
from pacs_console.core.incidents.sla import (
    DEFAULT_COUNTRY,
    DEFAULT_HOURS,
    DEFAULT_TIMEZONE,
    WEEKDAYS,
    BusinessCalendar,
    parse_hours,
)
from pacs_console.ui import workers
from pacs_console.ui.widgets.incident_detail import actor_of, diagnosis_text
from pacs_console.ui.widgets.panel_parts import dialog_buttons, form_rows, stack

DAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                "Saturday", "Sunday"), strict=True))
ERROR_STYLE = "color: #c62828"


def _what(exc: ConsoleError) -> str:
    return exc.diagnosis.what + (f" — {exc.diagnosis.actions[0]}" if exc.diagnosis.actions else "")


def _zone_names() -> list[str]:
    from zoneinfo import available_timezones

    return sorted(available_timezones())


def _sites(ctx: Context) -> list:
    from pacs_console.core.incidents.sites import list_sites

    return list_sites(ctx.db)


def _save(ctx: Context, actor: str, values: dict):
    from pacs_console.core.incidents.sites import save_site

    # "New site…" makes a new one, never updates a namesake.
    return save_site(ctx.db, actor=actor, new=values["site_id"] is None, **values)


class SiteDialog(QDialog):
    """Save keeps the dialog open (several sites in one go); ``saved`` carries the SiteRecord."""

    saved = Signal(object)

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sites")
        self.setMinimumWidth(520)  # long values and hints stay readable
        self.ctx = ctx
        self.sites: list = []
        self.chooser = QComboBox()
        self.chooser.currentIndexChanged.connect(self._chosen)
        self.name, self.region, self.facility_type = QLineEdit(), QLineEdit(), QLineEdit()
        self.address, self.contacts = QLineEdit(), QLineEdit()
        self.timezone = QLineEdit()
        # The zone names come from a scan of the time zone database (over a thousand files):
        # a worker reads them, and the completer offers them once read.
        workers.start(_zone_names, on_result=self._offer_zones)
        self.holiday_country = QLineEdit()
        self.holiday_country.setPlaceholderText("ISO code, e.g. GH; empty: no public holidays")
        self.closed_days = QPlainTextEdit()
        self.closed_days.setPlaceholderText("Extra closed days, one YYYY-MM-DD per line")
        self.closed_days.setMaximumHeight(70)
        self.notes = QLineEdit()
        self.hours: dict[str, QLineEdit] = {}
        self.hour_errors: dict[str, QLabel] = {}
        grid = QGridLayout()
        for row, day in enumerate(WEEKDAYS):
            edit, error = QLineEdit(), QLabel()
            edit.setPlaceholderText("closed")
            edit.setMinimumWidth(170)
            edit.setToolTip("HH:MM-HH:MM, several ranges separated by commas; empty: closed")
            error.setStyleSheet(ERROR_STYLE)
            edit.textChanged.connect(self._check)
            grid.addWidget(QLabel(DAY_NAMES[day]), row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(error, row, 2)
            self.hours[day], self.hour_errors[day] = edit, error
        grid.setColumnStretch(2, 1)
        self.calendar_error = QLabel()
        self.calendar_error.setStyleSheet(ERROR_STYLE)
        self.calendar_error.setWordWrap(True)
        for edit in (self.timezone, self.holiday_country):
            edit.editingFinished.connect(self._check)
        self.message = QLabel()
        self.message.setWordWrap(True)
        form = form_rows((("Site", self.chooser), ("Name", self.name), ("Region", self.region),
                          ("Facility type", self.facility_type), ("Address", self.address),
                          ("Contacts", self.contacts), ("Time zone", self.timezone),
                          ("Business hours", grid), ("Holiday country", self.holiday_country),
                          ("Closed days", self.closed_days), ("Notes", self.notes),
                          ("", self.calendar_error)))
        self.buttons = dialog_buttons(QDialogButtonBox.StandardButton.Save
                                      | QDialogButtonBox.StandardButton.Close,
                                      self.save, self.reject)
        stack(QVBoxLayout(self), form, self.message, self.buttons)
        self.chooser.addItem("New site…", None)
        self._chosen()
        self.reload()

    def _offer_zones(self, names: list[str]) -> None:
        completer = QCompleter(names, self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.timezone.setCompleter(completer)

    def reload(self, select_id: int | None = None, said: str = "") -> None:
        """Read the sites on a worker; the chooser shows them (and ``said``) when they arrive."""
        workers.start(_sites, self.ctx, on_result=lambda sites: self._show_sites(sites, select_id,
                                                                                said),
                      on_error=self._failed)

    def _failed(self, exc: Exception) -> None:
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setText(diagnosis_text(exc))

    def _show_sites(self, sites: list, select_id: int | None, said: str = "") -> None:
        self.sites = sites
        before = self.chooser.currentData()
        self.chooser.blockSignals(True)
        self.chooser.clear()
        self.chooser.addItem("New site…", None)
        for site in self.sites:
            self.chooser.addItem(site.name, site.id)
        wanted = select_id if select_id is not None else before
        self.chooser.setCurrentIndex(max(0, self.chooser.findData(wanted)))
        self.chooser.blockSignals(False)
        if select_id is not None or self.chooser.currentData() != before:
            self._chosen()  # else what was typed meanwhile stays
        if said:
            self.message.setText(said)

    def select(self, name: str) -> None:
        self.chooser.setCurrentIndex(max(0, self.chooser.findText(name)))

    def _chosen(self, *_) -> None:
        site = next((s for s in self.sites if s.id == self.chooser.currentData()), None)
        hours = site.calendar().hours_text() if site else dict(DEFAULT_HOURS)
        self.name.setText(site.name if site else "")
        for edit, attr in ((self.region, "region"), (self.facility_type, "facility_type"),
                           (self.address, "address"), (self.contacts, "contacts"),
                           (self.notes, "notes")):
            edit.setText(getattr(site, attr) if site else "")
        self.timezone.setText(site.timezone if site else DEFAULT_TIMEZONE)
        self.holiday_country.setText(site.holiday_country if site else DEFAULT_COUNTRY)
        self.closed_days.setPlainText("\n".join(site.closed_days) if site else "")
        for day, edit in self.hours.items():
            edit.setText(hours.get(day, ""))
        self.message.clear()
        self._check()

    def _closed_days(self) -> list[str]:
        text = self.closed_days.toPlainText().replace(",", "\n")
        return [line.strip() for line in text.splitlines() if line.strip()]

    def _check(self, *_) -> bool:
        """Inline messages from core's own parsers; Save runs the full validation again."""
        ok = True
        for day, edit in self.hours.items():
            try:
                parse_hours(edit.text())
                self.hour_errors[day].clear()
            except ConsoleError as exc:
                self.hour_errors[day].setText(exc.diagnosis.what)
                ok = False
        if ok:
            try:
                BusinessCalendar.from_settings(self.timezone.text().strip() or None,
                                               self.value()["business_hours"],
                                               self.holiday_country.text().strip(),
                                               self._closed_days())
                self.calendar_error.clear()
            except ConsoleError as exc:
                self.calendar_error.setText(_what(exc))
                ok = False
        return ok

    def value(self) -> dict:
        """Keyword arguments for core's save_site."""
        return {"name": self.name.text().strip(), "region": self.region.text().strip(),
                "facility_type": self.facility_type.text().strip(),
                "address": self.address.text().strip(), "contacts": self.contacts.text().strip(),
                "timezone": self.timezone.text().strip() or DEFAULT_TIMEZONE,
                "business_hours": {d: e.text().strip() for d, e in self.hours.items()},
                "holiday_country": self.holiday_country.text().strip().upper(),
                "closed_days": self._closed_days(), "notes": self.notes.text().strip(),
                "site_id": self.chooser.currentData(), "replace_closed_days": True}

    def save(self) -> workers.Worker:
        """Validate and save through core on a worker: said (and ``saved`` emitted) once saved,
        else the diagnosis."""
        self.message.setStyleSheet("")
        self.message.setText("Saving…")
        return workers.start(_save, self.ctx, actor_of(self.ctx), self.value(),
                             on_result=self._saved, on_error=self._failed)

    def _saved(self, site) -> None:
        self.reload(site.id, f"Saved {site.name} ({site.timezone}, holidays "
                             f"{site.holiday_country or 'none'}).")
        self.saved.emit(site)
