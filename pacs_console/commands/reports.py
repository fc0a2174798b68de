"""`pacs-console report build|verify|list|cert`: signed PDF visit reports from the command line."""

from __future__ import annotations

import argparse
import json
import sys

from pacs_console.commands.options import action_parsers

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN, EXIT_MODIFIED, EXIT_UNSIGNED, EXIT_UNREADABLE = 3, 4, 5, 6
EXIT_UNKNOWN_CERT, EXIT_SAMPLE = 7, 8
VERIFY_HELP = """exit codes:
  0  signed, signed bytes intact, not changed after signing, and the certificate
     is trusted: this laptop's engineer certificate (pinned by fingerprint), one
     whose fingerprint was given with --trust-fingerprint, or one issued by the
     company CA (settings or --ca-file) or a public CA
  1  other failure
  3  signature broken: the signed bytes were altered
  4  changed after signing (an incremental update the certification does not allow)
  5  no signature in the PDF
  6  not readable as a PDF
  7  intact, but signed by an unknown certificate (a look-alike with the same
     name is not the engineer's certificate)
  8  a SAMPLE signature (training): not a real signature"""


def _context(args):
    from pacs_console.core.context import Context
    from pacs_console.paths import app_paths

    return Context.open(app_paths(args.data_dir))


def _fail(args, diagnosis) -> int:
    if getattr(args, "json", False):
        print(json.dumps({"ok": False, "error": diagnosis.to_dict()}, ensure_ascii=False))
    else:
        print(diagnosis.text(), file=sys.stderr)
    return EXIT_FAILED


def _ask(prompt: str) -> str | None:
    """Only when a person is at the terminal; scripts use PACS_CONSOLE_SIGNING_PASSPHRASE.
    End of input (Ctrl+D) ends the command with one line and exit 2 (commands.prompt)."""
    from pacs_console.commands.prompt import ask_secret

    if sys.stdin is None or sys.stdin.closed or not sys.stdin.isatty():
        return None
    return ask_secret(prompt + ": ", what="passphrase",
                      hint="set PACS_CONSOLE_SIGNING_PASSPHRASE for scripts") or None


def interactive_ask():
    """The prompt only where a person can answer it; otherwise signing says what is missing."""
    return _ask if sys.stdin is not None and not sys.stdin.closed and sys.stdin.isatty() else None


def _build(args) -> int:
    from pathlib import Path

    from pacs_console.core.errors import ConsoleError

    if not args.sample and args.visit is None:
        print("report build: give --visit ID or --sample", file=sys.stderr)
        return EXIT_USAGE
    ctx = _context(args)
    try:
        settings = ctx.settings
        extras = None
        if args.extras:
            from pacs_console.core.reports.model import extras_from_dict

            extras = extras_from_dict(json.loads(Path(args.extras).read_text(encoding="utf-8")))
        if args.sample:
            from pacs_console.core.reports.sample import sample_report

            def source():
                report = sample_report(scale=args.scale)
                return report if extras is None else _with_extras(report, extras)
        else:
            from pacs_console.core.reports.gather import gather
            from pacs_console.core.reports.store import load_extras

            def source():
                return gather(ctx.db, settings, args.visit,
                              extras or load_extras(ctx.paths.data, args.visit),
                              data_dir=ctx.paths.data)
        from pacs_console.core.reports.store import build_report

        profile = settings.profile
        steps = build_report(
            source, ctx.paths.data, ctx.secrets, out=Path(args.out), register=not args.sample,
            sign=not args.no_sign, engineer=profile.name, organisation=profile.organisation,
            tsa_url=settings.extra.get("tsa_url") or None, ask=interactive_ask(),
            logo=profile.logo or settings.extra.get("report_logo") or None,
            notify=lambda text: print(text, file=sys.stderr), sample=args.sample)
        try:
            while True:
                step = next(steps)
                if args.verbose and not args.json:
                    print(step.message, file=sys.stderr)
        except StopIteration as stop:
            record = stop.value
        data = {**record.to_dict(), "out": str(Path(args.out).resolve())}
        if args.json:
            print(json.dumps({"ok": True, **data}, ensure_ascii=False, indent=2))
        else:
            state = ("signed as a SAMPLE (throw-away key, not a real signature)"
                     if record.signed and args.sample else
                     "signed" if record.signed else "unsigned")
            print(f"{args.out}: {record.pages} pages, {state}"
                  + (", timestamped" if record.timestamped else "")
                  + f"; visit data SHA-256 {record.json_sha256}")
        return EXIT_OK
    except ConsoleError as exc:
        return _fail(args, exc.diagnosis)
    except (OSError, ValueError, KeyError) as exc:
        from pacs_console.core.errors import Diagnosis

        return _fail(args, Diagnosis("report-build", "The report could not be built",
                                     (f"{type(exc).__name__}: {exc}"[:300],),
                                     ("Check --out and --extras paths",)))
    finally:
        ctx.close()


def _with_extras(report, extras):
    from dataclasses import replace

    return replace(report, extras=extras)


