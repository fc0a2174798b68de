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
_RUN = ("import json, sys\n"
        "from pacs_console.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "sys.stdout.flush()\n"
        "print('MODULES ' + json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
        "sys.exit(code)\n")


def _imported(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", _RUN, *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    line = next((x for x in proc.stderr.splitlines() if x.startswith("MODULES ")), "MODULES []")
    return proc, set(json.loads(line[len("MODULES "):]))


def _heavy(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] in HEAVY}


def test_echo_no_save_loads_no_database_no_pynetdicom_no_pydicom(orthanc, data_dir):
    proc, names = _imported("--data-dir", str(data_dir), "echo", "--no-save", "-aec", "ORTHANC",
                            orthanc.host, str(orthanc.dicom_port))
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert proc.stdout.startswith(f"#1 OK ORTHANC@{orthanc.host}:{orthanc.dicom_port}")
    assert "pacs_console.core.dicom.ops.echo" in names and "pacs_console.core.dicom.wire.ul" in names
    assert not _heavy(names), sorted(_heavy(names))
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
