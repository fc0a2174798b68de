"""A command line that starts fast: what `echo` imports, and the parser map that keeps it so.

No timing here (speed lives in tests/bench): these tests check *which* modules a command loads,
read from the child's own ``-X importtime`` report, so a heavy import creeping back in fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from importlib import import_module

from tests.conftest import ROOT

# Each costs 150-300 ms of start-up and an echo that only prints needs none of them.
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "pynetdicom", "pydicom", "numpy", "PySide6")


# The console's own entry point, then every module it loaded (sys.modules at exit: modules that
# importlib.import_module loads never show in -X importtime's report).
# Also how many times the cyclic collector ran during main() (cli.CLI_GC_THRESHOLD).
_RUN = ("import gc, json, sys\n"
        "from pacs_console.cli import main\n"
        "runs = lambda: sum(s['collections'] for s in gc.get_stats())\n"
        "before = runs()\n"
        "code = main(sys.argv[1:])\n"
        "gc.disable()  # counting allocates: no collection from here on\n"
        "sys.stdout.flush()\n"
        "print(f'COLLECTIONS {runs() - before} {gc.get_threshold()[0]}', file=sys.stderr)\n"
        "print('MODULES ' + json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
        "sys.exit(code)\n")


def _imported(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", _RUN, *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    line = next((x for x in proc.stderr.splitlines() if x.startswith("MODULES ")), "MODULES []")
    return proc, set(json.loads(line[len("MODULES "):]))


def _heavy(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] in HEAVY}


def _collections(proc: subprocess.CompletedProcess) -> tuple[int, int]:
    """(collector runs during main(), the threshold main() left behind)."""
    line = next(x for x in proc.stderr.splitlines() if x.startswith("COLLECTIONS "))
    runs, threshold = line.split()[1:]
    return int(runs), int(threshold)


def test_echo_no_save_loads_no_database_no_pynetdicom_no_pydicom(orthanc, data_dir):
    proc, names = _imported("--data-dir", str(data_dir), "echo", "--no-save", "-aec", "ORTHANC",
                            orthanc.host, str(orthanc.dicom_port))
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert proc.stdout.startswith(f"#1 OK ORTHANC@{orthanc.host}:{orthanc.dicom_port}")
    assert "pacs_console.core.dicom.ops.echo" in names and "pacs_console.core.dicom.wire.ul" in names
    assert not _heavy(names), sorted(_heavy(names))
    assert "socket" not in names  # wire.params.connect: the C module only
    assert "pacs_console.core.dicom.wire.tls" not in names  # TLS settings: only when asked for
    # Only echo's parser is built: no other command's module is imported.
    from pacs_console.commands import COMMAND_MODULES

    others = {f"pacs_console.commands.{m}" for m in COMMAND_MODULES if m != "echo"}
    assert "pacs_console.commands.echo" in names and not names & others, sorted(names & others)


def test_echo_count_no_save_stays_light_and_a_refusal_too(orthanc, data_dir):
    proc, names = _imported("--data-dir", str(data_dir), "echo", "--no-save", "--count", "3",
                            "--interval", "0", "-aec", "ORTHANC", orthanc.host,
                            str(orthanc.dicom_port))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "3 sent, 3 OK" in proc.stdout
    assert not _heavy(names), sorted(_heavy(names))


def test_echo_that_saves_prints_the_result_before_opening_the_database(orthanc, data_dir):
    proc, names = _imported("--data-dir", str(data_dir), "echo", "-aec", "ORTHANC", orthanc.host,
                            str(orthanc.dicom_port))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "sqlmodel" in names  # the evidence is saved ...
    lines = proc.stderr.splitlines()
    first_db = next(i for i, line in enumerate(lines) if line.rstrip().endswith("| sqlmodel")
                    or "sqlalchemy" in line)
    # ... after the echo itself: the lean path's modules were all loaded before the database.
    assert all(i < first_db for i, line in enumerate(lines) if line.rstrip().endswith(
        ("| pacs_console.core.dicom.wire.ul", "| pacs_console.core.dicom.ops.echo")))


# Standard-library modules an echo that worked has no use for (together ~15 ms of a start):
# typing, statistics (a series' figures), uuid (platform), tempfile (saving settings), shutil
# (argparse's terminal width), logging.handlers (a log file nothing was written to),
# encodings.idna (a str host name given to the resolver).
UNNEEDED = ("typing", "statistics", "uuid", "platform", "tempfile", "shutil", "logging.handlers",
            "encodings.idna")


def test_an_echo_that_saves_through_the_light_path_loads_no_unneeded_module(orthanc, data_dir):
    target = ("-aec", "ORTHANC", orthanc.host, str(orthanc.dicom_port))
    first, _ = _imported("--data-dir", str(data_dir), "echo", *target)  # creates the database
    assert first.returncode == 0, first.stderr[-2000:]
    proc, names = _imported("--data-dir", str(data_dir), "echo", *target)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pacs_console.core.db.light" in names  # the evidence row was appended ...
    assert not _heavy(names), sorted(_heavy(names))  # ... without the ORM
    assert not names & set(UNNEEDED), sorted(names & set(UNNEEDED))
    # Start-up's long-lived objects are not walked by the cyclic collector again and again;
    # main() gives its caller Python's default threshold back.
    assert _collections(proc) == (0, 700)


# A dataclass without a docstring gets one from inspect.signature() when it is created: ~0.2 ms
# of every start for each such class an echo, a find, a store or a move loads.
_UNDOCUMENTED = (
    "import dataclasses, sys\n"
    "import pacs_console.cli, pacs_console.commands.echo, pacs_console.commands.find\n"
    "import pacs_console.core.dicom.ops.echo, pacs_console.core.dicom.ops.query\n"
    "import pacs_console.core.context, pacs_console.logs, pacs_console.core.db.light\n"
    "import pacs_console.core.dicom.wire.find\n"
    "import pacs_console.core.dicom.ops.store, pacs_console.core.dicom.ops.retrieve\n"
    "import pacs_console.core.dicom.servers.storage, pacs_console.commands.transfer\n"
    "for name, module in sorted(sys.modules.items()):\n"
    "    for value in vars(module).values() if name.startswith('pacs_console') else ():\n"
    "        if (isinstance(value, type) and value.__module__ == name\n"
    "                and dataclasses.is_dataclass(value)\n"
    "                and (value.__doc__ or '').startswith(value.__name__ + '(')):\n"
    "            print(name, value.__name__)\n")


def test_the_dataclasses_an_echo_a_find_a_store_or_a_move_loads_have_docstrings():
    proc = subprocess.run([sys.executable, "-c", _UNDOCUMENTED], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr[-2000:]


def test_command_homes_name_the_module_that_registers_each_command():
    from pacs_console.commands import COMMAND_HOMES, COMMAND_MODULES

    registered = {}
    for module in COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        import_module(f"pacs_console.commands.{module}").register(sub)
        registered.update(dict.fromkeys(sub.choices, module))
    assert COMMAND_HOMES == registered


def test_parser_built_for_one_command_still_parses_global_options_and_the_command():
    from pacs_console.cli import _command_word, build_parser

    argv = ["--data-dir", "echo", "-v", "echo", "--no-save", "-aec", "X", "h", "104"]
    assert _command_word(build_parser([]), argv) == "echo"
    args = build_parser(argv).parse_args(argv)
    assert args.command == "echo" and args.data_dir == "echo" and args.port == 104
    assert _command_word(build_parser([]), ["--data=x", "store", "f"]) == "store"
    assert _command_word(build_parser([]), ["--data", "x", "find"]) == "find"
    assert _command_word(build_parser([]), ["--version"]) is None


def test_the_announced_implementation_class_uid_is_pynetdicoms():
    import pynetdicom

    from pacs_console.core.dicom.wire.params import IMPLEMENTATION_CLASS_UID

    assert IMPLEMENTATION_CLASS_UID == str(pynetdicom.PYNETDICOM_IMPLEMENTATION_UID)


def test_a_second_echo_saves_its_evidence_without_loading_the_orm(orthanc, data_dir):
    from pacs_console.core.db.engine import Database
    from pacs_console.core.db.testruns import list_test_runs

    args = ("--data-dir", str(data_dir), "echo", "-aec", "ORTHANC", orthanc.host,
            str(orthanc.dicom_port))
    first, _ = _imported(*args)  # creates and migrates the database through the ORM
    second, names = _imported(*args)
    assert first.returncode == 0 and second.returncode == 0, second.stderr[-2000:]
    assert not _heavy(names), sorted(_heavy(names))
    db = Database(data_dir / "data" / "pacs-console.sqlite3")
    try:
        runs = list_test_runs(db)
    finally:
        db.close()
    assert [r.kind for r in runs] == ["echo", "echo"] and all(r.outcome == "ok" for r in runs)
    assert runs[0].association["accepted"][0]["name"] == "Verification SOP Class"


def _runs_and_raw(data_dir):
    """The test runs as the ORM reads them, and the database's raw bytes (WAL included)."""
    from pacs_console.core.db.engine import Database
    from pacs_console.core.db.testruns import list_test_runs

    path = data_dir / "data" / "pacs-console.sqlite3"
    db = Database(path)
    try:
        runs = list_test_runs(db)
    finally:
        db.close()
    wal = path.with_name(path.name + "-wal")
    return runs, path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _mensah_study(count: int = 2):
    from pacs_console.core.dicom.synth.studies import PatientInfo, generate_study

    return generate_study("CT", images=count, series=1, size=32, seed=5,
                          patient=PatientInfo("Mensah^Ɛfua", "KB123456", "19800101", "F"))


