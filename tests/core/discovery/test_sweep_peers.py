"""One sweep over real peers on distinct loopback addresses: every verdict, AE guessing, DICOMweb."""

from __future__ import annotations

import time

import psutil
import pytest

from pacs_console.core.discovery import models as m
from pacs_console.core.discovery.sweep import sweep
from pacs_console.core.discovery.targets import parse_targets
from tests.core.discovery.lab import (
    DCMTK_PORT,
    ORTHANC_PORT,
    ORTHANC_WEB_PORT,
    Lab,
    silent_listener,
)
from tests.peers.net import addr, span

pytestmark = pytest.mark.peers
TIMEOUT = 1.0


def run(targets: str, **options) -> tuple[m.SweepResult, list[m.SweepProgress]]:
    options.setdefault("rate", 2000)
    options.setdefault("timeout", TIMEOUT)
    progress = []
    generator = sweep(parse_targets(targets), m.SweepOptions(**options))
    try:
        while True:
            progress.append(next(generator))
    except StopIteration as stop:
        return stop.value, progress


@pytest.fixture(scope="module")
def lab():
    lab = Lab(base=41).start()
    yield lab
    lab.stop()


@pytest.fixture(scope="module")
def swept(lab):
    result, progress = run(lab.targets, guess_ae=True, guess_interval=0.01)
    return result, progress, {f.key: f for f in result.findings}


def test_every_kind_of_listener_gets_its_verdict(lab, swept):
    result, _, found = swept
    a = lab.addr
    expected = {
        (a(0), ORTHANC_PORT): m.CHECKS_AE,  # Orthanc checks the called AE
        (a(0), ORTHANC_WEB_PORT): m.DICOMWEB,  # and serves DICOMweb
        (a(1), DCMTK_PORT): m.CHECKS_AE,  # dcmqrscp
        (a(2), DCMTK_PORT): m.ANY_AE,  # storescp accepts any called AE
        (a(3), 2345): m.CHECKS_AE,  # pynetdicom, require_called_aet
        (a(4), 2761): m.ANY_AE,  # pynetdicom, any AE
        (a(5), DCMTK_PORT): m.NOT_DICOM,  # a plain HTTP server on a DICOM port
        (a(5), 8080): m.HTTP,  # ... and on a web port: HTTP, no DICOMweb
        (a(6), DCMTK_PORT): m.SILENT,  # accepts TCP, never answers
    }
    assert {k: f.verdict for k, f in found.items()} == expected
    assert found[(a(2), DCMTK_PORT)].insecure and found[(a(4), 2761)].insecure
    assert not found[(a(0), ORTHANC_PORT)].insecure
    assert "HTTP server" in found[(a(5), DCMTK_PORT)].detail
    assert result.attempts == 7 * 10


def test_called_ae_titles_are_found_and_fingerprinted(lab, swept):
    _, _, found = swept
    a = lab.addr
    orthanc = found[(a(0), ORTHANC_PORT)]
    assert orthanc.ae_title == "ORTHANC"
    assert orthanc.ae_source == "announced"  # Orthanc's own /system named it
    # Orthanc answers DICOM with DCMTK's identity; its /system names it and its version.
    assert (orthanc.vendor, orthanc.product, orthanc.confidence) == ("Orthanc project", "Orthanc", "high")
    assert orthanc.version == found[(a(0), ORTHANC_WEB_PORT)].version
    assert orthanc.implementation_class_uid.startswith("1.2.276.0.7230010.3.")
    dcmqrscp = found[(a(1), DCMTK_PORT)]
    assert (dcmqrscp.ae_title, dcmqrscp.ae_source) == ("DCMQRSCP", "dictionary")
    assert dcmqrscp.product == "DCMTK" and dcmqrscp.implementation_class_uid.startswith(
        "1.2.276.0.7230010.3.")
    assert dcmqrscp.implementation_version_name.startswith("OFFIS_DCMTK_")
    storescp = found[(a(2), DCMTK_PORT)]
    assert storescp.product == "DCMTK" and storescp.version
    scanner = found[(a(3), 2345)]
    assert (scanner.ae_title, scanner.ae_source) == ("CT_SCANNER", "dictionary")
    assert scanner.guesses > 1 and scanner.vendor == "PACS Console"
    assert found[(a(4), 2761)].implementation_version_name.startswith("PACSCONSOLE")
    for f in found.values():
        assert f.latency_ms >= 0


