"""`scp`: the console's own Storage SCP, headless, until Ctrl+C or standard input closes."""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys

from pacs_console.commands.serving import add_serving_options


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "scp", help="receive C-STORE (and C-ECHO) into the local store without a window",
        description="Serve the console's own Storage SCP (the one the window starts) until "
                    "Ctrl+C, SIGTERM or the end of standard input. The first line printed "
                    "names the address and port (with --json, one JSON document); received "
                    "files go to the data folder's store. By default only calling AEs in the "
                    "address book (and the demo PACS) may store; --accept-any lets any in.")
    parser.add_argument("--port", type=int, metavar="N",
                        help="port to listen on (default from settings; 0 = any free port)")
    parser.add_argument("--bind", metavar="ADDR",
                        help="address to listen on (default from settings: all interfaces)")
    parser.add_argument("--ae", metavar="AE", help="this SCP's AE title (default from settings)")
    parser.add_argument("--accept-any", action="store_true",
                        help="accept any calling AE title, not only the address book's")
    add_serving_options(parser, run)


def _usage(args) -> str | None:
    from pacs_console.core.dicom.wire.params import validate_ae_title

    if args.port is not None and not 0 <= args.port <= 65535:
        return f"--port {args.port} is outside 0-65535"
    if args.bind is not None:
        try:
            ipaddress.ip_address(args.bind)
        except ValueError:
            return f"--bind {args.bind!r} is not an IP address"
    if args.ae is not None:
        problem = validate_ae_title(args.ae)
        if problem:
            return f"--ae {args.ae!r}: {problem}"
    return None


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from pacs_console.commands import exit_codes
    from pacs_console.commands.dimse_common import opened_context
    from pacs_console.commands.serving import serve_until_stopped

    with opened_context(args) as ctx:
        problem = _usage(args)
        if problem:
            print(f"pacs-console scp: {problem}", file=sys.stderr)
            return exit_codes.USAGE
        changes = {key: value for key, value in (
            ("scp_port", args.port), ("scp_bind", args.bind), ("ae_title", args.ae)) if value is not None}
        if args.accept_any:
            changes["scp_accept_any"] = True
        ctx.settings = replace(ctx.settings, **changes)  # this run only: nothing is saved
        scp = ctx.storage_scp()
        try:
            scp.start()
        except OSError as exc:
            print(f"pacs-console scp: cannot listen on {scp.host}:{scp.port}: "
                  f"{exc.strerror or exc}. Another program may use the port: pick another "
                  "with --port, or --port 0 for any free one.", file=sys.stderr)
            return exit_codes.USAGE if args.port else exit_codes.FAILED
        info = {"ae_title": scp.ae_title, "host": scp.host, "port": scp.port,
                "store": str(ctx.paths.store), "accept_any": scp.accepts_any}
        if args.json:
            print(json.dumps(info), flush=True)
        else:
            policy = ("any calling AE" if scp.accepts_any
                      else "calling AEs in the address book and the demo PACS")
            print(f"Storage SCP {scp.ae_title} listening on {scp.host}:{scp.port}; accepts "
                  f"{policy}; files go to {ctx.paths.store}. Stop with Ctrl+C"
                  + ("." if args.no_stdin else " or by closing standard input (Ctrl+D)."),
                  flush=True)
        try:
            serve_until_stopped(watch_stdin=not args.no_stdin)
        finally:
            count = scp.received_count
            scp.stop()
        print(f"Storage SCP stopped: {count} instance(s) received.", flush=True,
              file=sys.stderr if args.json else sys.stdout)
    return exit_codes.OK
