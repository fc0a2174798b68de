"""`pacs-console scan` and `inventory`: sweep subnets for DICOM nodes; what changed at a site."""

from __future__ import annotations

from pacs_console.commands import exit_codes
from pacs_console.commands.dimse_common import (
    UsageProblem,
    emit_json,
    opened_context,
    run_guarded,
    say,
)
from pacs_console.commands.options import add_allow_public, add_json, described_parser


def register(subparsers) -> None:
    scan = described_parser(
        subparsers, "scan", "find DICOM nodes and DICOMweb servers on a subnet",
        "Sweep TARGETS (CIDR 192.168.1.0/24, ranges 10.0.0.5-40, addresses or host names; at "
        "most a /16) for DICOM and DICOMweb services, classify each open port, fingerprint the "
        "vendor and save the sweep to the site inventory. Example: pacs-console scan "
        "192.168.10.0/24 --guess-ae --site 'Korle Bu'", exit_codes_help=False)
    scan.add_argument("targets", nargs="+", metavar="TARGETS")
    scan.add_argument("--ports", metavar="LIST",
                      help="DICOM ports (default 104,11112,4242,2761,2762,2345)")
    scan.add_argument("--add-ports", metavar="LIST", help="extra DICOM ports, added to --ports")
    scan.add_argument("--web-ports", metavar="LIST",
                      help="HTTP ports checked for DICOMweb (default 8042,8080,80,443; "
                           "'none' to skip)")
    scan.add_argument("--rate", type=float, metavar="N",
                      help="connection attempts per second (default from settings: 200)")
    scan.add_argument("--concurrency", type=int, metavar="N",
                      help="connection attempts in flight (default from settings: 64)")
    scan.add_argument("--timeout", type=float, metavar="S",
                      help="per connect and per answer (default from settings: 1.5 s)")
    scan.add_argument("--guess-ae", action="store_true",
                      help="on nodes that check the called AE title, try common titles and "
                           "those of the site, politely, one at a time")
    scan.add_argument("--dns-sd", action="store_true",
                      help="also browse DNS-SD (_dicom._tcp, _dicom-tls._tcp, _dicomweb._tcp)")
    add_allow_public(scan)
    scan.add_argument("--site", metavar="SITE",
                      help="save the sweep to this site's inventory (default: settings' "
                           "default site; created when new)")
    scan.add_argument("--no-save", action="store_true", help="do not save the sweep")
    add_json(scan)
    scan.set_defaults(handler=run_guarded(run_scan))

    inventory = subparsers.add_parser(
        "inventory", help="a site's last sweep against the one before", allow_abbrev=False,
        description="Show what changed between the last two sweeps of SITE: new nodes, nodes "
                    "gone, ports closed, AE titles and implementation versions changed, "
                    "DICOMweb appeared; then what changed since the last visit (the last "
                    "sweep against the one made by the end of the previous visit).")
    inventory.add_argument("site", metavar="SITE")
    push = inventory.add_argument_group("push to the helpdesk (issue 21)")
    for flag, what, extra in (
            ("--push", "push the diff to the helpdesk: the changed site nodes' assets updated "
                       "through the outbox (goes at the next sync)", {"action": "store_true"}),
            ("--visit", "with --push: link the visit's ticket to each updated asset and "
                        "comment the diff on it", {"type": int, "metavar": "ID"}),
            ("--sync", "with --push: sync now and say whether it was delivered",
             {"action": "store_true"})):
        push.add_argument(flag, help=what, **extra)
    add_json(inventory)
    inventory.set_defaults(handler=run_guarded(run_inventory))


def _options(args, ctx):
    from pacs_console.core.discovery.models import SweepOptions
    from pacs_console.core.discovery.targets import DICOM_PORTS, WEB_PORTS, parse_ports

    ports = parse_ports(args.ports) if args.ports else DICOM_PORTS
    if args.add_ports:
        ports = tuple(sorted({*ports, *parse_ports(args.add_ports)}))
    web = WEB_PORTS
    if args.web_ports:
        web = () if args.web_ports.strip().lower() == "none" else parse_ports(args.web_ports)
    for value, low, high, name in ((args.rate, 1, 5000, "--rate"),
                                   (args.concurrency, 1, 512, "--concurrency"),
                                   (args.timeout, 0.1, 30, "--timeout")):
        if value is not None and not low <= value <= high:
            return None, f"{name} {value:g} is outside {low:g}-{high:g}"
    return SweepOptions.from_settings(ctx.settings, ports=ports, web_ports=web,
                                      guess_ae=args.guess_ae, dns_sd=args.dns_sd,
                                      rate=args.rate, concurrency=args.concurrency,
                                      timeout=args.timeout), ""


def line(f) -> str:
    """One finding as a line of text (also used by the panel's copy)."""
    ae = f"AE {f.ae_title} ({f.ae_source}" + (f", {f.guesses} tried)" if f.guesses else ")") \
        if f.ae_title else ""
    what = " ".join(filter(None, [f.product if f.product != "unknown" else "", f.version]))
    impl = f.implementation_version_name or ""
    parts = [f"{f.host}:{f.port}".ljust(21), f.verdict.ljust(16), ae, what, impl,
             f.dicomweb_url, f"{f.latency_ms:.1f} ms"]
    text = "  ".join(p for p in parts if p)
    return text + ("  INSECURE: accepts any called AE" if f.insecure else "")