def _verify(args) -> int:
    from pathlib import Path

    from pacs_console.core.reports.verify import verify_on_this_laptop
    from pacs_console.core.settings import SettingsError, load_settings
    from pacs_console.paths import app_paths

    paths = app_paths(args.data_dir)
    try:
        company_ca = load_settings(paths.settings_file).extra.get("company_ca_file") or ""
    except SettingsError:
        company_ca = ""
    for ca in args.ca_file or ():
        if not Path(ca).is_file():
            print(f"report verify: CA file {ca} does not exist", file=sys.stderr)
            return EXIT_USAGE
    try:
        result = verify_on_this_laptop(Path(args.file), paths.data, company_ca=company_ca,
                                       fingerprints=args.trust_fingerprint or (),
                                       ca_files=args.ca_file or ())
    except (OSError, ValueError) as exc:
        print(f"report verify: a CA file could not be read: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(result.text())
    return {"valid": EXIT_OK, "broken": EXIT_BROKEN, "modified": EXIT_MODIFIED,
            "unsigned": EXIT_UNSIGNED, "unreadable": EXIT_UNREADABLE,
            "unknown-certificate": EXIT_UNKNOWN_CERT,
            "sample": EXIT_SAMPLE}.get(result.state, EXIT_FAILED)


def _list(args) -> int:
    from pacs_console.core.reports.store import list_reports
    from pacs_console.paths import app_paths

    found = list_reports(app_paths(args.data_dir).data)
    if args.json:
        print(json.dumps([r.to_dict() for r in found], ensure_ascii=False, indent=2))
    else:
        for r in found:
            print(f"{r.created[:16]}  visit {r.visit_id}  {r.site}  "
                  f"{'signed' if r.signed else 'unsigned'}  {r.path}")
        if not found:
            print("No reports yet.")
    return EXIT_OK


def _cert(args) -> int:
    from pathlib import Path

    from pacs_console.core.errors import ConsoleError
    from pacs_console.core.reports import certs

    ctx = _context(args)
    try:
        if args.import_file:
            secret = certs.passphrase(ctx.secrets, ask=_ask, purpose="Passphrase of the PKCS#12")
            info = certs.import_pkcs12(ctx.paths.data, ctx.secrets, Path(args.import_file),
                                       secret)
        else:
            profile = ctx.settings.profile
            _, info = certs.load_signer(ctx.paths.data, ctx.secrets, engineer=profile.name,
                                        organisation=profile.organisation,
                                        ask=interactive_ask(),
                                        notify=lambda text: print(text, file=sys.stderr))
        if args.json:
            print(json.dumps(info.to_dict(), ensure_ascii=False, indent=2))
        else:
            print(f"{info.subject}\n  issuer {info.issuer}"
                  f"{' (self-signed)' if info.self_signed else ''}\n  SHA-256 "
                  f"{info.fingerprint_sha256}\n  valid until {info.not_after:%Y-%m-%d}")
        return EXIT_OK
    except ConsoleError as exc:
        return _fail(args, exc.diagnosis)
    finally:
        ctx.close()


def register(subparsers) -> None:
    sub = action_parsers(subparsers, "report", "build, sign and verify PDF visit reports")
    p = sub.add_parser("build", help="build and sign a visit report",
                       description="Build a visit's PDF report and sign it with the engineer's "
                                   "certificate (made on first use). The passphrase comes from "
                                   "the OS keyring, PACS_CONSOLE_SIGNING_PASSPHRASE, or a prompt.")
    p.add_argument("--visit", type=int, help="visit id (see `pacs-console visit list`)")
    p.add_argument("--sample", action="store_true",
                   help="a realistic sample visit, for previewing the template and training")
    p.add_argument("--scale", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--extras", metavar="JSON", help="free-text parts (summary, recommendations, "
                   "parts, feedback, signatures) instead of the panel's saved draft")
    p.add_argument("--no-sign", action="store_true", help="leave the report unsigned")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(handler=_build)
    p = sub.add_parser("verify", help="check a report's signature",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Signer, signing time, whether the signed bytes are intact, "
                                   "whether anything changed after signing, certificate trust.",
                       epilog=VERIFY_HELP)
    p.add_argument("file")
    p.add_argument("--trust-fingerprint", action="append", metavar="SHA256",
                   help="also trust the certificate with this SHA-256 fingerprint (as printed "
                        "on the report and given to the hospital); repeatable")
    p.add_argument("--ca-file", action="append", metavar="PEM",
                   help="also trust certificates issued by this CA (company CA); repeatable")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(handler=_verify)
    p = sub.add_parser("list", help="reports kept in the data folder")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_list)
    p = sub.add_parser("cert", help="show (making on first use) or import the signing certificate")
    p.add_argument("--import", dest="import_file", metavar="P12",
                   help="a PKCS#12 file; its passphrase from PACS_CONSOLE_SIGNING_PASSPHRASE or "
                        "a prompt")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_cert)
