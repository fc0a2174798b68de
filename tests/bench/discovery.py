"""Discovery: our sweep against nmap's dicom-ping on 127.0.0.0/24, a /22, and GUI stalls meanwhile."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time

from tests.bench.qt_loop import Heartbeat, pump_until, settle
from tests.bench.runner import Case

NMAP = "/usr/bin/nmap"
DICOM_PORTS = (104, 11112, 4242, 2761, 2762, 2345)
WEB_PORTS = (8042, 8080)
# The highest rate the settings allow; on loopback nothing reaches a real network.
RATE, CONCURRENCY = 5000, 256
_state: dict = {}


def _lab_up() -> None:
    from tests.core.discovery.lab import Lab

    _state["lab"] = Lab(base=41, with_silent=False).start()


def _lab_up_without_web_on_dicom_port() -> None:
    """nmap's dicom-ping waits ~30 s on a web server that sits on a DICOM port; without it
    the comparison measures sweeping and probing, not one timeout."""
    _lab_up()
    web = _state["lab"].web.pop(0)
    web.shutdown()
    web.server_close()


def _lab_down() -> None:
    _state.pop("lab").stop()


def _sweep(targets: str, ports=DICOM_PORTS, web=WEB_PORTS, **extra):
    from pacs_console.core.discovery.models import SweepOptions
    from pacs_console.core.discovery.sweep import sweep
    from pacs_console.core.discovery.targets import parse_targets

    options = SweepOptions(ports=ports, web_ports=web, rate=RATE, concurrency=CONCURRENCY,
                           timeout=1.5, **extra)
    start = time.perf_counter()
    generator = sweep(parse_targets(targets), options)
    try:
        while True:
            next(generator)
    except StopIteration as stop:
        return stop.value, time.perf_counter() - start


def _nmap(targets: str) -> tuple[float, int, int]:
    """Wall time, open ports and ports dicom-ping classified."""
    ports = ",".join(map(str, DICOM_PORTS + WEB_PORTS))
    start = time.perf_counter()
    proc = subprocess.run([NMAP, "-n", "-p", ports, "--script", "dicom-ping", targets, "-oN", "-"],
                          capture_output=True, text=True, timeout=300, check=True)
    elapsed = time.perf_counter() - start
    out = proc.stdout
    return elapsed, len(re.findall(r"\d+/tcp\s+open\s", out)), out.count("dicom-ping:")


def _cli(targets: str) -> float:
    ports = ",".join(map(str, DICOM_PORTS))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pacs_console", "--data-dir",
                    tempfile.mkdtemp(prefix="pacs-bench-scan-"), "scan", targets, "--ports", ports,
                    "--web-ports", ",".join(map(str, WEB_PORTS)), "--rate", str(RATE),
                    "--concurrency", str(CONCURRENCY), "--no-save", "--json"],
                   capture_output=True, text=True, timeout=300, check=True)
    return time.perf_counter() - start


def _vs_nmap() -> dict[str, float]:
    nmap_s, nmap_open, nmap_dicom = _nmap("127.0.0.0/24")
    result, ours_s = _sweep("127.0.0.0/24")
    guessed, guess_s = _sweep("127.0.0.0/24", guess_ae=True, guess_interval=0.05)
    lab = _state["lab"]
    found = {f.key: f for f in result.findings}
    assert found[(lab.addr(0), 8042)].verdict == "dicomweb", found
    assert found[(lab.addr(2), 11112)].verdict == "dicom-any-ae", found
    assert found[(lab.addr(0), 4242)].ae_title == "ORTHANC", found
    dicom = [f for f in result.findings if f.is_dicom]
    return {"ratio_to_nmap": ours_s / nmap_s, "sweep_s": ours_s, "nmap_s": nmap_s,
            "cli_process_s": _cli("127.0.0.0/24"), "with_guess_ae_s": guess_s,
            "open_ports": len(result.findings), "nmap_open_ports": nmap_open,
            "dicom_nodes": len(dicom), "nmap_dicom_ping": nmap_dicom,
            "fingerprinted": sum(bool(f.implementation_class_uid) for f in dicom),
            "fingerprinted_guess_ae": sum(bool(f.implementation_class_uid)
                                          for f in guessed.findings if f.is_dicom)}


def _slash22() -> dict[str, float]:
    result, elapsed = _sweep("127.0.0.0/22", web=())
    return {"sweep_s": elapsed, "attempts": result.attempts, "open_ports": len(result.findings)}


def _gui_setup() -> None:
    from PySide6.QtWidgets import QApplication

    from pacs_console.core.context import Context
    from pacs_console.core.settings import Settings
    from pacs_console.paths import app_paths
    from pacs_console.ui.main_window import MainWindow

    _lab_up()
    app = QApplication.instance() or QApplication([])
    ctx = Context.open(app_paths(tempfile.mkdtemp(prefix="pacs-bench-discovery-")))
    ctx.settings = Settings(scan_rate=RATE, scan_concurrency=CONCURRENCY)
    window = MainWindow(ctx)
    window.show()
    window.show_panel("Discovery")
    panel = window.panels["Discovery"]
    panel.targets.setText("127.0.0.0/22")
    panel.ports.setText(",".join(map(str, DICOM_PORTS)))
    panel.web_ports.setText(",".join(map(str, WEB_PORTS)))
    panel.dns_sd.setChecked(False)
    panel.guess_ae.setChecked(True)
    _state.update(app=app, ctx=ctx, window=window, panel=panel)


def _gui_teardown() -> None:
    _state["window"].close()
    _state["ctx"].close()
    _lab_down()


def _gui_run() -> dict[str, float]:
    _app, panel = _state["app"], _state["panel"]
    heartbeat = Heartbeat()
    heartbeat.start()
    start = time.perf_counter()
    panel.start_sweep()
    pump_until(lambda: panel.worker is None and panel.start_button.isEnabled())
    elapsed = time.perf_counter() - start
    settle(10)
    heartbeat.stop()
    if panel.model.rowCount() < 5:
        raise RuntimeError(f"sweep found too little: {panel.status.text()}")
    return {"max_stall_ms": heartbeat.max_stall_ms, "sweep_s": elapsed,
            "rows": panel.model.rowCount()}


def cases() -> list[Case]:
    return [
        Case("Discovery 127.0.0.0/24 x 8 ports vs nmap dicom-ping, the test peers",
             _vs_nmap, "ratio_to_nmap", target=1.0, unit="x", repeat=2, setup=_lab_up,
             teardown=_lab_down),
        Case("Discovery 127.0.0.0/24 x 8 ports vs nmap dicom-ping, no web server on a DICOM port",
             _vs_nmap, "ratio_to_nmap", target=1.0, unit="x", repeat=5,
             setup=_lab_up_without_web_on_dicom_port, teardown=_lab_down),
        Case("Discovery /22 (1,022 hosts x 6 ports)", _slash22, "sweep_s", target=3.0,
             repeat=3, setup=_lab_up, teardown=_lab_down),
        Case("GUI stall during a /22 discovery sweep (guess AE on)", _gui_run, "max_stall_ms",
             target=50.0, unit="ms", repeat=3, setup=_gui_setup, teardown=_gui_teardown),
    ]
