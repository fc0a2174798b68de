"""The one AE factory: AE titles, presentation contexts, explicit timeouts and TCP_NODELAY."""

from __future__ import annotations

import logging
import socket
import threading
import time
import types
from collections.abc import Iterable, Sequence

from pynetdicom import AE, _config, evt
from pynetdicom.transport import AssociationSocket

from pacs_console.core.dicom.wire.params import (
    DEFAULT_AE_TITLE,
    IMPLEMENTATION_VERSION,
    Timeouts,
    set_nodelay,
    validate_ae_title,
)

__all__ = ["DEFAULT_AE_TITLE", "STORAGE_SOP_CLASSES", "ConsoleAE", "Timeouts", "make_ae", "set_nodelay",
           "validate_ae_title"]

# Query identifiers carry patient names and IDs: never log them. Formatting them (and every
# PDU, for pynetdicom's standard log handlers) also cost C-FIND more than half its time.
_config.LOG_REQUEST_IDENTIFIERS = False
_config.LOG_RESPONSE_IDENTIFIERS = False


def _storage_sop_classes() -> tuple[str, ...]:
    """Every storage SOP class pynetdicom or pydicom knows (SR, waveforms, dose reports and
    newer classes included), pynetdicom's order first; no retired and no DICOMDIR class."""
    from pydicom._uid_dict import UID_dictionary
    from pynetdicom import AllStoragePresentationContexts

    known = [str(cx.abstract_syntax) for cx in AllStoragePresentationContexts]
    known += sorted(uid for uid, (name, kind, _, retired, _) in UID_dictionary.items()
                    if kind == "SOP Class" and name.endswith("Storage") and not retired
                    and uid != "1.2.840.10008.1.3.10")
    return tuple(dict.fromkeys(known))


STORAGE_SOP_CLASSES = _storage_sop_classes()


def _tune_logging() -> None:
    """pynetdicom's per-PDU log handlers only when someone reads pynetdicom's debug log."""
    debug = logging.getLogger("pynetdicom").isEnabledFor(logging.DEBUG)
    _config.LOG_HANDLER_LEVEL = "standard" if debug else "none"


# pynetdicom's reactor sleeps 1 ms whenever its socket is idle and its association teardown
# polls in 10 ms steps: together about 15 ms of an echo. Shorter waits cost a little CPU only
# while an association is open.
RUN_LOOP_DELAY = 0.0001
KILL_POLL = 0.0005


def _fast_kill(assoc) -> None:
    """Association.kill() with a short poll (pynetdicom sleeps 10 ms per check)."""
    assoc._reactor_checkpoint.set()
    assoc._kill = True
    assoc.is_established = False
    assoc._is_paused = True
    while assoc.dul.is_alive() and not assoc.dul.stop_dul():
        time.sleep(KILL_POLL)


def _guard_replies(assoc) -> None:
    """Keep pynetdicom's reactor off a reply that a send_*() call is waiting for.

    send_*() pauses the reactor (clears its checkpoint, then waits for ``_is_paused``), but the
    reactor raises ``_is_paused`` just before it passes the checkpoint, so a sender can see
    "paused" while the reactor is about to take the next message off the queue. Under load
    it then took the reply ("Received unexpected C-STORE service message") and the sender sat
    out the whole DIMSE timeout. The reactor is the only non-blocking reader: once the
    checkpoint is cleared, whatever arrives belongs to the sender.
    """
    get_msg, checkpoint = assoc.dimse.get_msg, assoc._reactor_checkpoint

    def guarded(block: bool = False):
        if not block and not checkpoint.is_set():
            return None, None
        return get_msg(block)

    assoc.dimse.get_msg = guarded


def tune_association(assoc) -> None:
    """Low-latency reactor settings for one association (requestor or acceptor)."""
    assoc.dul._run_loop_delay = RUN_LOOP_DELAY
    assoc.kill = types.MethodType(_fast_kill, assoc)
    _guard_replies(assoc)


