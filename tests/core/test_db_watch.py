"""ChangeWatch: one PRAGMA tells whether anyone committed to the database since the last look."""

from __future__ import annotations

import subprocess
import sys

from pacs_console.core.db.engine import Database
from pacs_console.core.db.nodes import save_node
from pacs_console.core.db.watch import ChangeWatch
from tests.conftest import ROOT


def test_a_watch_never_creates_the_database(tmp_path):
    path = tmp_path / "absent.sqlite3"
    watch = ChangeWatch(path)
    assert watch.version() is None and not watch.changed()
    assert not path.exists()


def test_commits_by_this_process_and_by_another_are_seen_reads_are_not(tmp_path):
    path = tmp_path / "console.sqlite3"
    db = Database(path)
    watch = ChangeWatch(path)
    try:
        assert watch.changed()  # the first look: whoever shows data loads it now
        assert not watch.changed()
        save_node(db, "Ridge CT", "RIDGECT", "127.0.0.2", 104)  # the app's own pool
        assert watch.changed()
        assert not watch.changed()
        from pacs_console.core.db.nodes import list_nodes

        list_nodes(db)  # reading changes nothing
        assert not watch.changed()
        subprocess.run([sys.executable, "-c", (
            "import sys; from pathlib import Path\n"
            "from pacs_console.core.db.engine import Database\n"
            "from pacs_console.core.db.nodes import save_node\n"
            "save_node(Database(Path(sys.argv[1])), 'Korle Bu MR', 'KBMR', '127.0.0.3', 104)"),
            str(path)], check=True, cwd=ROOT, timeout=60)
        assert watch.changed()
    finally:
        watch.close()
        db.close()


def test_an_unreadable_file_is_ask_again_later_not_an_error(tmp_path):
    path = tmp_path / "console.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    watch = ChangeWatch(path)
    assert watch.version() is None and not watch.changed()


def test_the_incident_marker_moves_with_record_changes_not_with_echoes(tmp_path):
    from pacs_console.core.db.testruns import save_test_run
    from pacs_console.core.incidents import service, sites
    from pacs_console.core.incidents.queries import change_marker

    db = Database(tmp_path / "console.sqlite3")
    try:
        seen = [change_marker(db)]

        def moved() -> bool:
            seen.append(change_marker(db))
            return seen[-1] != seen[-2]

        incident = service.create_incident(db, title="Archive full", severity="high")
        assert moved()
        service.add_note(db, incident.id, "Ordered disks")
        assert moved()
        service.set_status(db, incident.id, "acknowledged")
        assert moved()
        sites.save_site(db, "Ho Teaching Hospital")
        assert moved()
        sites.start_visit(db, "Ho Teaching Hospital", engineer="Kofi")
        assert moved()
        save_test_run(db, kind="echo-series", outcome="ok")
        assert not moved()
    finally:
        db.close()
