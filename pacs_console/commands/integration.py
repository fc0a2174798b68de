"""`pacs-console hl7`, `dicomweb` and `workflow`: tests between systems beyond DIMSE."""

from __future__ import annotations

from pacs_console.commands.dimse_common import add_tls_options, run_guarded
from pacs_console.commands.options import action_parsers, add_json, described_parser


def _register_hl7(subparsers) -> None:
    from pacs_console.core.hl7.templates import TEMPLATES

    sub = action_parsers(subparsers, "hl7", "send or receive HL7 v2 messages over MLLP",
                         allow_abbrev=False)
    send = described_parser(
        sub, "send", "send one message and explain the ACK",
        "Send an HL7 v2 message over MLLP with hard connect and ACK timeouts and explain the ACK "
        "(MSA-1, ERR). Templates: " + "; ".join(f"{k}: {v}" for k, v in TEMPLATES.items())
        + ".\nExample: pacs-console hl7 send 10.0.0.5 2575 --template orm")
    send.add_argument("host")
    send.add_argument("port", type=int)
    send.add_argument("file", nargs="?", help="a file holding the message ('-' = stdin)")
    send.add_argument("--template", choices=sorted(TEMPLATES), help="send a template instead")
    send.add_argument("--worklist", metavar="NODE",
                      help="fill the template from the first matching item of this worklist node")
    send.add_argument("--accession", metavar="NUMBER", help="with --worklist: this accession")
    send.add_argument("--seed", type=int, help="test patient seed (same seed, same patient)")
    send.add_argument("--receiving-app", default="", metavar="APP", help="MSH-5")
    send.add_argument("--receiving-facility", default="", metavar="FAC", help="MSH-6")
    send.add_argument("--timeout", type=float, default=30.0, metavar="S",
                      help="seconds to wait for the ACK (default 30)")
    send.add_argument("--connect-timeout", type=float, default=5.0, metavar="S",
                      help="TCP connect timeout (default 5)")
    send.add_argument("--loose", action="store_true",
                      help="repair a pasted message: line endings, stray bytes, blank lines")
    send.add_argument("--show", action="store_true", help="print the message sent")
    add_tls_options(send, "MLLP", insecure=True)
    add_json(send)
    send.add_argument("--no-save", action="store_true", help="do not save the run as evidence")
    send.set_defaults(handler=run_guarded(_hl7_send))
    listen = sub.add_parser(
        "listen", help="receive messages and answer ACKs", allow_abbrev=False,
        description="Listen for HL7 v2 over MLLP, answer each message with an ACK and print it "
                    "(patient fields masked unless --show-phi). Ctrl+C stops. Example: "
                    "pacs-console hl7 listen 2575 --answer AE")
    listen.add_argument("port", type=int)
    listen.add_argument("--bind", default="0.0.0.0", metavar="ADDRESS",
                        help="address to listen on (default all)")
    listen.add_argument("--answer", default="AA", choices=["AA", "AE", "AR", "CA", "CE", "CR",
                                                          "none"],
                        help="ACK code to answer with; 'none' never answers (default AA)")
    listen.add_argument("--show-phi", action="store_true", help="do not mask patient fields")
    listen.add_argument("--count", type=int, default=0, metavar="N",
                        help="stop after N messages (default: until Ctrl+C)")
    listen.add_argument("--duration", type=float, default=0.0, metavar="S",
                        help="stop after S seconds")
    listen.add_argument("--tls-cert", metavar="PEM", help="serve MLLP over TLS with this cert")
    listen.add_argument("--tls-key", metavar="PEM", help="its private key")
    add_json(listen, "JSON lines, one per message")
    listen.set_defaults(handler=run_guarded(_hl7_listen), serves=True)


def register(subparsers) -> None:
    _register_hl7(subparsers)
    from pacs_console.commands.integration_web import register_dicomweb, register_workflow

    register_dicomweb(subparsers)
    register_workflow(subparsers)


def _hl7_send(args) -> int:
    from pacs_console.commands.integration_hl7 import run_send

    return run_send(args)


def _hl7_listen(args) -> int:
    from pacs_console.commands.integration_hl7 import run_listen

    return run_listen(args)
