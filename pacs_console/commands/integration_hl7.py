"""Handlers of `pacs-console hl7 send` and `hl7 listen`."""

from __future__ import annotations

import json
import queue
import sys
import time

from pacs_console.commands import exit_codes
from pacs_console.commands.dimse_common import (
    UsageProblem,
    diagnosis_lines,
    opened_context,
    report_run,
    say,
)


def hl7_exit_code(result) -> int:
    if result.ok:
        return exit_codes.OK
    diag = result.diagnosis
    code = diag.code if diag else ""
    if code.startswith("hl7-nack"):
        return exit_codes.DIMSE_FAILURE  # the peer answered with a failure: same class as DIMSE
    if code == "hl7-ack-timeout":
        return exit_codes.TIMEOUT
    if code in ("hl7-invalid-message",):
        return exit_codes.USAGE
    if code.startswith("hl7-"):
        return exit_codes.FAILED
    return exit_codes.for_diagnosis(code)


def _message(args, ctx) -> tuple[str, list[str]]:
    from pacs_console.core.hl7 import templates

    if args.template:
        if args.file:
            raise UsageProblem("give FILE or --template, not both")
        fields = _worklist_fields(args, ctx) if args.worklist else templates.test_patient_fields(
            args.seed)
        return templates.render(args.template, fields, sending_app=ctx.settings.ae_title,
                                receiving_app=args.receiving_app,
                                receiving_facility=args.receiving_facility), []
    if not args.file:
        raise UsageProblem("give FILE or --template NAME")
    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else open(args.file, "rb").read()
    except OSError as exc:
        raise UsageProblem(f"cannot read {args.file}: {exc.strerror}") from None
    text = raw.decode("utf-8", errors="replace")
    if args.loose:
        return templates.loose_repair(text)
    return text, []


def _worklist_fields(args, ctx) -> dict:
    from pacs_console.commands.integration_web import resolve_target
    from pacs_console.core.dicom.ops.query import find
    from pacs_console.core.hl7.templates import fields_from_worklist

    target, _ = resolve_target(args.worklist, ctx)
    keys = {"AccessionNumber": args.accession} if args.accession else {}
    search = find(target, "WORKLIST", keys, model="worklist", limit=1)
    matches = list(_drain(search))
    if not matches:
        raise UsageProblem(f"no worklist item found on {target.label}"
                           + (f" for accession {args.accession}" if args.accession else ""))
    return fields_from_worklist(matches[0])


def _drain(generator):
    while True:
        try:
            yield next(generator)
        except StopIteration:
            return


def run_send(args) -> int:
    from pacs_console.core.dicom.wire.tls import TlsConfig
    from pacs_console.core.hl7.mllp import send

    if not 1 <= args.port <= 65535:
        raise UsageProblem(f"port {args.port} is outside 1-65535")
    with opened_context(args) as ctx:
        text, fixes = _message(args, ctx)
        for fix in fixes:
            say(args, f"--loose: {fix}")
        tls = None
        if args.tls or args.ca_file or args.tls_cert:
            tls = TlsConfig(ca_file=args.ca_file or "", cert_file=args.tls_cert or "",
                            key_file=args.tls_key or "", server_name=args.server_name or "",
                            verify=not args.insecure)
        if args.show:
            say(args, text.replace("\r", "\n"))
        result = send(args.host, args.port, text, connect_timeout=args.connect_timeout,
                      ack_timeout=args.timeout, tls=tls)
        result.parameters["template"] = args.template or ""
        result.parameters["loose_fixes"] = fixes
        code = hl7_exit_code(result)
        if report_run(args, ctx, None, "hl7 send", result, code, ok=result.ok, result=result):
            return code
        say(args, ("OK " if result.ok else "FAILED ") + result.summary())
        if result.ack is not None:
            say(args, f"  MSA-1 {result.ack.code}: {result.ack.meaning}")
            if result.ack.text:
                say(args, f"  MSA-3: {result.ack.text}")
            for err in result.ack.errors:
                say(args, f"  ERR: {err.line()}" + (f" -> {err.advice}" if err.advice else ""))
        timing = [f"connect {result.connect_ms:.1f} ms" if result.connect_ms is not None else "",
                  f"TLS {result.tls_ms:.1f} ms" if result.tls_ms is not None else "",
                  f"ACK {result.ack_ms:.1f} ms" if result.ack_ms is not None else ""]
        if any(timing):
            say(args, "  " + ", ".join(t for t in timing if t))
        if result.diagnosis is not None and (result.ack is None or result.ack.accepted):
            say(args, "  " + result.diagnosis.what)
            say(args, diagnosis_lines(result.diagnosis))
        if result.framing_problems:
            say(args, "  framing: " + "; ".join(result.framing_problems))
            say(args, "\n".join("    " + line for line in result.reply_hex.splitlines()))
        return code


def run_listen(args) -> int:
    from pacs_console.core.hl7.listener import Hl7Listener, ListenerOptions

    if not 0 <= args.port <= 65535:
        raise UsageProblem(f"port {args.port} is outside 0-65535")
    with opened_context(args) as ctx:
        arrivals: queue.SimpleQueue = queue.SimpleQueue()
        options = ListenerOptions(answer=args.answer, mask_phi=not args.show_phi,
                                  application=ctx.settings.ae_title)
        try:
            listener = Hl7Listener(args.port, host=args.bind, options=options, notify=arrivals,
                                   cert_file=args.tls_cert or "", key_file=args.tls_key or "")
            listener.start()
        except OSError as exc:
            print(f"pacs-console hl7 listen: cannot listen on {args.bind}:{args.port}: "
                  f"{exc.strerror or exc}", file=sys.stderr)
            return exit_codes.REFUSED
        print(f"listening on {args.bind}:{listener.port}, answering {args.answer}"
              + ("" if args.show_phi else ", patient fields masked"), file=sys.stderr, flush=True)
        seen = 0
        deadline = time.monotonic() + args.duration if args.duration else None
        try:
            while (not args.count or seen < args.count) and (
                    deadline is None or time.monotonic() < deadline):
                try:
                    record = arrivals.get(timeout=0.2)
                except queue.Empty:
                    continue
                seen += 1
                if args.json:
                    print(json.dumps(record.to_dict(), ensure_ascii=False), flush=True)
                    continue
                print(f"{record.received_at:%H:%M:%S} {record.peer} {record.message_type} "
                      f"{record.control_id} -> {record.ack_code}", flush=True)
                for line in record.text.split("\r"):
                    if line:
                        print("    " + line, flush=True)
                if record.framing_problems:
                    print("  framing: " + "; ".join(record.framing_problems), flush=True)
        except KeyboardInterrupt:
            pass
        finally:
            listener.stop()
        print(f"{seen} message(s) received", file=sys.stderr)
        return exit_codes.OK
