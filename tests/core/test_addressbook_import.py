"""Address-book imports that hold: hostile files, validation, the demo node, all or nothing, and
linear parsers; the `node` commands as scripts call them."""

from __future__ import annotations

import json
import time

import pytest

from pacs_console.core.addressbook import AddressBookError, export_nodes, import_nodes, parse_rows
from pacs_console.core.addressbook_import import MAX_IMPORT_BYTES, import_file, plan_import
from pacs_console.core.db.engine import Database
from pacs_console.core.db.nodes import list_nodes, register_demo_node, save_node
from tests.conftest import run_cli

BOOK = '{"format": "pacs-console-address-book", "version": 1, "nodes": %s}'

# Each of these raised an uncaught exception out of import_nodes on main.
MALFORMED = [
    BOOK % '{"a": 1}',  # nodes is not a list
    BOOK % '"nodes"',
    BOOK % '[["nested", "list"]]',
    BOOK % '[{"name": "A", "ae_title": "A", "host": "127.0.0.1", "port": "abc"}]',
    BOOK % '[{"name": "A", "ae_title": "A", "host": "127.0.0.1", "port": null}]',
    BOOK % '[{"name": "A", "ae_title": "A", "host": "127.0.0.1", "port": [1]}]',
    BOOK % '[{"name": ["A"], "ae_title": "A", "host": "127.0.0.1", "port": 104}]',
    BOOK % '[1, 2, 3]',
    '{"format": "pacs-console-address-book", "version": "x", "nodes": []}',
    '{"DicomModalities": [1, 2]}',
    '{"DicomModalities": {"a": ["AE", "127.0.0.1", "abc"]}}',
    '{"DicomModalities": {"a": ["AE", "127.0.0.1", null]}}',
    '{"DicomModalities": {"a": [["AE"], "127.0.0.1", 104]}}',
    '{"DicomModalities": {"a": {"AET": "AE", "Host": "h", "Port": {"x": 1}}}}',
    "[" * 100_000 + "]" * 100_000,
]


@pytest.fixture
def db(tmp_path):
    database = Database(tmp_path / "x.sqlite3")
    yield database
    database.close()


@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_inputs_are_refused_not_raised(db, text):
    fmt = "orthanc" if "DicomModalities" in text else "json"
    try:
        rows = parse_rows(text, fmt)
    except AddressBookError:
        rows = None
    if rows is not None:
        assert rows and all(r.record is None and r.problem for r in rows)
    with pytest.raises(AddressBookError):
        import_nodes(text, fmt)
    report = plan_import(db, text, fmt)
    assert not report.ok and not report.records
    assert report.error or report.count("refused") >= 1


@pytest.mark.parametrize("row, fragment", [
    ("X,127.0.0.1,0", "1-65535"),
    ("X,127.0.0.1,70000", "1-65535"),
    ("A\\B,127.0.0.1,104", "backslash"),
    ("X,,104", "IP address"),
    ("X,127.0.0.1\x00evil,104", "host"),
    ("XXXXXXXXXXXXXXXXX,127.0.0.1,104", "16"),
])
def test_rows_are_validated_like_the_node_dialog(db, row, fragment):
    report = plan_import(db, f"ae_title,host,port\nGOOD,127.0.0.1,104\n{row}\n", "csv")
    refused = [r for r in report.rows if r.action == "refused"]
    assert len(refused) == 1 and fragment in refused[0].detail and refused[0].where == "line 3"


def test_all_or_nothing_and_never_silently_replaced(db, tmp_path):
    save_node(db, "PACS", "PACS", "127.0.0.1", 104)
    register_demo_node(db, "DEMOPACS", "127.0.0.1", 40000)
    book = tmp_path / "book.csv"
    book.write_text("name,ae_title,host,port\nPACS,PACS,127.0.0.2,104\nNEW,NEW,127.0.0.3,104\n"
                    "BAD,BAD,127.0.0.4,abc\n")
    report = import_file(db, book)
    assert not report.applied and report.count("refused") == 1
    assert {n.name for n in list_nodes(db)} - {"Demo PACS"} == {"PACS"}  # nothing written
    assert next(n for n in list_nodes(db) if n.name == "PACS").host == "127.0.0.1"
    book.write_text("name,ae_title,host,port\nPACS,PACS,127.0.0.2,104\nNEW,NEW,127.0.0.3,104\n")
    report = import_file(db, book)
    assert report.applied
    changed = [r for r in report.rows if r.action == "changed"]
    assert len(changed) == 1 and "127.0.0.1" in changed[0].detail and "127.0.0.2" in changed[0].detail
    assert report.count("taken") == 1


def test_the_demo_node_is_never_replaced(db, tmp_path):
    register_demo_node(db, "DEMOPACS", "127.0.0.1", 40000)
    book = tmp_path / "book.json"
    book.write_text(BOOK % json.dumps([{"name": "Demo PACS", "ae_title": "EVIL",
                                        "host": "127.0.0.66", "port": 104}]))
    report = import_file(db, book)
    assert not report.applied and "demo node" in report.rows[0].detail
    demo = next(n for n in list_nodes(db) if n.is_demo)
    assert demo.host == "127.0.0.1" and demo.ae_title != "EVIL"


