"""`pacs-console assess`: a non-destructive security assessment of a site's imaging network."""

from __future__ import annotations

import sys

from pacs_console.commands import exit_codes
from pacs_console.commands.dimse_common import (
    UsageProblem,
    emit_json,
    opened_context,
    run_guarded,
    say,
)
from pacs_console.commands.options import add_allow_public, add_json, described_parser


class ReportNotSigned(Exception):
    """The assessment ran (and was saved) but its report could not be signed: exit 1."""


FINDINGS_ABOVE_LOW = 10  # the contract: 0 nothing above low, 10 otherwise
EPILOG = """score:
  node score = max(0, 100 - sum of penalties of its findings: critical 40, high 25,
  medium 10, low 3, info 0); site score = the lowest node score.

exit codes:
  0    assessed; nothing above low found (or --explain)
  1    assessed and saved, but the --report could not be signed (profile, passphrase)
  2    usage error: unknown check, bad targets or ports, unknown site
  10   assessed; at least one medium, high or critical finding
  130  interrupted

Checks are polite: one connection at a time per node (--interval apart), at most
--concurrency nodes at once, one login attempt with default credentials, no data changed
except the opt-in test image (--allow-store-test) and test HL7 message (--allow-hl7-test);
--allow-move-test asks to move one existing study to an unconfigured AE (refused here).
--explain lists exactly what each check sends."""


def register(subparsers) -> None:
    p = described_parser(
        subparsers, "assess", "security assessment of a site or subnet (non-destructive)",
        "Assess SITE (its address-book nodes and last sweep) or TARGETS (CIDR, ranges, "
        "addresses; swept first): DICOM access control, TLS, web/REST surfaces, HL7 and software "
        "age. Every finding has host, port, check, severity (info, low, medium, high, critical), "
        "evidence and remedy.", exit_codes_help=False, epilog=EPILOG)
    p.add_argument("targets", nargs="+", metavar="SITE|TARGETS")
    p.add_argument("--checks", metavar="LIST",
                   help="families (dicom, transport, web, hl7, software) or check names "
                        "(a name runs its whole family), comma separated; default all")
    p.add_argument("--allow-store-test", action="store_true",
                   help="test storage acceptance with ONE generated test image")
    p.add_argument("--allow-hl7-test", action="store_true",
                   help="send ONE test message (generated test patient) to HL7 listeners")
    p.add_argument("--allow-move-test", action="store_true",
                   help="ask to move ONE existing study to an unconfigured AE (this console "
                        "listens and refuses what comes; a node that resolves the title "
                        "elsewhere may send it there)")
    p.add_argument("--explain", action="store_true",
                   help="list what each check sends, and exit without sending anything")
    p.add_argument("--ports", metavar="LIST", help="DICOM ports to sweep (TARGETS)")
    p.add_argument("--web-ports", metavar="LIST", help="HTTP ports to sweep (TARGETS); 'none'")
    p.add_argument("--hl7-ports", metavar="LIST", help="HL7 MLLP ports (default 2575); 'none'")
    p.add_argument("--timeout", type=float, metavar="S", help="per connect and answer (3 s)")
    p.add_argument("--concurrency", type=int, metavar="N", help="nodes at once (default 8)")
    p.add_argument("--interval", type=float, metavar="S",
                   help="between two connections to one node (default 0.1 s)")
    add_allow_public(p)
    p.add_argument("--site", metavar="NAME",
                   help="with TARGETS: the site the assessment belongs to (history, incidents)")
    p.add_argument("--report", metavar="PDF",
                   help="write the signed security assessment report (signed like visit "
                        "reports) with the comparison against the previous assessment")
    p.add_argument("--incidents", action="store_true",
                   help="open an incident (category security) for each finding above low")
    p.add_argument("--no-save", action="store_true",
                   help="keep no history (the next assessment will not compare with this)")
    add_json(p)
    p.set_defaults(handler=run_guarded(run_assess))


def _number(value, low, high, name):
    if value is not None and not low <= value <= high:
        raise UsageProblem(f"{name} {value:g} is outside {low:g}-{high:g}")
    return value


