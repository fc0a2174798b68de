"""`pacs-console dicomweb qido|wado|stow` and `workflow run|serve`: parsers and handlers."""

from __future__ import annotations

import json
import re
import sys
import time

from pacs_console.commands import exit_codes
from pacs_console.commands.dimse_common import (
    UsageProblem,
    diagnosis_lines,
    emit_json,
    opened_context,
    report_run,
    run_guarded,
    say,
)
from pacs_console.commands.options import action_parsers, add_json, described_parser

_ADDRESS = re.compile(r"^(?P<ae>[^@]{1,16})@(?P<host>[^:]+):(?P<port>\d+)$")


def resolve_target(spec: str, ctx):
    """An address-book node (name, id or AE) or AE@HOST:PORT; returns (Target, node or None)."""
    from pacs_console.core.db.nodes import get_node
    from pacs_console.core.dicom.wire.target import Target

    match = _ADDRESS.match(spec.strip())
    if match:
        return Target(match["host"], int(match["port"]), match["ae"], ctx.settings.ae_title,
                      ctx.settings.timeouts()), None
    node = get_node(ctx.db, spec)
    if node is None:
        raise UsageProblem(f"no node {spec!r} in the address book (or give AE@HOST:PORT)")
    return Target.from_node(node, ctx.settings), node


def register_dicomweb(subparsers) -> None:
    sub = action_parsers(subparsers, "dicomweb", "QIDO-RS, WADO-RS and STOW-RS", dest="web_command",
                         allow_abbrev=False)

    def common(parser):
        parser.add_argument("url", help="DICOMweb root, e.g. http://10.0.0.5:8042/dicom-web")
        parser.add_argument("--auth", choices=["none", "basic", "bearer"],
                            help="override the saved authentication for this URL")
        parser.add_argument("--user", help="basic auth user (password asked, or from "
                                           "PACS_CONSOLE_DICOMWEB_SECRET)")
        parser.add_argument("--save-credentials", action="store_true",
                            help="keep the credentials in the OS keyring for this URL")
        parser.add_argument("--timeout", type=float, default=60.0, metavar="S",
                            help="read timeout (default 60)")
        parser.add_argument("--connect-timeout", type=float, default=5.0, metavar="S")
        parser.add_argument("--ca-file", metavar="PEM",
                            help="trust this CA (PEM) for https:// instead of the system store")
        parser.add_argument("--insecure", action="store_true", help="do not verify TLS")
        add_json(parser)
        parser.add_argument("--no-save", action="store_true", help="do not save as evidence")

    qido = sub.add_parser("qido", help="search studies, series or instances",
                          description="QIDO-RS search. Example: pacs-console dicomweb qido "
                                      "http://pacs:8042/dicom-web -k PatientID=KB123456")
    common(qido)
    qido.add_argument("--level", choices=["study", "series", "instance"], default="study")
    qido.add_argument("--study", metavar="UID", help="within this study (series/instance level)")
    qido.add_argument("-k", "--key", action="append", default=[], metavar="KEY=VALUE",
                      help="match key (DICOM keyword or tag), repeatable")
    qido.add_argument("--limit", type=int, metavar="N")
    qido.set_defaults(handler=run_guarded(_run_web))
    wado = sub.add_parser("wado", help="retrieve into the local store",
                          description="WADO-RS retrieve of a study, series or instance into the "
                                      "console's local store.")
    common(wado)
    wado.add_argument("study", metavar="STUDY_UID")
    wado.add_argument("--series", metavar="UID")
    wado.add_argument("--instance", metavar="UID")
    wado.set_defaults(handler=run_guarded(_run_web))
    stow = sub.add_parser("stow", help="store files", description="STOW-RS of DICOM files or "
                                                                  "folders in one request.")
    common(stow)
    stow.add_argument("paths", nargs="+", metavar="PATH")
    stow.set_defaults(handler=run_guarded(_run_web))