def test_find_loads_no_database_no_pynetdicom_no_pydicom_and_its_evidence_is_redacted(
        orthanc, data_dir):
    from tests.core.dicom_ops.helpers import part10

    for ds in _mensah_study():
        orthanc.upload(part10(ds))
    args = ("--data-dir", str(data_dir), "find", "--name", "Mensah*", "--patient-id", "KB123456",
            "-aec", "ORTHANC", orthanc.host, str(orthanc.dicom_port))
    first, _ = _imported(*args)  # creates and migrates the database through the ORM
    second, names = _imported(*args)
    assert first.returncode == 0 and second.returncode == 0, second.stderr[-2000:]
    assert "KB123456" in second.stdout and "C-FIND: 1 matches" in second.stdout
    assert "pacs_console.core.dicom.wire.lean_query" in names
    assert not _heavy(names), sorted(_heavy(names))
    # The lean Upper Layer connects on the C module (wire.params.connect): the socket module's
    # enum tables, selectors and array (~3 ms) are no part of a query that works.
    assert "socket" not in names and "selectors" not in names
    runs, raw = _runs_and_raw(data_dir)
    assert [r.kind for r in runs] == ["find", "find"]
    light, orm = runs  # newest first: the second run went through the light path
    assert light.parameters == orm.parameters and light.outcome == orm.outcome == "ok"
    assert light.association["accepted"][0]["name"].startswith("Study Root")
    assert b"Mensah" not in raw and b"KB123456" not in raw


