"""Acceptance fixtures: a 1366x768 offscreen screen and the ``console`` (see window.py)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from tests.ui.acceptance.window import HEIGHT, WIDTH, close_console, open_console


def _laptop_screen() -> None:
    """Under the offscreen platform, give Qt one 1366x768 screen (its default is 800x800), so
    "fitted to the screen" means the field laptop. Only before the QApplication exists, and only
    when nobody chose a platform configuration already (a real or Xvfb display keeps its own)."""
    if os.environ.get("QT_QPA_PLATFORM", "offscreen") != "offscreen":
        return
    config = Path(tempfile.gettempdir()) / f"pacs-console-screen-{WIDTH}x{HEIGHT}.json"
    config.write_text(json.dumps({"screens": [{
        "name": "laptop", "x": 0, "y": 0, "width": WIDTH, "height": HEIGHT,
        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


_laptop_screen()


@pytest.fixture(scope="session")
def _seeded_archive():
    from pacs_console.core.dicom.synth import studies as synth

    return synth.generate_demo_studies()


@pytest.fixture
def _demo_archive(_seeded_archive):
    """The demo's seeded synthetic archive, generated once per session instead of once per test
    (2-3 s each on a loaded machine). Same studies, same UIDs: generation is deterministic.
    Patched only while an acceptance test runs."""
    from pacs_console.core.dicom.servers import demo

    original = demo.generate_demo_studies
    demo.generate_demo_studies = lambda *args, **kwargs: (
        [list(study) for study in _seeded_archive] if not args and not kwargs
        else original(*args, **kwargs))
    yield
    demo.generate_demo_studies = original


@pytest.fixture
def console(qapp, data_dir, _demo_archive):
    """The real console on a fresh data folder with the demo PACS running and listed."""
    import sys

    from pacs_console.app import tune_interpreter_for_gui

    previous = sys.getswitchinterval()
    tune_interpreter_for_gui()
    opened = open_console(data_dir)
    try:
        yield opened
    finally:
        close_console(opened)
        sys.setswitchinterval(previous)


# What the offscreen platform says when a popup (menu, combo list, the file dialog's completer)
# opens: it cannot raise windows or grab the keyboard. Not the console's doing.
OFFSCREEN_NOISE = ("This plugin does not support raise", "does not support grabbing the keyboard",
                   "does not support grabbing the mouse")


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE, extend=True))


@pytest.fixture
def person(qtbot, console):
    """The suite's console (real window, 1366×768, fresh data folder, demo PACS listed), with
    the motions of the record-keeping journeys (records_support.Person)."""
    from tests.ui.acceptance.records_support import Person

    someone = Person(qtbot, console.window, console.data_dir)
    someone.console = console
    someone.go_to("Tests")
    return someone
