"""The status bar says where secrets live, and warns at start when there is no secure keyring."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from pacs_console.core.secrets import SecretStore, keyring_status
from pacs_console.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, ctx):
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def no_secure_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_secure_keyring_is_named_after_start(qtbot, window):
    label = window.status.secrets_label
    qtbot.waitUntil(lambda: label.text() == "Secrets: OS keyring", timeout=10000)
    assert "MemoryKeyring" in label.toolTip()


def test_without_a_secure_keyring_the_window_says_memory_only(qtbot, window, no_secure_keyring):
    window.status.check_keyring()  # the same path the start-up timer takes
    label = window.status.secrets_label
    qtbot.waitUntil(lambda: label.text() == "Secrets: this session only", timeout=10000)
    assert "never written to a file" in label.toolTip()
    assert "memory only" in window.status.currentMessage()


def test_memory_fallback_keeps_the_secret_for_the_session_only(no_secure_keyring, tmp_path):
    assert not keyring_status().secure
    store = SecretStore()
    assert store.set("helpdesk-token", "s3cret") is False  # not persistent
    assert store.get("helpdesk-token") == "s3cret"
    assert SecretStore().get("helpdesk-token") is None  # a new session asks again
