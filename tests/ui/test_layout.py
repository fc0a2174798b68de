"""Issue 14, item 6: the window fits a 1366×768 field laptop and reads like plain language.

The real main window runs in a child process whose offscreen screen is 1366×768
(tests/ui/layout_probe.py): it is used with clicks and keys on a fresh data folder, then on
the embedded demo PACS, and what a person would see is measured.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.ui.layout_probe import UID
from tests.ui.screens import ROOT, offscreen_env

PANELS = ("Discovery", "Tests", "Viewer", "Incidents", "Reports", "Sync")


@pytest.fixture(scope="module")
def seen(tmp_path_factory):
    folder = tmp_path_factory.mktemp("layout")
    env = offscreen_env(1366, 768, 1, folder)
    done = subprocess.run([sys.executable, "-m", "tests.ui.layout_probe", str(folder / "data")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("LAYOUT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1][len("LAYOUT "):])


def test_window_opens_fitted_to_the_laptop_screen(seen):
    sx, sy, sw, sh = seen["screen"]
    fx, fy, fw, fh = seen["frame"]
    assert (sw, sh) == (1366, 768)
    assert fx >= sx and fy >= sy and fx + fw <= sx + sw and fy + fh <= sy + sh, seen["frame"]
    assert fw >= 0.95 * sw and fh >= 0.95 * sh, f"window {fw}×{fh} leaves the laptop unused"
    assert seen["minimum"][0] <= sw and seen["minimum"][1] <= sh, seen["minimum"]


@pytest.mark.parametrize("panel", PANELS)
def test_every_panel_has_heading_purpose_and_an_empty_state(seen, panel):
    shown = seen["panels"][panel]
    assert shown["headings"] == [f"<h2>{panel}</h2>"], shown
    assert len(shown["purpose"]) == 1 and len(shown["purpose"][0]) > 30, shown
    if panel == "Discovery":  # its empty state is its status line
        assert any("press Start sweep" in text for text in shown["labels"]), shown
    elif panel == "Incidents":  # and here the count line under the (empty) list
        assert any("press New…" in text for text in shown["labels"]), shown
    else:
        assert shown["empty"] and all(len(text) > 40 for text in shown["empty"]), shown


def test_charts_are_tall_enough_with_plain_units(seen):
    for tab, plot in seen["plots"].items():
        assert plot["height"] >= 160, f"{tab} chart is {plot['height']} px high"
        for side, label in plot["axes"].items():
            assert "(x" not in label and "x0." not in label, f"{tab} {side} axis: {label!r}"
            assert re.search(r"\((ms|s|MB/s|images/s, MB/s)\)", label), f"{tab} {side}: {label!r}"


def test_address_book_is_a_compact_strip_that_opens(seen):
    book = seen["book"]
    assert book["toggle"], "no way to collapse or open the address book"
    assert book["tabs_top"] <= 130, f"the collapsed book takes the tabs down to {book['tabs_top']}"
    assert book["opened_rows"] >= 1 and book["tabs_top_again"] == book["opened_top"], book
    assert book["opened_top"] <= 260, book  # open, it stays a few rows high


def test_output_areas_are_resizable(seen):
    assert all(seen["resizable"].values()), seen["resizable"]


def test_query_results_show_twelve_rows_with_human_headers(seen):
    query = seen["query"]
    assert query["rows"] > 0
    assert query["visible_rows"] >= 12, query
    assert "Patient name" in query["headers"] and "PatientName" not in query["headers"]
    assert not [h for h in query["headers"] if re.fullmatch(r"[A-Z][a-z]+(?:[A-Z][a-z]+)+", h)]


def test_capabilities_and_association_read_as_names_not_uids_or_json(seen):
    table, association = seen["capabilities"]["table"], seen["capabilities"]["association"]
    assert "CT Image Storage" in table and "Explicit VR Little Endian" in table
    assert not UID.search(table), UID.search(table).group(0)
    assert not association.lstrip().startswith("{") and '"peer"' not in association
    assert "AE title" in association and "Verification SOP Class" in association


def test_viewer_tags_fit_without_scrolling_and_nothing_empty_below_the_image(seen):
    shown = seen["viewer"]
    assert not shown["tag_hscroll"] and shown["tag_columns_width"] <= shown["tag_viewport"], shown
    syntax = [v for v in shown["ui_values"] if v.endswith("1.2.840.10008.1.2.1")]
    assert syntax and syntax[0].startswith("Explicit VR Little Endian"), shown["ui_values"][:6]
    assert not shown["log_visible"], "an empty log box sits under the image"
    assert shown["below_image"] < 60, shown  # the slider row, not an empty box


@pytest.mark.parametrize("panel, text_column", [("Incidents", "Title"), ("Sync", "What")])
def test_text_columns_read_whole_and_any_cut_value_shows_in_its_tooltip(seen, panel, text_column):
    """The free-text column takes the room (titles as people write them read whole at
    1366×768); a value another column cuts short is shown whole when the mouse rests on it."""
    cells = seen["cells"][panel]
    assert not [c for c in cells if c["header"] == text_column], cells
    assert all(c["tooltip"] for c in cells), [c for c in cells if not c["tooltip"]]


def test_the_incident_detail_reads_without_a_uuid_and_leaves_the_list_room(seen):
    shown = " ".join(seen["incident_detail"])
    assert "Slow retrieves from the archive after 16:00" in shown or "#" in shown, shown
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-", shown), shown
    split = seen["incident_split"]
    assert split["table"] >= split["panel"] // 3, split  # the list is not squeezed to 5 rows


def test_nothing_is_clipped(seen):
    clipped = {view: found for view, found in seen["clipped"].items() if found}
    assert not clipped, clipped


