"""The report form's free-text lines: time spent (``activity = minutes``) and parts used
(``part; quantity; serial; note``) read into records and written back the same way."""

from __future__ import annotations

from pacs_console.core.reports.model import PartUsed, TimeEntry


def test_a_time_line_reads_its_activity_and_minutes_and_writes_back_the_same():
    entry = TimeEntry.from_line("Travel Accra = Tamale = 60")  # the last '=' separates
    assert entry == TimeEntry("Travel Accra = Tamale", 60.0)
    assert entry.line == "Travel Accra = Tamale = 60"
    assert TimeEntry.from_line(entry.line) == entry
    assert TimeEntry.from_line("= 15") == TimeEntry("= 15", 15.0)  # no activity: the line names it


def test_a_time_line_without_a_number_is_not_an_entry():
    assert TimeEntry.from_line("Diagnosis = about an hour") is None
    assert TimeEntry.from_line("Diagnosis") is None


def test_a_part_line_reads_its_fields_with_a_quantity_of_one_when_unreadable():
    assert PartUsed.from_line("Cat6 patch cable 3 m; 2; ; Workstation 3") == PartUsed(
        "Cat6 patch cable 3 m", 2.0, "", "Workstation 3")
    assert PartUsed.from_line("Switch licence") == PartUsed("Switch licence", 1, "", "")
    assert PartUsed.from_line("Fan; two; SN-1").quantity == 1
    part = PartUsed("Gigabit switch port licence", 1, "SW-88213", "")
    assert part.line == "Gigabit switch port licence; 1; SW-88213; "
    assert PartUsed.from_line(part.line) == part
