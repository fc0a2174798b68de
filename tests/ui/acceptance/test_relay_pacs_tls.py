"""The Relay tab speaking DICOM over TLS to the PACS: a person ticks "TLS to the PACS", first
gives a CA file that is not there (told in words, nothing starts), then the hospital CA, and
starts; a modality (DCMTK storescu, plain DICOM) stores through the relay to a TLS-only
storescp (DCMTK ``+tls``), the image arrives and the association row shows it released."""

from __future__ import annotations

import subprocess

from pydicom import dcmwrite
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QCheckBox, QLineEdit, QPushButton

from tests.dicom_samples import ct_series
from tests.pki import make_pki
from tests.ui.acceptance.gui_thread import besides_known, gui_thread_opens
from tests.ui.acceptance.relay_support import free_port, listening_port, open_relay, type_into
from tests.ui.acceptance.test_relay_live import _live


def test_a_store_through_the_relay_to_a_tls_pacs_from_clicks(qtbot, ctx, tmp_path):
    pki = make_pki(tmp_path)
    cert, key = pki["good"]
    up = free_port()
    store = tmp_path / "store"
    store.mkdir()
    scp = subprocess.Popen(["/usr/bin/storescp", "+tls", key, cert, "-ic", "-aet", "TLSPACS",
                            "-od", str(store), str(up)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    image = tmp_path / "ct.dcm"
    dcmwrite(image, next(iter(ct_series(1, size=64))), enforce_file_format=True)
    try:
        _, tab = open_relay(qtbot, ctx, up)
        tick = tab.findChild(QCheckBox, "relay-pacs-tls")
        assert tick.isVisible() and not tick.isChecked()
        QTest.mouseClick(tick, Qt.MouseButton.LeftButton)
        assert tick.isChecked()
        ca = tab.findChild(QLineEdit, "relay-pacs-ca")
        type_into(ca, str(tmp_path / "nowhere-ca.pem"))
        start = tab.findChild(QPushButton, "relay-start")
        with gui_thread_opens() as opened:  # the CA and the trace are opened by a worker
            QTest.mouseClick(start, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: tab.status.text().startswith(
                "TLS to the PACS: CA, certificate or key not usable") and start.isEnabled(),
                timeout=10000)
            assert start.text() == "Start relay"
            type_into(ca, pki["ca"])
            QTest.mouseClick(start, Qt.MouseButton.LeftButton)
            port = listening_port(qtbot, tab)
        assert besides_known(opened) == [], opened
        assert f"forwarding to 127.0.0.1:{up} over TLS" in tab.status.text()
        done = subprocess.run(["/usr/bin/storescu", "-aet", "CTSCANNER", "-aec", "TLSPACS",
                               "127.0.0.1", str(port), str(image)], capture_output=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        qtbot.waitUntil(lambda: tab.table.rowCount() == 1, timeout=10000)
        assert [tab.table.item(0, c).text() for c in (1, 2, 3, 4)] == [
            "CTSCANNER → TLSPACS", "released", "1", "none"]
        assert len(list(store.iterdir())) == 1
        qtbot.waitUntil(lambda: any(t.startswith("TLS with the PACS: TLSv1.") for t in _live(tab)),
                        timeout=10000)
        assert any(t.startswith("C-STORE-RSP: status 0x0000") for t in _live(tab))
        QTest.mouseClick(start, Qt.MouseButton.LeftButton)
        assert start.text() == "Start relay"
    finally:
        scp.terminate()
        scp.wait(timeout=10)