def run_scan(args) -> int:
    from pacs_console.core.discovery.session import sweep_and_save
    from pacs_console.core.discovery.targets import parse_targets
    from pacs_console.core.errors import ConsoleError

    with opened_context(args) as ctx:
        try:
            targets = parse_targets(" ".join(args.targets), allow_public=args.allow_public)
            options, problem = _options(args, ctx)
        except ConsoleError as exc:
            raise UsageProblem(exc.diagnosis.text()) from None
        if options is None:
            raise UsageProblem(problem)
        site = args.site or ctx.settings.default_site or None
        say(args, f"Sweeping {len(targets):,} hosts x {len(options.ports) + len(options.web_ports)}"
                  f" ports at up to {options.rate:g}/s ...")
        generator = sweep_and_save(ctx.db, targets, options, site=site,
                                   engineer=ctx.settings.profile.name, save=not args.no_save)
        try:
            while True:
                progress = next(generator)
                for finding in progress.findings:
                    say(args, line(finding))
                for item in progress.announcements:
                    say(args, f"DNS-SD {item.service_type} {item.instance!r} at "
                              f"{item.host}:{item.port}" + (f" AET={item.ae_title}" if item.ae_title else ""))
        except StopIteration as stop:
            saved = stop.value
        finally:
            generator.close()
        result, changes = saved.result, saved.diff
        dicom = [f for f in result.findings if f.is_dicom]
        summary = (f"{len(result.findings)} open ports, {len(dicom)} DICOM "
                   f"({sum(f.insecure for f in dicom)} accept any AE), "
                   f"{sum(f.verdict == 'dicomweb' for f in result.findings)} DICOMweb; "
                   f"{result.attempts:,} attempts in {result.duration_s:.2f} s")
        if args.json:
            visit = saved.since_visit
            emit_json({"command": "scan", **result.to_dict(), "sweep_id": saved.sweep_id,
                       "site": site, "inventory_diff": changes.to_dict() if changes else None,
                       "since_last_visit": visit.to_dict() if visit else None})
        else:
            say(args, summary + (f"; saved as sweep {saved.sweep_id}" if saved.sweep_id else ""))
            if changes is not None:
                say(args, "Since the previous sweep of this site:\n" + changes.text())
            if saved.since_visit is not None:
                say(args, _since_visit_text(saved.since_visit, ""))
        return exit_codes.OK


def _since_visit_text(changes, why: str) -> str:
    from pacs_console.core.db.sweeps import visit_heading

    return f"{visit_heading(changes)}:\n{changes.text()}" if changes else why


def run_inventory(args) -> int:
    from pacs_console.core.db.sweeps import (
        list_sweeps,
        since_last_visit,
        site_id_for,
        site_inventory_diff,
    )

    if (args.visit is not None or args.sync) and not args.push:
        raise UsageProblem("--visit and --sync go with --push")
    if args.push:
        return _push(args)
    with opened_context(args) as ctx:
        site_id = site_id_for(ctx.db, args.site, create=False)
        if site_id is None:
            raise UsageProblem(f"no site {args.site!r}")
        sweeps = list_sweeps(ctx.db, site_id, limit=10)
        changes = site_inventory_diff(ctx.db, site_id)
        visit, why = since_last_visit(ctx.db, site_id)
        if args.json:
            emit_json({"command": "inventory", "site": args.site,
                       "sweeps": [{"id": s.id, "started_at": s.started_at.isoformat(),
                                   "targets": s.targets, "findings": s.finding_count}
                                  for s in sweeps],
                       "diff": changes.to_dict() if changes else None,
                       "since_last_visit": visit.to_dict() if visit else None,
                       "since_last_visit_why": why})
            return exit_codes.OK
        for s in sweeps:
            say(args, f"sweep {s.id}  {s.started_at:%Y-%m-%d %H:%M} UTC  {s.targets}  "
                      f"{s.finding_count} open ports")
        if changes is None:
            say(args, "Fewer than two sweeps: nothing to compare yet.")
        else:
            say(args, changes.text())
        say(args, _since_visit_text(visit, why))
        return exit_codes.OK


def _push(args) -> int:
    from pacs_console.core.errors import ConsoleError
    from pacs_console.core.sync.inventory_push import push_to_helpdesk

    with opened_context(args) as ctx:
        try:
            generator = push_to_helpdesk(ctx, args.site, visit_id=args.visit, sync=args.sync)
            while True:
                say(args, next(generator).message)
        except StopIteration as stop:
            outcome = stop.value
        except ConsoleError as exc:  # bad site, no sweep, a visit without a ticket: one line
            what = exc.diagnosis
            raise UsageProblem(f"{what.what} ({'; '.join(what.actions)})") from None
        if args.json:
            emit_json({"command": "inventory", "push": outcome})
        else:
            say(args, outcome["message"])
        # asked to sync and not delivered: not a success, though the items wait in the outbox
        return exit_codes.FAILED if args.sync and outcome["state"] == "queued" else exit_codes.OK
