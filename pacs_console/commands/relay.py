"""`relay` and `trace`: watch what a modality and a PACS say to each other, live or offline."""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from pathlib import Path

from pacs_console.commands.dimse_common import add_tls_options
from pacs_console.commands.options import add_json

RELAY_HELP = """\
Listen on LISTEN_PORT and forward every association to HOST:PORT byte for byte, decoding each
as it passes. Point the modality at this laptop (its IP, LISTEN_PORT and the PACS's AE title).
The first line names the address and port; it runs until Ctrl+C or the end of standard input.
With --json, one JSON object per association as it ends (calling_ae, called_ae, result,
messages, diagnosis). Every byte is saved in a trace file in the data folder (or --out),
which `pacs-console trace` reads again; patient data is redacted in everything printed."""
TRACE_HELP = """\
Decode a capture offline: pcap or pcapng (tcpdump, Wireshark) or a relay trace. TCP streams are
reassembled; DICOM is found on any port by its PDU structure and HL7 MLLP streams are decoded
too. Exit 0 when the file was read, 10 when its end is damaged (what came before is shown),
2 when it cannot be read at all."""


def register(subparsers) -> None:
    relay = subparsers.add_parser("relay", help="forward a modality's associations to the PACS, "
                                  "decoded live", description=RELAY_HELP,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    relay.add_argument("listen_port", type=int, metavar="LISTEN_PORT",
                       help="port the modality connects to (0 = any free port)")
    relay.add_argument("--to", required=True, metavar="HOST:PORT", help="the real PACS")
    relay.add_argument("--bind", metavar="ADDR", default="0.0.0.0",
                       help="address to listen on (default: all interfaces)")
    relay.add_argument("--out", metavar="TRACE", help="trace file to write (default: the data "
                       "folder's traces/relay-<time>.trace)")
    relay.add_argument("--max-associations", type=int, default=16, metavar="N",
                       help="associations relayed at once; more get 'local limit exceeded'")
    relay.add_argument("--rate", type=int, default=0, metavar="BYTES_PER_S",
                       help="bytes per second over all associations (0 = unlimited)")
    relay.add_argument("--no-stdin", action="store_true",
                       help="keep relaying when standard input closes (background use)")
    add_json(relay, "one JSON object per association")
    add_tls_options(relay, "DICOM", to="the PACS")
    listen = relay.add_argument_group("TLS from the modality (the relay decrypts, decodes and "
                                      "forwards the same PDUs)")
    listen.add_argument("--listen-tls", action="store_true",
                        help="accept DICOM over TLS from the modality (needs --cert and --key)")
    listen.add_argument("--cert", metavar="PEM", help="the console's certificate the modality sees")
    listen.add_argument("--key", metavar="PEM", help="the console's private key")
    listen.add_argument("--ca", metavar="PEM", help="require a modality certificate signed by "
                        "this CA (mutual TLS)")
    relay.set_defaults(handler=run_relay, serves=True)

    trace = subparsers.add_parser("trace", help="decode a pcap/pcapng capture or a relay trace",
                                  description=TRACE_HELP,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    trace.add_argument("file", metavar="FILE", help="a .pcap, .pcapng or relay .trace file")
    trace.add_argument("--timeline", action="store_true", help="print every event, not only "
                       "each association's summary")
    add_json(trace, "one JSON document")
    trace.set_defaults(handler=run_trace)


def _relay_usage(args) -> str | None:
    if not 0 <= args.listen_port <= 65535:
        return f"LISTEN_PORT {args.listen_port} is outside 0-65535"
    try:
        ipaddress.ip_address(args.bind)
    except ValueError:
        return f"--bind {args.bind!r} is not an IP address"
    if (args.cert or args.key or args.ca) and not args.listen_tls:
        return "--cert, --key and --ca belong to --listen-tls"
    if args.listen_tls and not args.cert:
        return "--listen-tls needs --cert (and --key unless the certificate file holds it)"
    if args.max_associations < 1:
        return "--max-associations must be at least 1"
    from pacs_console.core.relay.server import parse_target

    target = parse_target(args.to)
    return f"--to {target}" if isinstance(target, str) else None


def run_relay(args: argparse.Namespace) -> int:
    import threading
    import time

    from pacs_console.commands import exit_codes
    from pacs_console.commands.serving import serve_until_stopped
    from pacs_console.core.relay.server import Relay, RelayConfig, parse_target, tls_to_pacs
    from pacs_console.core.relay.text import describe
    from pacs_console.core.relay.tracefile import TraceWriter
    from pacs_console.paths import app_paths

    problem = _relay_usage(args)
    if problem:
        print(f"pacs-console relay: {problem}", file=sys.stderr)
        return exit_codes.USAGE
    host, port = parse_target(args.to)
    out = Path(args.out) if args.out else (app_paths(args.data_dir).ensure().data / "traces"
                                           / time.strftime("relay-%Y%m%d-%H%M%S.trace"))
    try:
        trace = TraceWriter(out)
    except OSError as exc:
        print(f"pacs-console relay: cannot write the trace {out}: {exc.strerror or exc}",
              file=sys.stderr)
        return exit_codes.USAGE
    printing = threading.Lock()

    def ended(_assoc_id: int, report: dict) -> None:
        with printing:
            print(json.dumps(report, default=str) if args.json else describe(report), flush=True)

    try:  # a missing or unreadable PEM fails here, not per association
        secure = tls_to_pacs(args.tls, args.ca_file or "", args.tls_cert or "",
                             args.tls_key or "", args.server_name or "")
    except (OSError, ValueError) as exc:
        print(f"pacs-console relay: TLS files: {getattr(exc, 'strerror', None) or exc}",
              file=sys.stderr)
        trace.finish()
        return exit_codes.USAGE
    listening = None
    if args.listen_tls:
        from pacs_console.core.dicom.wire.tls import TlsConfig

        listening = TlsConfig(ca_file=args.ca or "", cert_file=args.cert, key_file=args.key or "")
    try:
        relay = Relay(RelayConfig(args.bind, args.listen_port, host, port,
                                  max_associations=args.max_associations, rate=args.rate,
                                  upstream_tls=secure, listen_tls=listening),
                      trace=trace, on_end=ended)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        print(f"pacs-console relay: --listen-tls files: {getattr(exc, 'strerror', None) or exc}",
              file=sys.stderr)
        trace.finish()
        return exit_codes.USAGE
    try:
        relay.start()
    except OSError as exc:
        trace.finish()
        print(f"pacs-console relay: cannot listen on {args.bind}:{args.listen_port}: "
              f"{exc.strerror or exc}. Another program may use the port: pick another, or 0 "
              "for any free one.", file=sys.stderr)
        return exit_codes.USAGE
    bound_host, bound_port = relay.address
    if args.json:
        print(json.dumps({"listening": bound_host, "port": bound_port, "to": f"{host}:{port}",
                          "tls": secure is not None, "listen_tls": listening is not None,
                          "trace": str(out)}), flush=True)
    else:
        print(f"Relay listening on {bound_host}:{bound_port}{' (TLS)' if listening else ''}, "
              f"forwarding to {host}:{port}"
              f"{' over TLS' if secure else ''}; "
              f"trace {out}. Stop with Ctrl+C"
              + ("." if args.no_stdin else " or by closing standard input (Ctrl+D)."), flush=True)
    try:
        serve_until_stopped(watch_stdin=not args.no_stdin)
    finally:
        relay.stop()
        trace.finish()
    count = len(relay.ended)
    print(f"Relay stopped: {count} association(s) relayed"
          + (f", {relay.refused} refused over the limit" if relay.refused else "")
          + f"; trace {out}.", file=sys.stderr if args.json else sys.stdout, flush=True)
    return exit_codes.OK


def run_trace(args: argparse.Namespace) -> int:
    from pacs_console.commands import exit_codes
    from pacs_console.core.relay.capture import CaptureError, read_any
    from pacs_console.core.relay.text import describe, timeline

    path = Path(args.file)
    try:
        kind, reports, problems = read_any(path)
    except CaptureError as exc:
        print(f"pacs-console trace: {args.file}: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    except OSError as exc:
        print(f"pacs-console trace: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return exit_codes.USAGE
    if args.json:
        print(json.dumps({"file": str(path), "kind": kind, "associations": reports,
                          "problems": problems}, default=str))
    else:
        print(f"{path}: {kind}, {len(reports)} conversation(s)")
        for report in reports:
            print(describe(report))
            if args.timeline:
                print(timeline(report))
        for problem in problems:
            print(f"! {problem}")
    return exit_codes.PARTIAL if problems else exit_codes.OK
