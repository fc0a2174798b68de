"""Options shared by the DICOM subcommands (DCMTK's short forms beside long ones) and their plumbing."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager

from pacs_console.commands import exit_codes
from pacs_console.commands.options import add_json, described_parser

TYPE_CHECKING = False  # typing itself costs a command line ~3 ms to import
if TYPE_CHECKING:
    from typing import Any


def dimse_parser(subparsers, name: str, help_text: str, description: str, handler=None
                 ) -> argparse.ArgumentParser:
    """A DICOM subcommand's parser: its description followed by the exit codes, the options
    that say which node to reach and how (``add_target_options``) and, when given, the
    ``handler(args)`` that runs it (through ``run_guarded``)."""
    parser = described_parser(subparsers, name, help_text, description)
    add_target_options(parser)
    if handler is not None:
        parser.set_defaults(handler=run_guarded(handler))
    return parser


def add_model_options(parser: argparse.ArgumentParser, *, worklist: bool = False) -> None:
    """-S/-P (and for C-FIND -W): the information model; Study Root unless told otherwise."""
    model = parser.add_mutually_exclusive_group()
    model.add_argument("-S", "--study", dest="model", action="store_const", const="study",
                       help="Study Root information model (default)")
    model.add_argument("-P", "--patient", dest="model", action="store_const", const="patient",
                       help="Patient Root information model")
    if worklist:
        model.add_argument("-W", "--worklist", dest="model", action="store_const",
                           const="worklist", help="Modality Worklist")
    parser.set_defaults(model="study")


def add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("host", nargs="?", help="host name or IP address of the node")
    parser.add_argument("port", nargs="?", type=int, help="TCP port of the node")
    parser.add_argument("--node", metavar="NAME",
                        help="use a node from the address book (name, id or AE title); "
                             "HOST, PORT and -aec override its values")
    parser.add_argument("-aet", "--aetitle", metavar="AE",
                        help="this console's (calling) AE title; default from settings")
    parser.add_argument("-aec", "--call", metavar="AE",
                        help="the node's (called) AE title; default the node's, else ANY-SCP")
    parser.add_argument("-to", "--timeout", type=float, metavar="S", help="TCP connect timeout")
    parser.add_argument("-ta", "--acse-timeout", type=float, metavar="S",
                        help="association request/release timeout")
    parser.add_argument("-td", "--dimse-timeout", type=float, metavar="S",
                        help="timeout waiting for a DIMSE response")
    parser.add_argument("-pdu", "--max-pdu", type=int, metavar="N",
                        help="maximum PDU length to receive, 4096-16777216 (default from settings, "
                             "1 MiB; 0 = that default)")
    add_tls_options(parser, "DICOM")
    parser.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
    parser.add_argument("--no-save", action="store_true",
                        help="do not save this run as evidence in the local database")


def add_tls_options(parser: argparse.ArgumentParser, protocol: str, *,
                    insecure: bool = False, to: str | None = None) -> None:
    """The TLS client options (``--tls``, the CA to trust, a client certificate and key, the
    expected host name), the same for every protocol the console speaks over TLS; ``to`` names
    the peer where a command has more than one side (the relay: "the PACS")."""
    tls = parser.add_argument_group(f"TLS to {to}" if to else "TLS")
    tls.add_argument("--tls", action="store_true",
                     help=f"{protocol} over TLS" + (f" to {to}" if to else ""))
    tls.add_argument("--ca-file", metavar="PEM",
                     help=f"CA certificate(s) that signed {to or 'the node'}'s")
    tls.add_argument("--tls-cert", metavar="PEM", help="client certificate")
    tls.add_argument("--tls-key", metavar="PEM", help="client private key")
    tls.add_argument("--server-name", metavar="NAME", help="host name expected in the certificate")
    if insecure:
        tls.add_argument("--insecure", action="store_true", help="do not verify the certificate")


class UsageProblem(Exception):
    """A command line that cannot work: printed as one line, exit code 2."""


@contextmanager
def opened_target(args, *, request_first: bool = False):
    """(ctx, target, node) for a DICOM subcommand: the context opened (and closed after) and the
    node to reach, from the address book and/or the command line. ``request_first``, for a
    command that calls ``started`` before anything that logs (pynetdicom): a node given on the
    command line is reached with only the settings read; the log and the rest of the context
    come up then, when first used, or not at all (``starting.StartingContext``). The address
    book needs the database, opened first."""
    if request_first and not args.node:
        from pacs_console.commands.starting import starting_context

        with starting_context(args, (UsageProblem, KeyboardInterrupt)) as ctx:
            target, node = build_target(args, ctx)
            yield ctx, target, node
        return
    with opened_context(args) as ctx:
        target, node = build_target(args, ctx)
        yield ctx, target, node


def started(ctx) -> None:
    """The log set up and the context opened, if ``opened_target(request_first=True)`` left
    them for later (``starting.StartingContext``)."""
    from pacs_console.commands.starting import StartingContext

    if isinstance(ctx, StartingContext):
        ctx.start()


@contextmanager
def opened_context(args):
    from pacs_console.core.context import Context
    from pacs_console.logs import setup_logging
    from pacs_console.paths import app_paths

    paths = app_paths(args.data_dir).ensure()
    setup_logging(paths.logs, verbose=args.verbose)
    ctx = Context.open(paths)
    try:
        yield ctx
    finally:
        ctx.close()


def build_target(args, ctx):
    """Returns (Target, node or None) from the address book and/or the command line."""
    from dataclasses import replace

    from pacs_console.core.dicom.wire.params import Timeouts, validate_ae_title
    from pacs_console.core.dicom.wire.target import Target

    node = None
    if args.node:  # the database (SQLAlchemy) loads only when the address book is asked
        from pacs_console.core.db.nodes import get_node

        node = get_node(ctx.db, args.node)
        if node is None:
            raise UsageProblem(f"no node {args.node!r} in the address book "
                               "(pacs-console lists them in the Tests panel)")
    settings = ctx.settings
    if node is not None:
        target = Target.from_node(node, settings)
    else:
        if not args.host or args.port is None:
            raise UsageProblem("give HOST and PORT, or --node NAME")
        target = Target(args.host, args.port, "ANY-SCP", settings.ae_title, settings.timeouts(),
                        max_pdu=settings.max_pdu)
    changes: dict[str, Any] = {}
    if args.host:
        changes["host"] = args.host
    if args.port is not None:
        if not 1 <= args.port <= 65535:
            raise UsageProblem(f"port {args.port} is outside 1-65535")
        changes["port"] = args.port
    for option, field in (("call", "called_ae"), ("aetitle", "calling_ae")):
        value = getattr(args, option)
        if value is not None:
            problem = validate_ae_title(value)
            if problem:
                raise UsageProblem(f"-{'aec' if option == 'call' else 'aet'} {value!r}: {problem}")
            changes[field] = value
    t = target.timeouts
    timeouts = Timeouts(args.timeout or t.connect, args.acse_timeout or t.acse,
                        args.dimse_timeout or t.dimse, t.network)
    changes["timeouts"] = timeouts
    if args.max_pdu is not None:
        from pacs_console.core.dicom.wire.pdu import max_pdu_problem

        problem = max_pdu_problem(args.max_pdu)
        if problem:
            raise UsageProblem(f"-pdu: {problem}")
        changes["max_pdu"] = args.max_pdu
    if args.tls or args.ca_file or args.tls_cert:
        from pacs_console.core.dicom.wire.tls import TlsConfig

        base = target.tls or TlsConfig()
        changes["tls"] = TlsConfig(ca_file=args.ca_file or base.ca_file,
                                   cert_file=args.tls_cert or base.cert_file,
                                   key_file=args.tls_key or base.key_file,
                                   server_name=args.server_name or base.server_name)
    return replace(target, **changes), node


def prepare_evidence(args, database=None) -> None:
    """Import what ``save_evidence`` will need (sqlite3, datetime, the PHI rules: ~4 ms) and
    open the light connection to ``database`` (when given) on a daemon thread, for a command
    that is about to wait on the network: it runs while this thread waits for the node's
    first answer (a 200-study C-FIND waits ~15-20 ms for Orthanc's), and costs nothing extra
    when there is no wait to fill, since the work is needed anyway. Import locks keep a module
    the main thread asks for meanwhile from loading twice; a lock, the connection."""
    if args.no_save or args.node:  # --node opens the ORM: nothing light to prepare
        return
    import threading
    from importlib import import_module

    def load() -> None:
        for name in ("pacs_console.core.db.light", "pacs_console.core.phi"):
            try:
                import_module(name)
            except Exception:  # noqa: BLE001 - save_evidence imports it again and says why
                return
        if database is not None:
            try:
                import_module("pacs_console.core.db.light").open_ahead(database)
            except Exception:  # noqa: BLE001 - the save opens it itself and says why
                return

    threading.Thread(target=load, name="prepare-evidence", daemon=True).start()


def save_evidence(args, ctx, node, result) -> int | None:
    if args.no_save or not hasattr(result, "evidence"):
        return None
    evidence = result.evidence()
    if node is None:  # the database is not open yet: append the row without loading the ORM
        from pacs_console.core.db.light import save_test_run_light

        run_id = save_test_run_light(ctx.paths.database, node_id=None, **evidence)
        if run_id is not None:
            return run_id
    from pacs_console.core.db.testruns import save_test_run

    return save_test_run(ctx.db, node_id=node.id if node else None, **evidence).id


def report_run(args, ctx, node, command: str, outcome, code: int, *, ok: bool | None = None,
               **fields: Any) -> bool:
    """The end of a DICOM subcommand: ``outcome`` saved as evidence (``save_evidence``) and,
    with --json, the command's one JSON document of ``fields`` (``emit_run``; ok when ``code``
    is 0 unless ``ok`` is given). True when the JSON was printed: human lines are left out."""
    run_id = save_evidence(args, ctx, node, outcome)
    if args.json:
        emit_run(command, code == 0 if ok is None else ok, run_id, code, **fields)
    return bool(args.json)


def emit_run(command: str, ok: bool, run_id: int | None, code: int, **fields: Any) -> None:
    """A DICOM subcommand's one JSON document: what ran, whether it was OK, its own fields, the
    evidence row it was saved as and the exit code."""
    emit_json({"command": command, "ok": ok, **fields, "test_run_id": run_id, "exit_code": code})


def emit_json(data: Any) -> None:
    import json  # only when printing JSON: a command line starts without it (~1 ms)

    from pacs_console.core.dicom.ops.results import json_safe

    json.dump(json_safe(data), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def say(args, text: str) -> None:
    """Human output; with --json, progress goes to stderr so stdout stays one JSON document.
    Each line is written whole and flushed (a C-FIND streams its matches): one system call a
    line where print() makes two on an unbuffered stream (PYTHONUNBUFFERED)."""
    stream = sys.stderr if args.json else sys.stdout
    if stream is not None:  # as print(): no console at all (a windowed build) prints nothing
        stream.write(f"{text}\n")
        stream.flush()


def diagnosis_lines(diagnosis) -> str:
    """Causes, actions and evidence; the 'what' line is already on the result line."""
    return "\n".join("  " + line for line in diagnosis.text().splitlines()[1:])


def add_conflict_choice(parser: argparse.ArgumentParser) -> None:
    """--keep-mine | --take-theirs (one required): answering a change made here and on the
    helpdesk (articles, site nodes)."""
    choice = parser.add_mutually_exclusive_group(required=True)
    choice.add_argument("--keep-mine", action="store_true",
                        help="send this laptop's version over the helpdesk's at the next sync")
    choice.add_argument("--take-theirs", action="store_true",
                        help="replace this laptop's version with the helpdesk's")


def add_command(sub, name: str, handler, help_text: str, json_flag: bool = True):
    """An action of a record-keeping command (site, incident, kb ...): ``handler(args, ctx)``
    run through ``with_context``, the help repeated as its description, and --json."""
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=with_context(handler))
    if json_flag:
        add_json(parser)
    return parser


def with_context(handler):
    """For handlers taking ``(args, ctx)``: open the context, close it, and print a ConsoleError's
    diagnosis (as JSON with --json) with exit code 1 instead of a traceback."""
    def run(args) -> int:
        from pacs_console.core.context import Context
        from pacs_console.core.errors import ConsoleError
        from pacs_console.paths import app_paths

        ctx = Context.open(app_paths(args.data_dir))
        try:
            return handler(args, ctx)
        except ConsoleError as exc:
            if getattr(args, "json", False):
                import json

                print(json.dumps({"ok": False, "error": exc.diagnosis.to_dict()}))
            else:
                print(exc.diagnosis.text(), file=sys.stderr)
            return exit_codes.FAILED
        finally:
            ctx.close()
    return run


def run_guarded(handler):
    """Turn usage problems and Ctrl+C into their exit codes instead of tracebacks."""
    def wrapped(args) -> int:
        try:
            return handler(args)
        except UsageProblem as exc:
            print(f"pacs-console {args.command}: {exc}", file=sys.stderr)
            return exit_codes.USAGE
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return exit_codes.INTERRUPTED

    return wrapped


def say_diagnosis(args, ctx, diagnosis, what: str | None = None) -> None:
    """A failure for a person: ``what`` (when its line is not on screen yet), the causes,
    actions and evidence, then the known fixes from the knowledge base."""
    if what is not None:
        say(args, what)
    say(args, diagnosis_lines(diagnosis))
    say_known_fixes(args, ctx, diagnosis)


def say_known_fixes(args, ctx, diagnosis, vendor: str | None = None) -> None:
    """After a failure's diagnosis: 'Known fixes: ...' from the knowledge base, best first.
    A knowledge-base problem never changes the test's own output or exit code."""
    if diagnosis is None or getattr(args, "json", False):
        return
    import logging

    from pacs_console.core.kb.store import known_fixes_line, suggest

    try:
        line = known_fixes_line(suggest(ctx.db, [diagnosis.code], vendor))
    except Exception:  # noqa: BLE001 - suggestions are a courtesy beside the diagnosis
        logging.getLogger(__name__).exception("knowledge-base suggestions failed")
        return
    if line:
        say(args, "  " + line)
