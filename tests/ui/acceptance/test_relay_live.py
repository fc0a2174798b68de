"""The Relay tab shows the conversation as it passes: a person starts the relay with clicks,
a modality (DCMTK storescu) stores five images through it to a storescp that takes a second
over each, and the live list shows the association and each store and its answer before the
association ends (the associations table is still empty then); at the end, its close. And
with a certificate and key typed in, the relay takes DICOM over TLS from the modality."""

from __future__ import annotations

import subprocess

from pydicom import dcmwrite
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QPushButton

from tests.core.relay.support import still_running
from tests.dicom_samples import ct_series
from tests.ui.acceptance.gui_thread import besides_known, gui_thread_opens
from tests.ui.acceptance.relay_support import (
    free_port,
    listening_port,
    open_relay,
    type_into,
    verification_scp,
)

FILES = 5


def _live(tab) -> list[str]:
    return [tab.live.item(r, 3).text() for r in range(tab.live.rowCount())]


def test_live_rows_appear_while_the_association_runs(qtbot, ctx, tmp_path):
    up = free_port()
    store = tmp_path / "store"
    store.mkdir()
    scp = subprocess.Popen(["/usr/bin/storescp", "-aet", "SLOWPACS", "--sleep-during", "1",
                            "-od", str(store), str(up)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    files = []
    for n, ds in enumerate(ct_series(FILES, size=64)):
        files.append(tmp_path / f"ct{n}.dcm")
        dcmwrite(files[-1], ds, enforce_file_format=True)
    modality = None
    try:
        _, tab = open_relay(qtbot, ctx, up)
        start = tab.findChild(QPushButton, "relay-start")
        QTest.mouseClick(start, Qt.MouseButton.LeftButton)
        port = listening_port(qtbot, tab)
        assert tab.live.isVisible() and tab.live.rowCount() == 0
        modality = subprocess.Popen(["/usr/bin/storescu", "-aet", "CTSCANNER", "-aec", "SLOWPACS",
                                     "127.0.0.1", str(port), *map(str, files)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        qtbot.waitUntil(lambda: any(t.startswith("C-STORE-RSP: status 0x0000") for t in _live(tab)),
                        timeout=20000)
        seen = _live(tab)
        assert tab.table.rowCount() == 0 and still_running(modality)  # still running
        assert any(t.startswith("A-ASSOCIATE-RQ: CTSCANNER calls SLOWPACS") for t in seen)
        assert any(t.startswith("A-ASSOCIATE-AC") for t in seen)
        assert any(t.startswith("C-STORE-RQ") for t in seen)
        first = tab.live.item(0, 1).text()
        assert first.endswith("CTSCANNER → SLOWPACS")
        assert modality.wait(timeout=60) == 0, modality.stderr.read()
        qtbot.waitUntil(lambda: tab.table.rowCount() == 1, timeout=10000)
        qtbot.waitUntil(lambda: any(t.startswith("close") for t in _live(tab)), timeout=10000)
        done = _live(tab)
        assert sum(t.startswith("C-STORE-RSP: status 0x0000") for t in done) == FILES
        assert sum(t.startswith("C-STORE-RQ") for t in done) == FILES
        assert "A-RELEASE-RP: release confirmed" in done
        assert tab.table.item(0, 2).text() == "released"
        QTest.mouseClick(start, Qt.MouseButton.LeftButton)
        assert start.text() == "Start relay"
    finally:
        if modality is not None and still_running(modality):
            modality.kill()
        scp.terminate()
        scp.wait(timeout=10)


def test_a_modality_over_tls_from_clicks(qtbot, ctx, tmp_path):
    from tests.pki import make_pki

    pki = make_pki(tmp_path)
    server, up = verification_scp("WARD_WS")
    try:
        _, tab = open_relay(qtbot, ctx, up)
        type_into(tab.findChild(QLineEdit, "relay-cert"), str(tmp_path / "nowhere.pem"))
        start = tab.findChild(QPushButton, "relay-start")
        # The certificate and key are loaded, and the trace opened, off the window's thread.
        with gui_thread_opens() as opened:
            QTest.mouseClick(start, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: "TLS certificate or key not usable" in tab.status.text()
                            and start.isEnabled(), timeout=10000)
            assert start.text() == "Start relay"
            cert, key = pki["good"]
            type_into(tab.findChild(QLineEdit, "relay-cert"), cert)
            type_into(tab.findChild(QLineEdit, "relay-key"), key)
            QTest.mouseClick(start, Qt.MouseButton.LeftButton)
            port = listening_port(qtbot, tab)
        assert besides_known(opened) == [], opened
        assert "(TLS)" in tab.status.text()
        plain = subprocess.run(["/usr/bin/echoscu", "-aet", "CTSCANNER", "-aec", "WARD_WS",
                                "127.0.0.1", str(port), "-to", "5"], capture_output=True, timeout=30)
        secure = subprocess.run(["/usr/bin/echoscu", "+tla", "+cf", pki["ca"], "-aet", "CTSCANNER",
                                 "-aec", "WARD_WS", "127.0.0.1", str(port)],
                                capture_output=True, timeout=30)
        assert plain.returncode != 0 and secure.returncode == 0, secure.stderr
        qtbot.waitUntil(lambda: tab.table.rowCount() == 2, timeout=10000)
        assert tab.table.item(0, 2).text() == "modality TLS failed"
        assert "did not start TLS" in tab.table.item(0, 4).text()
        assert [tab.table.item(1, c).text() for c in (1, 2)] == ["CTSCANNER → WARD_WS", "released"]
        qtbot.waitUntil(lambda: any(t.startswith("TLS with the modality: TLSv1.")
                                    for t in _live(tab)), timeout=10000)
        QTest.mouseClick(start, Qt.MouseButton.LeftButton)
    finally:
        server.shutdown()
