"""`demo-pacs`: the embedded demo PACS, headless, until Ctrl+C or standard input closes."""

from __future__ import annotations

import argparse
import json
import sys

from pacs_console.commands.serving import add_serving_options


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo-pacs", help="serve the demo PACS (synthetic studies, worklist) without a window",
        description="Start the embedded demo PACS (AE DEMOPACS: C-ECHO, C-FIND, C-MOVE, C-GET, "
                    "C-STORE and a modality worklist over synthetic CT, MR, CR and US studies) "
                    "and serve it until Ctrl+C, SIGTERM or the end of standard input. It is "
                    "listed in the address book as 'Demo PACS'. The first line printed names "
                    "the port (with --json, one JSON document). For training rooms and scripts; "
                    "run it in the background with --no-stdin.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 serves a "
                             "training room)")
    parser.add_argument("--port", type=int, metavar="N",
                        help="port to listen on (default 11112, or a free one if taken; "
                             "0 = any free port)")
    add_serving_options(parser, run)


def run(args: argparse.Namespace) -> int:
    from pacs_console.commands import exit_codes
    from pacs_console.commands.dimse_common import opened_context
    from pacs_console.commands.serving import serve_until_stopped

    with opened_context(args) as ctx:
        try:
            demo = ctx.start_demo(host=args.host, port=args.port)
        except OSError as exc:
            where = f"{args.host}:{args.port if args.port is not None else 11112}"
            print(f"pacs-console demo-pacs: cannot listen on {where}: {exc.strerror or exc}. "
                  "Another program may use the port: pick another with --port, or --port 0 "
                  "for any free one.", file=sys.stderr)
            return exit_codes.USAGE if args.port else exit_codes.FAILED
        info = {"ae_title": demo.ae_title, "host": demo.host, "port": demo.port,
                "instances": len(demo.datasets),
                "studies": len({str(ds.StudyInstanceUID) for ds in demo.datasets}),
                "worklist_items": len(demo.worklist)}
        if args.json:
            print(json.dumps(info), flush=True)
        else:
            print(f"Demo PACS {demo.ae_title} listening on {demo.host}:{demo.port}: "
                  f"{info['studies']} studies, {info['instances']} instances, "
                  f"{info['worklist_items']} worklist items. Stop with Ctrl+C"
                  + ("." if args.no_stdin else " or by closing standard input (Ctrl+D)."),
                  flush=True)
        serve_until_stopped(watch_stdin=not args.no_stdin)
        if not args.json:
            print("Demo PACS stopped.", flush=True)
    return exit_codes.OK
