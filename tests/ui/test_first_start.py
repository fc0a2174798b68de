"""A first start always works: the real app, 20 fresh data folders, --demo, checked from outside.

Each start is a child process (offscreen Qt) on a new data folder; the test waits for the app's
own log line, then reads the address book from the app's database and echoes both the demo PACS
and the console's Storage SCP over the wire. Two starts run at a time, as a laptop's two cores.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pynetdicom.sop_class import Verification

from pacs_console.core.db.engine import Database
from pacs_console.core.db.nodes import DEMO_NODE_NAME, list_nodes
from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.core.settings import Settings, save_settings
from pacs_console.logs import LOG_FILE_NAME
from pacs_console.paths import app_paths

STARTS = 20
READY = re.compile(r"Demo PACS (\S+) on 127\.0\.0\.1:(\d+)")
SCP = re.compile(r"Storage SCP \S+ listening on \S+:(\d+)")


def _echo(ae_title: str, port: int, calling: str = "FIRSTSTART") -> int | None:
    ae = make_ae(calling, requested=[Verification])
    assoc = ae.associate("127.0.0.1", port, ae_title=ae_title)
    if not assoc.is_established:
        return None
    try:
        status = assoc.send_c_echo()
        return int(status.Status) if status else None
    finally:
        assoc.release()


def _first_start(folder: Path) -> dict:
    """Start the app on a fresh folder; return what a person (and a peer) would find."""
    paths = app_paths(folder).ensure()
    # Only the Storage SCP's port is set: "any free port" (the OS picks it when the app binds),
    # so two starts at once never collide; the database, store and logs are as new as on a
    # first start.
    save_settings(paths.settings_file, Settings(scp_port=0))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-m", "pacs_console", "--data-dir", str(folder),
                             "--demo", "--quit-after", "90"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log_file = paths.logs / LOG_FILE_NAME
    found = None
    try:
        deadline = time.monotonic() + 60
        listening = None
        while (found is None or listening is None) and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.2)
            text = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
            found, listening = READY.search(text), SCP.search(text)
        outcome = {"ready": found is not None and listening is not None, "exit": proc.poll()}
        if outcome["ready"]:
            database = Database(paths.database, migrate=False)
            try:
                demo_nodes = [n for n in list_nodes(database) if n.name == DEMO_NODE_NAME]
            finally:
                database.close()
            outcome["book"] = [(n.ae_title, n.port) for n in demo_nodes]
            outcome["demo_echo"] = (_echo(demo_nodes[0].ae_title, demo_nodes[0].port)
                                    if demo_nodes else None)
            # The Storage SCP accepts the AEs it knows (the address book, the demo PACS): the
            # demo is the peer that moves studies into it.
            outcome["scp_echo"] = _echo(Settings().ae_title, int(listening.group(1)),
                                        calling="DEMOPACS")
            outcome["logged_port"] = int(found.group(2))
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    log_text = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    outcome["errors"] = [line for line in log_text.splitlines()
                         if " ERROR " in line or "partially initialized" in line]
    outcome["traceback"] = "Traceback" in stderr or "Traceback" in log_text
    return outcome


# ~65 s alone on 2 cores; a full suite beside other work on the same cores has taken longer.
@pytest.mark.timeout(300)
def test_twenty_first_starts_with_the_demo_all_work(tmp_path):
    folders = [tmp_path / f"fresh-{index:02d}" for index in range(STARTS)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(_first_start, folders))
    failures = []
    for folder, outcome in zip(folders, outcomes, strict=True):
        good = (outcome["ready"] and len(outcome["book"]) == 1
                and outcome["book"][0][1] == outcome["logged_port"]
                and outcome["demo_echo"] == 0 and outcome["scp_echo"] == 0
                and not outcome["errors"] and not outcome["traceback"])
        if not good:
            failures.append(f"{folder.name}: {outcome}")
    assert not failures, f"{len(failures)} of {STARTS} first starts failed:\n" + "\n".join(failures)
