"""A big address book imported through the file dialog: the window keeps answering while the
rows are read, checked and written (the work runs off the GUI thread), then lists them all.
(Replaces test_import_runs_off_the_gui_thread of tests/ui/test_tests_panel.py.)"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

from tests.ui.acceptance.window import choose_file

ROWS = 10_000


def test_a_10000_row_import_keeps_the_window_answering(console, tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("name,ae_title,host,port\n" + "".join(
        f"n{i},AE{i % 1000},127.0.0.1,{1 + i % 60000}\n" for i in range(ROWS)))
    tests = console.choose_nav("Tests")
    # What a person feels as a frozen window: the longest gap between two turns of the event
    # loop, measured by a timer that wants to run every 20 ms.
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    with console.dialogs(choose_file(big)):
        console.click_button("Import…", tests)
    timer.start()
    started = time.monotonic()
    try:
        console.wait_for(lambda: len(console.rows(tests.table)) == ROWS + 1, 300,
                         "all rows listed", observe=lambda: len(console.rows(tests.table)))
    finally:
        timer.stop()
    took = time.monotonic() - started
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert took > 1.0 and len(ticks) > 20, (took, len(ticks))  # there was work to wait for
    assert max(gaps) < took / 2, f"the window froze {max(gaps):.2f} s of a {took:.1f} s import"
