"""`find` puts its query on the wire first: the log and the console's context come up while the
node works on it (``commands/starting.py``), and the run is the same as ever: what it prints,
what it logs (an unusable or old settings file included), what it saves and its exit code.

No timing here (speed lives in tests/bench): the child records which modules were loaded at
the moment its C-FIND request went out.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT
from tests.dicom_samples import ct_series, to_bytes
from tests.loopback import LoopbackListener

# The console's own main(), with sendall watched: at the A-ASSOCIATE-RQ (PDU type 1) and at
# the first P-DATA-TF (the C-FIND request, a C-STORE's first) the loaded modules of interest
# are noted. The lean Upper Layer makes its socket from the C module (``wire.params.connect``),
# whose type cannot be patched: the child makes its sockets of a watching subclass instead.
_WATCHED = ("logging", "pacs_console.logs", "pacs_console.core.context", "queue")
_RUN = ("import _socket, json, sys\n"
        "seen = {}\n"
        "moments = {b'\\x01': 'at_associate', b'\\x04': 'at_request'}\n"
        "class Watched(_socket.socket):\n"
        "    __slots__ = ()  # as the C type: socket.socket subclasses this one if loaded\n"
        "    def sendall(self, data, *rest):\n"
        "        moment = moments.get(bytes(data[:1]))\n"
        "        if moment is not None and moment not in seen:\n"
        f"            seen[moment] = sorted(n for n in {_WATCHED!r} if n in sys.modules)\n"
        "        return super().sendall(data, *rest)\n"
        "_socket.socket = Watched\n"
        "from pacs_console.cli import main\n"
        "code = main(sys.argv[1:])\n"
        f"seen['at_end'] = sorted(n for n in {_WATCHED!r} if n in sys.modules)\n"
        "sys.stdout.flush()\n"
        "print('SEEN ' + json.dumps(seen), file=sys.stderr)\n"
        "sys.exit(code)\n")


def _watched(data_dir, orthanc, *command: str) -> tuple[subprocess.CompletedProcess, dict]:
    return watched_run("--data-dir", str(data_dir), *command, "-aec", "ORTHANC", orthanc.host,
                       str(orthanc.dicom_port))


def watched_run(*args: str) -> tuple[subprocess.CompletedProcess, dict]:
    """The console run with ``args``, and the modules of interest it had loaded at each moment
    (``at_associate``, ``at_request``, ``at_end``)."""
    proc = subprocess.run([sys.executable, "-c", _RUN, *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    line = next((x for x in proc.stderr.splitlines() if x.startswith("SEEN ")), "SEEN {}")
    return proc, json.loads(line[len("SEEN "):])


def _find(data_dir, orthanc, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    return _watched(data_dir, orthanc, "find", "--name", "*", *extra)


def _log(data_dir) -> str:
    return (data_dir / "logs" / "pacs-console.log").read_text(encoding="utf-8")


def _saved_runs(data_dir) -> list:
    from pacs_console.core.db.engine import Database
    from pacs_console.core.db.testruns import list_test_runs

    db = Database(data_dir / "data" / "pacs-console.sqlite3")
    try:
        return list_test_runs(db)
    finally:
        db.close()


def test_the_query_goes_out_before_the_log_and_an_unusable_settings_file_is_still_logged(
        orthanc, data_dir):
    for ds in ct_series(1, patient_id="WF-1"):
        orthanc.upload(to_bytes(ds))
    (data_dir / "config").mkdir()
    (data_dir / "config" / "settings.json").write_text("{not json")
    for _ in range(2):  # the first run creates the database (ORM), the second saves light
        proc, seen = _find(data_dir, orthanc)
        assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
        assert "WF-1" in proc.stdout and "C-FIND: 1 matches" in proc.stdout
        assert seen["at_request"] == []  # nothing of the log or the context before the query ...
        assert set(seen["at_end"]) == set(_WATCHED)  # ... but the settings' problem is logged
    assert _log(data_dir).count("Settings unusable, running on defaults") == 2
    runs = _saved_runs(data_dir)
    assert [(r.kind, r.outcome) for r in runs] == [("find", "ok"), ("find", "ok")]
    assert runs[0].metrics["count"] == 1 and runs[0].parameters == runs[1].parameters


def test_an_old_settings_file_is_upgraded_and_logged_before_the_query(orthanc, data_dir):
    for ds in ct_series(1, patient_id="WF-2"):
        orthanc.upload(to_bytes(ds))
    config = data_dir / "config"
    config.mkdir()
    (config / "settings.json").write_text(json.dumps({"schema_version": 1, "timeout": 7}))
    proc, seen = _find(data_dir, orthanc, "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["count"] == 1
    # The upgrade is logged, so the log comes up first in this run (once per installation).
    assert "logging" in seen["at_request"]
    assert "Settings upgraded from schema 1 to 2" in _log(data_dir)
    upgraded = json.loads((config / "settings.json").read_text())
    assert upgraded["schema_version"] == 2 and upgraded["acse_timeout"] == 7.0
    assert (config / "settings.v1.bak").exists()
    # The query ran on the upgraded settings.
    assert _saved_runs(data_dir)[0].parameters["target"]["timeouts"]["acse"] == 7.0


_LATE_DATACLASS = (
    "import dataclasses, sys\n"
    "@dataclasses.dataclass\n"
    "class Late:\n"
    "    a: int\n"
    "print(Late.__doc__, dataclasses.inspect is sys.modules['inspect'])\n")


def test_a_find_never_loads_inspect_and_dataclasses_still_get_their_signatures(
        orthanc, data_dir):
    """dataclasses imports inspect (~5 ms) only for the signature of a class without a
    docstring: the command line gives it a stand-in that loads inspect when first asked."""
    for ds in ct_series(1, patient_id="WF-3"):
        orthanc.upload(to_bytes(ds))
    code = ("import sys\n"
            "from pacs_console.cli import main\n"
            "code = main(sys.argv[1:])\n"
            "print('INSPECT', 'inspect' in sys.modules)\n" + _LATE_DATACLASS)
    for _ in range(2):  # the second run saves its evidence through the light path
        proc = subprocess.run([sys.executable, "-c", code, "--data-dir", str(data_dir), "find",
                               "--name", "*", "-aec", "ORTHANC", orthanc.host,
                               str(orthanc.dicom_port)],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "C-FIND: 1 matches" in proc.stdout
    assert "INSPECT False" in proc.stdout  # the whole run: the query, its output, its evidence
    assert proc.stdout.endswith("Late(a: int) True\n")  # ... and inspect when asked for


class _ClosesEach(LoopbackListener):
    def handle(self, conn) -> None:
        conn.close()


def test_what_the_lean_path_hands_to_pynetdicom_is_logged_as_ever(data_dir):
    """A peer that accepts TCP and closes without a word is asked again through pynetdicom,
    which writes to the log: the log is up before it (find and echo)."""
    listener = _ClosesEach()
    port = str(listener.port)
    try:
        for command in (["find", "--name", "*"], ["echo"]):
            proc = subprocess.run([sys.executable, "-m", "pacs_console", "--data-dir",
                                   str(data_dir), "-v", *command, "--no-save", "-to", "2",
                                   "-ta", "2", "127.0.0.1", port],
                                  capture_output=True, text=True, timeout=120, cwd=ROOT)
            assert proc.returncode == 7, proc.stdout + proc.stderr[-2000:]  # aborted
            assert "closed the connection without answering" in proc.stdout
            log = _log(data_dir)
            assert "pynetdicom" in log and "Requesting Association" in log, log[-2000:]
            (data_dir / "logs" / "pacs-console.log").unlink()
    finally:
        listener.close()


def test_a_find_or_an_echo_that_worked_never_sets_up_the_log_or_the_context(orthanc, data_dir):
    for ds in ct_series(1, patient_id="WF-4"):
        orthanc.upload(to_bytes(ds))
    first, _ = _watched(data_dir, orthanc, "echo")  # creates the database (ORM, logged)
    assert first.returncode == 0, first.stderr[-2000:]
    for command in (("echo",), ("find", "--name", "*")):
        for extra in ((), ("--no-save",)):  # saved through the light path, then not saved
            proc, seen = _watched(data_dir, orthanc, *command, *extra)
            assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
            assert "#1 OK ORTHANC@" in proc.stdout or "C-FIND: 1 matches" in proc.stdout
            assert seen["at_request"] == seen["at_end"] == []
    runs = _saved_runs(data_dir)
    assert [(r.kind, r.outcome) for r in runs] == [("find", "ok"), ("echo", "ok"), ("echo", "ok")]
