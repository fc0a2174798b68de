"""What every console server object shares: it owns one listening server in ``_server``
(None while stopped), says whether it runs, and stops once from any thread."""

from __future__ import annotations


class ServingMixin:
    """``running`` and an idempotent ``stop()``; ``_stopped(server)`` adds a subclass's own
    last step once the listener has shut down (closing its socket, a log line)."""

    _server = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        server, self._server = self._server, None  # a second stop() finds None
        if server is not None:
            server.shutdown()
            self._stopped(server)

    def _stopped(self, server) -> None:
        """After ``server.shutdown()``; nothing by default."""
