"""Starting the Relay tab's relay, run on a worker: the TLS certificates and keys are loaded,
the trace file opened and the port bound there, never on the GUI thread."""

from __future__ import annotations

from pathlib import Path


class TlsUnusable(Exception):
    """The listening certificate or key cannot be loaded (the cause says why)."""


class PacsTlsUnusable(Exception):
    """The CA, certificate or key for TLS to the PACS cannot be loaded (the cause says why)."""


def start_relay(config, pacs_tls: tuple, path: Path, on_end):
    """On a worker: load the TLS certificates and keys (``pacs_tls``: tls_to_pacs's arguments),
    open the trace, listen. (relay, live feed, trace writer); nothing is left open on failure."""
    from dataclasses import replace

    from pacs_console.core.relay.live import LiveFeed
    from pacs_console.core.relay.server import Relay, tls_to_pacs
    from pacs_console.core.relay.tracefile import TraceWriter

    if config.listen_tls is not None:
        from pacs_console.core.dicom.wire.tls import server_context

        try:
            server_context(config.listen_tls.cert_file, config.listen_tls.key_file)
        except (OSError, ValueError) as exc:
            raise TlsUnusable(str(exc)) from exc
    try:
        config = replace(config, upstream_tls=tls_to_pacs(*pacs_tls))
    except (OSError, ValueError) as exc:
        raise PacsTlsUnusable(str(exc)) from exc
    trace = TraceWriter(path)
    try:
        feed = LiveFeed()
        relay = Relay(config, trace=trace, on_end=on_end, on_event=feed)
        relay.start()
    except BaseException:
        trace.finish()
        raise
    return relay, feed, trace


class Starting:
    """Delivers a started relay to its tab, or stops it when the tab was closed meanwhile (a plain
    object, so the worker's result is never dropped with a closed widget: nothing keeps
    listening behind a window that is gone)."""

    def __init__(self, tab, path: Path) -> None:
        self.tab, self.path, self.closed = tab, path, False

    def deliver(self, started) -> None:
        import shiboken6

        if self.closed or not shiboken6.isValid(self.tab):
            relay, _feed, trace = started
            relay.stop()
            trace.finish()
            return
        self.tab._started(started, self.path)