def test_files_are_bounded(db, tmp_path):
    assert import_file(db, "/dev/zero").error.endswith("is not a regular file (a device, pipe "
                                                      "or folder)")
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:
        fh.truncate(MAX_IMPORT_BYTES + 1)
    assert "more than" in import_file(db, big).error
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert "UTF-8" in import_file(db, binary).error


@pytest.mark.parametrize("text, fmt", [
    ("HostTable BEGIN\nx =" + " " * 8000 + "\nHostTable END\n", "dcmtk"),
    ("HostTable BEGIN\nx = (" + " " * 8000 + "a,b\nHostTable END\n", "dcmtk"),
    ("HostTable BEGIN\n" + "a = (" + "," * 8000 + ")\nHostTable END\n", "dcmtk"),
    ("\n" * 20000 + "HostTable BEGIN\nx = (A, h, 1)\nHostTable END\n", None),
    ('{"DicomModalities": {}, "x": "' + '\\"' * 20000 + '"} ' + "/" * 20000, "orthanc"),
])
def test_parsers_are_linear(text, fmt):
    start = time.perf_counter()
    try:
        parse_rows(text, fmt)
    except AddressBookError:
        pass
    assert time.perf_counter() - start < 2.0  # 138 s on main for the first one


def test_node_commands_round_trip(tmp_path, data_dir):
    add = run_cli("node", "add", "Main PACS", "--ae", "MAIN", "--host", "127.0.0.9", "--port",
                  "104", "--tags", "pacs,archive", data_dir=data_dir)
    assert add.returncode == 0, add.stderr
    again = run_cli("node", "add", "Main PACS", "--ae", "MAIN2", "--host", "127.0.0.9",
                    "--port", "104", data_dir=data_dir)
    assert again.returncode == 2 and "--replace" in again.stderr
    for bad in (["--port", "0"], ["--port", "x"], ["--port", "70000"]):
        proc = run_cli("node", "add", "X", "--ae", "X", "--host", "127.0.0.1", *bad,
                       data_dir=data_dir)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = run_cli("node", "add", "Y", "--ae", "A\\B", "--host", "127.0.0.1", "--port", "104",
                   data_dir=data_dir)
    assert proc.returncode == 2 and "backslash" in proc.stderr
    proc = run_cli("node", "add", "Z", "--ae", "Z", "--host", "127.0.0.1", "--port", "104",
                   "--site", "Nowhere", data_dir=data_dir)
    assert proc.returncode == 2 and "No site 'Nowhere'" in proc.stderr
    listed = json.loads(run_cli("node", "list", "--json", data_dir=data_dir).stdout)
    assert [(n["name"], n["ae_title"], n["tags"]) for n in listed] == [
        ("Main PACS", "MAIN", ["pacs", "archive"])]
    for fmt in ("csv", "json", "orthanc", "dcmqrscp"):
        out = tmp_path / f"book.{fmt}"
        proc = run_cli("node", "export", str(out), "--format", fmt, data_dir=data_dir)
        assert proc.returncode == 0, proc.stderr
        assert "MAIN" in out.read_text()
    other = tmp_path / "other-data"
    other.mkdir()
    imported = run_cli("node", "import", str(tmp_path / "book.dcmqrscp"), "--format", "dcmqrscp",
                       "--json", data_dir=other)
    doc = json.loads(imported.stdout)
    assert imported.returncode == 0 and doc["applied"] and doc["counts"]["taken"] == 1
    removed = run_cli("node", "remove", "Main PACS", data_dir=data_dir)
    assert removed.returncode == 0
    assert json.loads(run_cli("node", "list", "--json", data_dir=data_dir).stdout) == []
    missing = run_cli("node", "remove", "Nope", data_dir=data_dir)
    assert missing.returncode == 2 and "Nope" in missing.stderr


def test_node_import_reports_rows_and_refuses_all(tmp_path, data_dir):
    book = tmp_path / "book.csv"
    book.write_text("ae_title,host,port\nGOOD,127.0.0.1,104\nBAD,127.0.0.1,abc\n")
    proc = run_cli("node", "import", str(book), data_dir=data_dir)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "refused   line 3" in proc.stdout and "taken     line 2" in proc.stdout
    assert "Nothing imported" in proc.stderr
    assert json.loads(run_cli("node", "list", "--json", data_dir=data_dir).stdout) == []
    hostile = tmp_path / "hostile.json"
    hostile.write_text(BOOK % '[{"name": "\\u001b[2J\\u202eEVIL", "ae_title": "A", '
                              '"host": "127.0.0.1", "port": 104}]')
    proc = run_cli("node", "import", str(hostile), data_dir=data_dir)
    assert proc.returncode == 2 and "\x1b" not in proc.stdout and "\u202e" not in proc.stdout


def test_export_import_round_trip_keeps_every_node(db):
    save_node(db, "A", "A", "127.0.0.1", 104)
    text = export_nodes(list_nodes(db), "dcmqrscp")
    assert [n.ae_title for n in import_nodes(text, "dcmqrscp")] == ["A"]