def register_workflow(subparsers) -> None:
    sub = action_parsers(subparsers, "workflow", "play a modality against the site, or the site",
                         allow_abbrev=False)
    run = described_parser(
        sub, "run", "MWL, MPPS, C-STORE, storage commitment, MPPS final: pass/fail per step",
        "Play a modality: NODE (address-book name or AE@HOST:PORT) serves every role unless "
        "--worklist/--mpps/--store/--commit name another ('-' skips a role). Each step is saved "
        "as a test run.\nExample: pacs-console workflow run RIS@10.0.0.4:104 --store PACS "
        "--commit PACS", allow_abbrev=True)
    run.add_argument("nodes", nargs="*", metavar="NODE")
    for role in ("worklist", "mpps", "store", "commit"):
        run.add_argument(f"--{role}", metavar="NODE", help=f"the {role} node")
    run.add_argument("-aet", "--aetitle", metavar="AE", help="the modality's AE title")
    run.add_argument("-k", "--key", action="append", default=[], metavar="KEY=VALUE",
                     help="worklist match key (modality=CT, accession=..., station_ae=...)")
    run.add_argument("--images", type=int, default=2, help="instances in the generated study")
    run.add_argument("--discontinue", action="store_true", help="end with DISCONTINUED")
    run.add_argument("--commit-mode", choices=["same", "separate", "any"], default="any")
    run.add_argument("--report-port", type=int, metavar="PORT",
                     help="listen here for reports on a separate association (default: the "
                          "Storage SCP port from settings; 0 = no listener)")
    run.add_argument("--report-bind", default="0.0.0.0", metavar="ADDRESS")
    run.add_argument("--commit-wait", type=float, default=30.0, metavar="S")
    add_json(run)
    run.add_argument("--no-save", action="store_true", help="do not save the steps")
    run.set_defaults(handler=run_guarded(_run_workflow))
    serve = sub.add_parser("serve", help="play the site: worklist, MPPS, storage commitment SCP",
                           description="Serve a modality worklist (generated items), MPPS, "
                                       "C-STORE and storage commitment on one AE.")
    serve.add_argument("port", type=int)
    serve.add_argument("--ae", default="PACSCONSOLE", help="AE title (default PACSCONSOLE)")
    serve.add_argument("--bind", default="0.0.0.0", metavar="ADDRESS")
    serve.add_argument("--items", type=int, default=10, help="generated worklist items")
    serve.add_argument("--report", choices=["same", "separate"], default="same")
    serve.add_argument("--peer", action="append", default=[], metavar="AE@HOST:PORT",
                       help="where to send reports on a separate association")
    serve.add_argument("--duration", type=float, default=0.0, metavar="S")
    serve.set_defaults(handler=run_guarded(_run_serve), serves=True)


