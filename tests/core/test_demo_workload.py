"""The demo PACS serves the console's own workload: 100 echoes back to back, none refused."""

from __future__ import annotations

from pacs_console.core.dicom.ops.echo import echo_series
from pacs_console.core.dicom.servers.demo import DemoPacs
from pacs_console.core.dicom.wire.ae import Timeouts
from pacs_console.core.dicom.wire.target import Target


def test_100_echoes_at_interval_0_lose_none():
    # Each echo starts with the console's bare TCP connect; on pynetdicom's default limit of
    # 10 those connects, waiting out their ACSE timeout, refused echoes from the tenth on.
    with DemoPacs(port=0, studies=[]) as demo:
        target = Target("127.0.0.1", demo.port, demo.ae_title, "PACSCONSOLE",
                        Timeouts(5, 10, 30, 60))
        series = echo_series(target, 100, 0.0)
        failures = []
        try:
            while True:
                result = next(series)
                if not result.ok:
                    failures.append(result.diagnosis.what)
        except StopIteration as done:
            stats = done.value
    assert failures == []
    assert (stats.sent, stats.ok, stats.loss_pct) == (100, 100, 0)