def _on_conn_open(event: evt.Event) -> None:
    dul_socket = getattr(event.assoc.dul, "socket", None)
    set_nodelay(getattr(dul_socket, "socket", None))
    tune_association(event.assoc)


NODELAY_HANDLER = (evt.EVT_CONN_OPEN, _on_conn_open)


class ConsoleAE(AE):
    """pynetdicom's AE with TCP_NODELAY on every requestor and acceptor socket."""

    def _create_socket(self, assoc, address, tls_args) -> AssociationSocket:  # type: ignore[override]
        sock = super()._create_socket(assoc, address, tls_args)
        set_nodelay(sock.socket)
        tune_association(assoc)
        return sock

    def serve(
        self,
        address: tuple[str, int],
        handlers: Sequence[tuple] = (),
        *,
        ssl_context=None,
    ):
        """Start a non-blocking server whose accepted sockets also get TCP_NODELAY."""
        return self.start_server(
            address,
            block=False,
            ssl_context=ssl_context,
            evt_handlers=[NODELAY_HANDLER, *handlers],
        )


def make_ae(
    ae_title: str = DEFAULT_AE_TITLE,
    timeouts: Timeouts | None = None,
    *,
    requested: Iterable = (),
    supported: Iterable = (),
    transfer_syntaxes: Sequence[str] | None = None,
    maximum_pdu: int = 1 << 20,
) -> ConsoleAE:
    """Build an AE with validated title, contexts and explicit timeouts.

    ``requested`` and ``supported`` take SOP class UIDs or pynetdicom PresentationContexts.
    ``maximum_pdu`` is what this AE advertises: finite (1 MiB unless told), so no peer is
    invited to send PDUs of any size.
    """
    problem = validate_ae_title(ae_title)
    if problem:
        raise ValueError(problem)
    timeouts = timeouts or Timeouts()
    _tune_logging()
    ae = ConsoleAE(ae_title=ae_title)
    ae.connection_timeout = timeouts.connect
    ae.acse_timeout = timeouts.acse
    ae.dimse_timeout = timeouts.dimse
    ae.network_timeout = timeouts.network
    ae.maximum_pdu_size = maximum_pdu
    ae.implementation_version_name = IMPLEMENTATION_VERSION
    for item in requested:
        _add(ae.add_requested_context, item, transfer_syntaxes)
    for item in supported:
        _add(ae.add_supported_context, item, transfer_syntaxes)
    return ae


def _add(add, item, transfer_syntaxes) -> None:
    if hasattr(item, "abstract_syntax"):
        add(item.abstract_syntax, item.transfer_syntax)
    elif transfer_syntaxes:
        add(item, list(transfer_syntaxes))
    else:
        add(item)


PER_ADDRESS = 8  # associations one calling address may hold on a console server
_LIMIT_RJ = b"\x03\x00\x00\x00\x00\x04\x00\x02\x03\x02"  # RJ transient, provider, local limit


def limit_per_address(server, cap: int = PER_ADDRESS) -> None:
    """Make a pynetdicom server refuse a connection from an address that already holds
    ``cap`` open connections (A-ASSOCIATE-RJ "local limit exceeded", no thread started), so
    one host opening idle connections cannot take every slot from real work.

    Counted by the sockets themselves, at accept time: pynetdicom's own count lags behind a
    burst (threads start later) and includes associations whose peer is long gone.
    """
    held: dict[str, list[socket.socket]] = {}
    lock = threading.Lock()

    def verify_request(request, client_address) -> bool:
        host = client_address[0] if isinstance(client_address, tuple) else str(client_address)
        with lock:
            for key in list(held):
                held[key] = [s for s in held[key] if s.fileno() != -1]
                if not held[key]:
                    del held[key]
            mine = held.setdefault(host, [])
            if len(mine) < cap:
                mine.append(request)
                return True
        logging.getLogger(__name__).warning(
            "refused a connection from %s: it already holds %d connections", host, cap)
        try:
            request.settimeout(0.2)
            request.sendall(_LIMIT_RJ)
        except OSError:
            pass  # gone already; socketserver closes it either way
        return False

    server.verify_request = verify_request