def test_orthanc_dicomweb_and_system_are_detected(lab, swept):
    _, _, found = swept
    web = found[(lab.addr(0), ORTHANC_WEB_PORT)]
    assert web.dicomweb_url == f"http://{lab.addr(0)}:{ORTHANC_WEB_PORT}/dicom-web"
    assert web.product == "Orthanc" and web.version and web.ae_title == "ORTHANC"
    plain = found[(lab.addr(5), 8080)]
    assert plain.dicomweb_url == "" and plain.product == ""


def test_progress_streams_findings_with_a_total_and_eta(swept):
    result, progress, _ = swept
    streamed = [f for p in progress for f in p.findings]
    assert sorted(streamed, key=lambda f: f.key) == sorted(result.findings, key=lambda f: f.key)
    assert progress[-1].phase == "done" and progress[-1].done == progress[-1].total == 70
    assert all(p.total == 70 for p in progress)
    assert [p.done for p in progress] == sorted(p.done for p in progress)


def test_orthanc_ae_is_guessed_from_the_dictionary_without_its_web_api(lab):
    result, _ = run(lab.addr(0), ports=(ORTHANC_PORT,), web_ports=(), guess_ae=True, guess_interval=0.01)
    (orthanc,) = result.findings
    assert (orthanc.verdict, orthanc.ae_title, orthanc.ae_source) == (
        m.CHECKS_AE, "ORTHANC", "dictionary")
    assert "Orthanc" in orthanc.product  # from the port and the title, without /system


def test_without_guessing_only_known_titles_are_tried(lab):
    a = lab.addr
    known = {(a(1), DCMTK_PORT): "DCMQRSCP"}
    result, _ = run(f"{a(1)},{a(3)}", ports=(DCMTK_PORT, 2345), web_ports=(), known=known)
    found = {f.key: f for f in result.findings}
    assert (found[(a(1), DCMTK_PORT)].ae_title, found[(a(1), DCMTK_PORT)].ae_source,
            found[(a(1), DCMTK_PORT)].guesses) == ("DCMQRSCP", "address-book", 1)
    scanner = found[(a(3), 2345)]
    assert scanner.verdict == m.CHECKS_AE and scanner.ae_title == "" and scanner.guesses == 0
    assert "--guess-ae" in scanner.detail


def test_a_silent_listener_ends_within_its_timeout(lab):
    start = time.perf_counter()
    result, _ = run(lab.addr(6), ports=(DCMTK_PORT,), web_ports=(), timeout=0.5)
    elapsed = time.perf_counter() - start
    assert [f.verdict for f in result.findings] == [m.SILENT]
    assert elapsed < 0.5 + 0.6, elapsed


def test_cancel_closes_every_socket_promptly():
    # Twenty silent listeners: every probe would wait for its timeout.
    listeners = [silent_listener(addr(n), DCMTK_PORT) for n in range(60, 80)]
    process = psutil.Process()
    before = process.num_fds()
    try:
        generator = sweep(parse_targets(span(60, 79)),
                          m.SweepOptions(ports=(DCMTK_PORT,), web_ports=(), rate=2000, timeout=20))
        while next(generator).open_ports < 20:
            pass
        assert process.num_fds() >= before + 20
        start = time.perf_counter()
        generator.close()
        assert time.perf_counter() - start < 1.0
        assert process.num_fds() <= before
    finally:
        for sock in listeners:
            sock.close()


def test_the_rate_limit_holds():
    # 100 attempts at 200 per second, of which a 50 ms burst (10) may go at once.
    start = time.perf_counter()
    result, progress = run(span(100, 149), ports=(9, 11), web_ports=(), rate=200)
    elapsed = time.perf_counter() - start
    assert result.attempts == 100 and result.findings == ()
    assert 0.9 * 90 / 200 <= elapsed < 3.0, elapsed
    etas = [p.eta_s for p in progress if p.phase == "sweep" and p.eta_s is not None]
    assert etas and etas[0] > etas[-1] >= 0
