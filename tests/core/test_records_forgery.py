"""Records that resist forgery: CSV exports a spreadsheet cannot run, secrets that say when
they were not stored, and a keyring check that trusts only backends known to encrypt."""

from __future__ import annotations

import csv
import io
import json

import keyring
import pytest

from pacs_console.core import addressbook, csvsafe
from pacs_console.core.incidents import service
from pacs_console.core.incidents.queries import IncidentFilter, list_incidents
from pacs_console.core.secrets import SecretStore, keyring_status
from tests.conftest import run_cli

HOSTILE = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@HYPERLINK(\"http://x\")",
           "\tTAB", "\rCR"]


def test_the_shared_function_follows_the_owasp_rule():
    for value in HOSTILE:
        assert csvsafe.safe_cell(value) == "'" + value
        assert csvsafe.unsafe_cell(csvsafe.safe_cell(value)) == value
    assert csvsafe.safe_cell("CT room 2") == "CT room 2" and csvsafe.safe_cell(-2) == -2


def test_incidents_export_csv_neutralises_formulas(data_dir, ctx, tmp_path):
    for n, value in enumerate(HOSTILE):
        service.create_incident(ctx.db, title=value, severity="low", description=value,
                                reporter=f"r{n}")
    out = tmp_path / "incidents.csv"
    proc = run_cli("incidents", "export", "--format", "csv", "--output", str(out),
                   data_dir=ctx.paths.data.parent)
    assert proc.returncode == 0, proc.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))  # as a spreadsheet import reads it
    stored = {r.title: r for r in list_incidents(ctx.db, IncidentFilter())}
    assert len(rows) == len(HOSTILE) == len(stored)
    neutralised = 0
    for row in rows:
        record = stored[csvsafe.unsafe_cell(row["title"])]  # titles are stored stripped
        for column, value in (("title", record.title), ("description", record.description)):
            assert row[column] == csvsafe.safe_cell(value)
            neutralised += row[column] != value
        assert not any(cell.startswith(csvsafe.FORMULA_STARTS) for cell in row.values())
    assert neutralised >= 4 + len(HOSTILE)  # =, +, -, @ titles and every description


def test_address_book_csv_export_neutralises_and_reads_back(ctx):
    nodes = [addressbook.as_record(name=value, ae_title=f"AE{n}", host="127.0.0.1", port=104,
                                   notes=value, tags="-x")
             for n, value in enumerate(HOSTILE)]
    text = addressbook.export_nodes(nodes, "csv")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    for row, value in zip(rows, HOSTILE, strict=True):
        assert row["name"] == "'" + value and row["notes"] == "'" + value
        assert not any(cell.startswith(csvsafe.FORMULA_STARTS) for cell in row.values())
    back = addressbook.import_nodes(text, "csv")
    assert [n.notes for n in back] == HOSTILE


def _with_backend(backend):
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    return previous


def test_an_unknown_backend_counts_as_insecure_and_secrets_stay_in_memory():
    class HomemadeKeyring(keyring.backend.KeyringBackend):
        priority = 1
        stored: dict = {}

        def get_password(self, service, user):
            return self.stored.get((service, user))

        def set_password(self, service, user, password):
            self.stored[(service, user)] = password

        def delete_password(self, service, user):
            self.stored.pop((service, user), None)

    HomemadeKeyring.__module__ = "some_vendor.keyring"
    previous = _with_backend(HomemadeKeyring())
    try:
        status = keyring_status()
        assert not status.secure and "not a keyring known to encrypt" in status.reason
        store = SecretStore()
        assert store.set("token", "t0k3n") is False
        assert HomemadeKeyring.stored == {}  # never written to it
    finally:
        keyring.set_keyring(previous)


def test_the_test_keyring_is_trusted_only_through_its_explicit_switch(monkeypatch):
    assert keyring_status().secure  # conftest sets PACS_CONSOLE_TEST_KEYRING=1
    monkeypatch.delenv("PACS_CONSOLE_TEST_KEYRING")
    status = keyring_status()
    assert not status.secure and "tests.memkeyring.MemoryKeyring" in status.reason


@pytest.mark.parametrize("name", ["keyring.backends.SecretService.Keyring",
                                  "keyring.backends.macOS.Keyring",
                                  "keyring.backends.Windows.WinVaultKeyring",
                                  "keyring.backends.kwallet.DBusKeyring"])
def test_the_os_keychains_are_on_the_allow_list(name):
    from pacs_console.core.secrets import SECURE_BACKENDS

    module, cls = name.rsplit(".", 1)
    assert getattr(__import__(module, fromlist=[cls]), cls)  # the name is real
    assert name in SECURE_BACKENDS


def test_helpdesk_set_fails_when_the_token_was_not_stored(data_dir):
    env = {"PACS_CONSOLE_HELPDESK_TOKEN": "1-2-secret", "PYTHON_KEYRING_BACKEND":
           "keyring.backends.null.Keyring"}
    proc = run_cli("helpdesk", "set", "--url", "http://127.0.0.1:9", "--queue", "PACS",
                   "--user", "eng", data_dir=data_dir, env=env)
    assert proc.returncode == 1
    assert "NOT stored" in proc.stderr and "memory for this session only" in proc.stderr
    proc = run_cli("helpdesk", "set", "--url", "http://127.0.0.1:9", "--queue", "PACS",
                   "--user", "eng", "--json", data_dir=data_dir, env=env)
    body = json.loads(proc.stdout)
    assert proc.returncode == 1 and body["ok"] is False
    assert body["error"]["code"] == "secret-not-stored"
    stored = run_cli("helpdesk", "set", "--url", "http://127.0.0.1:9", "--queue", "PACS",
                     "--user", "eng", data_dir=data_dir,
                     env={"PACS_CONSOLE_HELPDESK_TOKEN": "1-2-secret"})
    assert stored.returncode == 0 and "stored in the OS keyring" in stored.stdout


def test_dicomweb_save_credentials_fails_when_not_stored(data_dir):
    env = {"PACS_CONSOLE_DICOMWEB_SECRET": "pw", "PYTHON_KEYRING_BACKEND":
           "keyring.backends.null.Keyring"}
    proc = run_cli("dicomweb", "qido", "http://127.0.0.1:9/dicom-web", "--auth", "basic",
                   "--user", "u", "--save-credentials", data_dir=data_dir, env=env)
    assert proc.returncode == 1 and "NOT stored" in proc.stderr, proc.stderr


def test_self_check_refuses_an_unknown_backend(data_dir):
    """The self-check uses the same allow-list: a backend it does not know fails, memory only."""
    proc = run_cli("--self-check", data_dir=data_dir,
                   env={"PYTHON_KEYRING_BACKEND": "keyring.backends.chainer.ChainerBackend",
                        "PACS_CONSOLE_TEST_KEYRING": "0"})
    line = next(li for li in proc.stdout.splitlines() if "keyring:" in li)
    assert proc.returncode == 1 and line.startswith("[FAIL]") and "memory only" in line, line