def _keys(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageProblem(f"key {pair!r} is not KEY=VALUE")
        out[key.strip()] = value
    return out


def _endpoint(args, ctx):
    import os

    from pacs_console.core.dicomweb.auth import Credentials, load_credentials, save_credentials
    from pacs_console.core.dicomweb.client import Endpoint
    from pacs_console.core.errors import ConsoleError

    creds = load_credentials(ctx.secrets, args.url)
    if args.auth and args.auth != "none":
        secret = os.environ.get("PACS_CONSOLE_DICOMWEB_SECRET")
        if secret is None:
            from pacs_console.commands.prompt import ask_secret

            secret = ask_secret("token: " if args.auth == "bearer" else "password: ",
                                what="token" if args.auth == "bearer" else "password",
                                hint="or set PACS_CONSOLE_DICOMWEB_SECRET")
        creds = Credentials(args.auth, args.user or "", secret)
    elif args.auth == "none":
        creds = Credentials()
    if args.save_credentials and not save_credentials(ctx.secrets, args.url, creds):
        from pacs_console.core.secrets import not_stored

        raise not_stored(f"The credentials for {args.url}", ctx.secrets.status,
                         "PACS_CONSOLE_DICOMWEB_SECRET")
    if args.ca_file and args.insecure:
        raise UsageProblem("--ca-file and --insecure contradict each other: give one")
    endpoint = Endpoint(args.url, creds, args.connect_timeout, args.timeout,
                        False if args.insecure else (args.ca_file or True))
    try:
        endpoint.tls_context()  # an unusable CA file is bad input, said before any request
    except ConsoleError as exc:
        raise UsageProblem(exc.diagnosis.text()) from exc
    return endpoint


def _run_web(args) -> int:
    from pacs_console.core.dicomweb import client

    if not args.url.startswith(("http://", "https://")):
        raise UsageProblem("the URL must start with http:// or https://")
    from pacs_console.core.errors import ConsoleError

    with opened_context(args) as ctx:
        try:
            endpoint = _endpoint(args, ctx)
        except ConsoleError as exc:  # --save-credentials without a secure keyring
            print(json.dumps({"ok": False, "error": exc.diagnosis.to_dict()}) if args.json
                  else exc.diagnosis.text(), file=sys.stdout if args.json else sys.stderr)
            return exit_codes.FAILED
        if args.web_command == "qido":
            result = client.qido(endpoint, args.level, _keys(args.key), study_uid=args.study or "",
                                 limit=args.limit)
        elif args.web_command == "wado":
            result = _drive(client.wado(endpoint, ctx.paths.store, args.study, args.series or "",
                                        args.instance or ""), args)
        else:
            from pacs_console.core.dicom.ops.store import collect

            items, _ = collect(args.paths)
            if not items:
                raise UsageProblem("no DICOM files in the given paths")
            result = _drive(client.stow(endpoint, [i.path for i in items]), args)
        code = exit_codes.OK if result.ok else (
            exit_codes.PARTIAL if result.diagnosis and result.diagnosis.code == "partial-stow"
            else _web_code(result.diagnosis.code))
        if report_run(args, ctx, None, f"dicomweb {args.web_command}", result, code,
                      ok=result.ok, result=result):
            return code
        say(args, ("OK " if result.ok else "FAILED ") + result.summary())
        for row in result.matches[:200]:
            say(args, "  " + "  ".join(f"{k}={v}" for k, v in row.items() if v and k in _SHOWN))
        if result.diagnosis:
            say(args, diagnosis_lines(result.diagnosis))
        return code


_SHOWN = {"PatientID", "PatientName", "StudyDate", "AccessionNumber", "StudyInstanceUID",
          "ModalitiesInStudy", "StudyDescription", "SeriesInstanceUID", "Modality",
          "SOPInstanceUID"}


def _web_code(code: str) -> int:
    if code in ("dicomweb-http-401", "dicomweb-http-403"):
        return exit_codes.REJECTED
    if "timeout" in code:
        return exit_codes.TIMEOUT
    if code.startswith("partial"):
        return exit_codes.PARTIAL
    if code.startswith("dicomweb-"):
        return exit_codes.DIMSE_FAILURE if code.startswith("dicomweb-http") else exit_codes.FAILED
    return exit_codes.for_diagnosis(code)


def _drive(operation, args):
    while True:
        try:
            progress = next(operation)
        except StopIteration as stop:
            return stop.value
        if not args.json and progress.message:
            print(f"\r  {progress.message}", end="", file=sys.stderr, flush=True)


def _run_workflow(args) -> int:
    from dataclasses import replace

    from pacs_console.core.workflow.runner import WorkflowPlan, run_workflow

    with opened_context(args) as ctx:
        default = args.nodes[0] if args.nodes else None
        targets, node_ids = {}, {}
        for role in ("worklist", "mpps", "store", "commit"):
            spec = getattr(args, role) or default
            if spec in (None, "-"):
                targets[role] = None
                continue
            target, node = resolve_target(spec, ctx)
            if args.aetitle:
                target = replace(target, calling_ae=args.aetitle)
            targets[role], node_ids[role] = target, node.id if node else None
        if not any(targets.values()):
            raise UsageProblem("give at least one NODE")
        report_port = ctx.settings.scp_port if args.report_port is None else args.report_port
        plan = WorkflowPlan(**targets, worklist_keys=_keys(args.key), images=args.images,
                            finish="DISCONTINUED" if args.discontinue else "COMPLETED",
                            commit_mode=args.commit_mode, report_host=args.report_bind,
                            report_port=report_port or None, commit_wait=args.commit_wait,
                            node_ids=node_ids)
        operation = run_workflow(plan, None if args.no_save else ctx.db)
        while True:
            try:
                step = next(operation)
            except StopIteration as stop:
                result = stop.value
                break
            mark = {"ok": "PASS", "warning": "PASS", "skipped": "SKIP"}.get(step.outcome, "FAIL")
            say(args, f"{mark} {step.title:<30} {step.duration_ms:8.0f} ms  {step.summary}")
            if step.diagnosis and not step.ok:
                say(args, diagnosis_lines(step.diagnosis))
        failed = [s for s in result.steps if s.outcome == "failed"]
        code = exit_codes.OK if not failed else (
            exit_codes.PARTIAL if len(failed) < len(result.steps) and any(
                s.ok for s in result.steps) else exit_codes.FAILED)
        if args.json:
            emit_json({"command": "workflow run", "ok": result.ok, "plan": plan.to_dict(),
                       "result": result.to_dict(), "exit_code": code})
        else:
            say(args, f"{'PASSED' if result.ok else 'FAILED'}: {len(result.steps) - len(failed)}"
                      f"/{len(result.steps)} steps in {result.duration_ms:.0f} ms")
        return code


def _run_serve(args) -> int:
    import queue

    from pacs_console.core.dicom.synth.studies import worklist_items
    from pacs_console.core.workflow.scp import ScpBehaviour, WorkflowSCP

    peers = {}
    for spec in args.peer:
        match = _ADDRESS.match(spec)
        if not match:
            raise UsageProblem(f"--peer {spec!r} is not AE@HOST:PORT")
        peers[match["ae"]] = (match["host"], int(match["port"]))
    with opened_context(args) as ctx:
        events: queue.SimpleQueue = queue.SimpleQueue()
        scp = WorkflowSCP(args.ae, args.port, host=args.bind, items=worklist_items(args.items),
                          behaviour=ScpBehaviour(report=args.report, peers=peers),
                          timeouts=ctx.settings.timeouts(), notify=events).start()
        print(f"{args.ae} serving MWL, MPPS, C-STORE and storage commitment on "
              f"{args.bind}:{scp.port}", file=sys.stderr, flush=True)
        deadline = time.monotonic() + args.duration if args.duration else None
        try:
            while deadline is None or time.monotonic() < deadline:
                try:
                    event = events.get(timeout=0.2)
                except queue.Empty:
                    continue
                print(f"{event.at:%H:%M:%S} {event.service:<12} {event.calling_ae:<16} "
                      f"0x{event.status:04X} {event.detail}", flush=True)
        except KeyboardInterrupt:
            pass
        finally:
            scp.stop()
        return exit_codes.OK