def _ports(text: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    from pacs_console.core.discovery.targets import parse_ports

    if text is None:
        return default
    return () if text.strip().lower() == "none" else parse_ports(text)


def _options(args, ctx):
    from pacs_console.core.assess.catalog import parse_checks
    from pacs_console.core.assess.model import AssessOptions

    values = {"families": parse_checks(args.checks), "allow_store_test": args.allow_store_test,
              "allow_hl7_test": args.allow_hl7_test, "allow_move_test": args.allow_move_test,
              "calling_ae": ctx.settings.ae_title, "move_listen_port": ctx.settings.scp_port}
    for key, value in (("timeout", _number(args.timeout, 0.1, 60, "--timeout")),
                       ("concurrency", _number(args.concurrency, 1, 64, "--concurrency")),
                       ("interval", _number(args.interval, 0, 10, "--interval"))):
        if value is not None:
            values[key] = value
    return AssessOptions(**values)


def _scope(args, ctx):
    from pacs_console.core.assess.hl7_checks import DEFAULT_PORTS
    from pacs_console.core.assess.session import Scope

    return Scope(" ".join(args.targets), site=args.site or ctx.settings.default_site or "",
                 ports=None if args.ports is None else _ports(args.ports, ()),
                 web_ports=None if args.web_ports is None else _ports(args.web_ports, ()),
                 hl7_ports=_ports(args.hl7_ports, DEFAULT_PORTS), allow_public=args.allow_public)


def _line(f: dict) -> str:
    return (f"  {f['severity'].upper():8} {f['host']}:{f['port']}  {f['check']}: "
            f"{f['evidence']}\n           fix: {f['remedy']}")


def run_assess(args) -> int:
    from pacs_console.core.assess.catalog import FAMILIES, explain, parse_checks
    from pacs_console.core.assess.model import rank
    from pacs_console.core.assess.session import assess_and_save, summary
    from pacs_console.core.errors import ConsoleError

    try:
        families = parse_checks(args.checks)
    except ConsoleError as exc:
        raise UsageProblem(exc.diagnosis.what + f" ({exc.diagnosis.actions[0]})") from None
    if args.explain:
        if args.json:
            emit_json({"command": "assess", "explain": {f: s for f, s in FAMILIES.items()
                                                        if not families or f in families}})
        else:
            print(explain(families))
        return exit_codes.OK
    with opened_context(args) as ctx:
        try:
            options = _options(args, ctx)
            generator = assess_and_save(ctx.db, ctx.settings, ctx.paths.data, _scope(args, ctx),
                                        options, save=not args.no_save)
            while True:
                progress = next(generator)
                if progress.node is not None:
                    say(args, progress.message)
        except ConsoleError as exc:
            raise UsageProblem(exc.diagnosis.what) from None
        except StopIteration as stop:
            saved = stop.value
        data = saved.data
        try:
            extra = _afterwards(args, ctx, saved)
        except ReportNotSigned as exc:
            print(f"pacs-console assess: report not signed: {exc}", file=sys.stderr)
            return exit_codes.FAILED
    if args.json:
        emit_json({"command": "assess", **data, **extra})
    else:
        for node in data["nodes"]:
            say(args, f"{node['host']}  score {node['score']}")
            for f in sorted((f for f in data["findings"] if f["host"] == node["host"]),
                            key=lambda f: -rank(f["severity"])):
                say(args, _line(f))
        say(args, summary(data))
        comparison = extra.get("comparison")
        if comparison and comparison.get("previous"):
            say(args, f"Since {comparison['previous'][:19]}: {len(comparison['fixed'])} fixed, "
                      f"{len(comparison['new'])} new, {len(comparison['still_open'])} still open")
        if extra.get("report"):
            say(args, f"Signed report: {extra['report']}")
        if extra.get("incidents"):
            say(args, f"Incidents: {', '.join(str(i) for i in extra['incidents'])}")
    above_low = any(rank(f["severity"]) > rank("low") for f in data["findings"])
    return FINDINGS_ABOVE_LOW if above_low else exit_codes.OK


def _afterwards(args, ctx, saved) -> dict:
    """The comparison, the signed report, incidents: what the assessment leaves."""
    from pathlib import Path

    data, comparison, site = saved.data, saved.comparison, saved.site
    extra: dict = {"comparison": comparison}
    if saved.path is not None:
        extra["saved"] = str(saved.path)
    if args.report:
        from pacs_console.commands.reports import interactive_ask
        from pacs_console.core.assess.report import sign_with_profile
        from pacs_console.core.errors import ConsoleError

        profile = ctx.settings.profile
        try:
            pdf = sign_with_profile(ctx.paths.data, ctx.secrets, data, comparison,
                                    engineer=profile.name, organisation=profile.organisation,
                                    ask=interactive_ask())
        except ConsoleError as exc:
            raise ReportNotSigned(exc.diagnosis.what) from None
        target = Path(args.report)
        target.write_bytes(pdf)
        extra["report"] = str(target)
    if args.incidents:
        from pacs_console.core.assess.incidents import to_incident
        from pacs_console.core.assess.model import rank
        from pacs_console.core.db.sweeps import site_id_for
        from pacs_console.core.settings import actor

        known = site if site and site_id_for(ctx.db, site, create=False) else None
        extra["incidents"] = [
            to_incident(ctx.db, f, site=known, actor=actor(ctx.settings),
                        assessed_at=data["started_at"])[0].id
            for f in data["findings"] if rank(f["severity"]) > rank("low")]
    return extra