def test_store_of_files_loads_no_database_no_pynetdicom_no_pydicom_and_saves_like_the_orm(
        orthanc, data_dir, tmp_path):
    from pacs_console.core.dicom.synth.studies import write_study

    folder = tmp_path / "cd"
    write_study(_mensah_study(3), folder)
    args = ("--data-dir", str(data_dir), "store", "-aec", "ORTHANC", orthanc.host,
            str(orthanc.dicom_port), str(folder))
    first, _ = _imported(*args)
    second, names = _imported(*args)
    assert first.returncode == 0 and second.returncode == 0, second.stderr[-2000:]
    assert "C-STORE: 3 sent, 0 failed" in second.stdout
    assert "pacs_console.core.dicom.wire.lean_store" in names
    assert not _heavy(names), sorted(_heavy(names))
    runs, raw = _runs_and_raw(data_dir)
    light, orm = runs
    assert light.kind == orm.kind == "store" and light.parameters == orm.parameters
    assert light.metrics["sent"] == orm.metrics["sent"] == 3
    assert light.association["accepted"][0]["name"] == "CT Image Storage"
    assert b"Mensah" not in raw and b"KB123456" not in raw


def test_a_store_of_files_asks_for_its_association_before_the_log_and_the_context(
        orthanc, data_dir, tmp_path):
    """As find and echo: only the folders and the settings are read before the A-ASSOCIATE-RQ;
    an unusable settings file is still logged on every run, an old one upgraded and logged
    first, and a store that worked, saved through the light path, never sets up the log or the
    context."""
    from pacs_console.core.dicom.synth.studies import write_study
    from tests.test_cli_find_wire_first import _WATCHED, _log, watched_run

    folder = tmp_path / "cd"
    write_study(_mensah_study(3), folder)
    args = ("--data-dir", str(data_dir), "store", "-aec", "ORTHANC", orthanc.host,
            str(orthanc.dicom_port), str(folder))
    settings = data_dir / "config" / "settings.json"
    settings.parent.mkdir()
    settings.write_text("{not json")
    for _ in range(2):  # the first run creates the database (ORM), the second saves light
        proc, seen = watched_run(*args)
        assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
        assert "C-STORE: 3 sent, 0 failed" in proc.stdout
        assert seen["at_associate"] == seen["at_request"] == []
        assert set(seen["at_end"]) >= set(_WATCHED) - {"queue"}  # the settings' problem logged
    assert _log(data_dir).count("Settings unusable, running on defaults") == 2
    settings.unlink()
    proc, seen = watched_run(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert seen["at_associate"] == seen["at_request"] == seen["at_end"] == []
    runs, _ = _runs_and_raw(data_dir)
    assert [(r.kind, r.outcome, r.metrics["sent"]) for r in runs] == [("store", "ok", 3)] * 3
    # An old settings file is upgraded and logged first, as ever (once per installation).
    settings.write_text(json.dumps({"schema_version": 1, "timeout": 7}))
    proc, seen = watched_run(*args, "--no-save")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert "logging" in seen["at_associate"]
    assert "Settings upgraded from schema 1 to 2" in _log(data_dir)
    assert json.loads(settings.read_text())["acse_timeout"] == 7.0


def test_a_store_that_pydicom_or_pynetdicom_serves_has_its_log_up_first(
        dcmqrscp, data_dir, tmp_path):
    """Compressed files for a node that takes uncompressed data only are decoded by pydicom
    on the lean path, a node the lean path cannot serve is asked again through pynetdicom:
    both write to the log, which is up before them (and not before the A-ASSOCIATE-RQ)."""
    from pacs_console.core.dicom.synth.studies import generate_study, write_study
    from tests.loopback import LoopbackListener
    from tests.peers.plugin import SCU_AET
    from tests.test_cli_find_wire_first import _log, watched_run

    folder = tmp_path / "rle"
    write_study(generate_study("CT", images=2, series=1, size=32, seed=6, compression="rle"),
                folder)
    proc, seen = watched_run("--data-dir", str(data_dir), "store", "--json", "-aec",
                             dcmqrscp.aet, "-aet", SCU_AET, dcmqrscp.host,
                             str(dcmqrscp.dicom_port), str(folder))
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    result = json.loads(proc.stdout)["result"]
    assert (result["sent"], result["decompressed"]) == (2, 2)
    assert seen["at_associate"] == []
    assert {"logging", "pacs_console.core.context"} <= set(seen["at_request"])

    class ClosesEach(LoopbackListener):
        def handle(self, conn) -> None:
            conn.close()

    listener = ClosesEach()
    try:
        proc = subprocess.run([sys.executable, "-m", "pacs_console", "--data-dir", str(data_dir),
                               "-v", "store", "--no-save", "-to", "2", "-ta", "2", "127.0.0.1",
                               str(listener.port), str(folder)],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
    finally:
        listener.close()
    assert proc.returncode == 7, proc.stdout + proc.stderr[-2000:]  # aborted
    assert "C-STORE: 0 sent, 2 failed" in proc.stdout
    log = _log(data_dir)
    assert "pynetdicom" in log and "Requesting Association" in log, log[-2000:]


def test_move_into_its_own_scp_loads_no_database_no_pynetdicom_no_pydicom(orthanc, data_dir):
    """The C-MOVE request on the lean path, the files into the lean Storage SCP, the evidence
    through the light path, redacted as the ORM path redacts it (the keys name the patient)."""
    from tests.core.dicom_ops.helpers import part10
    from tests.peers.plugin import SCU_PORT

    for ds in _mensah_study(3):
        orthanc.upload(part10(ds))
    args = ("--data-dir", str(data_dir), "move", "-P", "-L", "PATIENT", "--patient-id", "KB123456",
            "--scp-port", str(SCU_PORT), "-aec", "ORTHANC", orthanc.host, str(orthanc.dicom_port))
    first, _ = _imported(*args)
    second, names = _imported(*args)
    assert first.returncode == 0 and second.returncode == 0, first.stdout + second.stdout
    assert "C-MOVE Success: 3 completed, 0 failed" in second.stdout
    assert "pacs_console.core.dicom.wire.retrieve" in names
    assert not _heavy(names), sorted(_heavy(names))
    assert len(list((data_dir / "data" / "store").rglob("*.dcm"))) == 3
    runs, raw = _runs_and_raw(data_dir)
    light, orm = runs
    assert light.kind == orm.kind == "move" and light.parameters == orm.parameters
    assert light.metrics["completed"] == orm.metrics["completed"] == 3
    assert light.association["accepted"][0]["name"].endswith("MOVE")
    assert b"Mensah" not in raw and b"KB123456" not in raw


def test_the_storage_classes_the_scp_accepts_without_pynetdicom_are_pynetdicoms():
    from pynetdicom import AllStoragePresentationContexts

    from pacs_console.core.dicom.wire.params import STORAGE_SOP_CLASSES

    assert STORAGE_SOP_CLASSES == {str(cx.abstract_syntax) for cx in AllStoragePresentationContexts}
