"""Logging without patient data, the --data-dir override, resources, and keyring-only secrets."""

from __future__ import annotations

import logging

import keyring
import pytest

from pacs_console.core.secrets import SecretStore, keyring_status
from pacs_console.logs import redact, setup_logging
from pacs_console.paths import app_paths, resource_path


@pytest.mark.parametrize("line", [
    "(0010,0010) Patient's Name                      PN: 'Mensah^Ɛfua'",
    "(0010,0020) Patient ID                          LO: [GH-000123]",
    "PatientName=Mensah^Ɛfua PatientID=GH-000123 PatientBirthDate=19800101",
    "query PatientName: 'Mensah^Ɛfua'",
])
def test_redact_removes_names_ids_and_birth_dates(line):
    cleaned = redact(line)
    for secret in ("Mensah", "GH-000123", "19800101"):
        assert secret not in cleaned
    assert "<redacted>" in cleaned


def test_log_file_never_holds_patient_data_and_pynetdicom_is_capped(tmp_path):
    path = setup_logging(tmp_path, verbose=False)
    assert logging.getLogger("pynetdicom").level == logging.WARNING
    logging.getLogger("pacs_console.test").info("C-FIND PatientName=%s from %s", "Owusu^Kɔfi", "CT1")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text("utf-8")
    assert "Owusu" not in text and "CT1" in text
    setup_logging(tmp_path, verbose=True)
    assert logging.getLogger("pynetdicom").level == logging.DEBUG
    setup_logging(tmp_path, verbose=False)


def test_data_dir_holds_all_four_folders(tmp_path):
    paths = app_paths(tmp_path).ensure()
    for folder in (paths.data, paths.config, paths.cache, paths.logs, paths.store):
        assert folder.is_dir() and tmp_path in folder.parents


def test_resource_path_finds_the_icon_and_fonts():
    assert resource_path("icons", "pacs-console.png").is_file()
    assert resource_path("fonts", "DejaVuSans.ttf").is_file()


def test_secrets_go_to_the_keyring_and_never_to_disk(paths):
    store = SecretStore()
    assert keyring_status().secure
    assert store.set("helpdesk-token", "s3cret-token") is True
    assert keyring.get_password("pacs-console", "helpdesk-token") == "s3cret-token"
    assert store.get("helpdesk-token") == "s3cret-token"
    store.delete("helpdesk-token")
    assert store.get("helpdesk-token") is None
    for file in paths.data.parent.rglob("*"):
        if file.is_file():
            assert b"s3cret-token" not in file.read_bytes()


def test_without_a_secure_backend_secrets_stay_in_memory_only(paths, monkeypatch):
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        status = keyring_status()
        assert not status.secure and "fail" in status.name
        store = SecretStore()
        assert store.set("token", "only-in-memory") is False
        assert store.get("token") == "only-in-memory"
        assert SecretStore().get("token") is None  # a new session has to ask again
    finally:
        keyring.set_keyring(previous)


def test_plaintext_backends_are_reported_insecure():
    class PlaintextKeyring(keyring.backend.KeyringBackend):
        priority = 1

        def get_password(self, *a):
            return None

        def set_password(self, *a):
            pass

        def delete_password(self, *a):
            pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    previous = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    try:
        status = keyring_status()
        assert not status.secure and "plaintext" in status.reason
    finally:
        keyring.set_keyring(previous)
