"""`pacs-console site|visit|incident|incidents|audit`: the incident log from the command line."""

from __future__ import annotations

import argparse
import json
import sys

from pacs_console.commands.dimse_common import add_command
from pacs_console.commands.options import action_parsers

EXIT_OK, EXIT_FAILED, EXIT_TAMPERED, EXIT_UNKEYED = 0, 1, 3, 4
SEVERITY_CHOICES = ("critical", "high", "medium", "low")


def iso_time(text: str):
    """ISO 8601; without an offset it is the laptop's local time."""
    from datetime import datetime

    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from exc
    if not 1970 <= value.year <= 2100:
        raise argparse.ArgumentTypeError(f"{text!r} is outside the years 1970-2100")
    try:
        return value.astimezone() if value.tzinfo is None else value
    except (OverflowError, OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"{text!r} cannot be placed in time: {exc}") from exc


def actor_name(ctx) -> str:
    from pacs_console.core.settings import actor

    return actor(ctx.settings)


def _offset(ctx) -> float:
    return float(ctx.settings.extra.get("clock_offset_s", 0.0) or 0.0)


def emit(args, data, text: str) -> int:
    from pacs_console.core.terminal import clean

    # Stored text (titles, notes, names) is printed without its control and bidi characters.
    print(json.dumps(data, indent=2) if args.json else clean(text, keep_newlines=True))
    return EXIT_OK


def _filter_options(parser) -> None:
    parser.add_argument("--status", action="append", default=[], help="repeatable")
    parser.add_argument("--severity", action="append", default=[], choices=SEVERITY_CHOICES)
    parser.add_argument("--site", help="site name or id")
    parser.add_argument("--open", action="store_true", help="only incidents not resolved/closed")
    parser.add_argument("--search", default="", help="words in title, description or timeline")
    parser.add_argument("--from", dest="date_from", type=iso_time, help="reported at or after")
    parser.add_argument("--to", dest="date_to", type=iso_time, help="reported before")


def _filter(args, ctx):
    from pacs_console.core.incidents.queries import IncidentFilter
    from pacs_console.core.incidents.sites import get_site

    site_id = get_site(ctx.db, args.site).id if args.site else None
    return IncidentFilter(tuple(args.status), tuple(args.severity), site_id, args.date_from,
                          args.date_to, args.search, args.open)


# site ---------------------------------------------------------------------------------------

def _site_add(args, ctx) -> int:
    from pacs_console.core.incidents.sites import save_site

    hours = {}
    for item in args.hours:
        day, _, span = item.partition("=")
        hours[day.strip().lower()[:3]] = span.strip()
    site = save_site(ctx.db, args.name, actor=actor_name(ctx), region=args.region,
                     facility_type=args.facility_type, address=args.address,
                     contacts=args.contacts, timezone=args.timezone,
                     business_hours=hours or None, holiday_country=args.holiday_country,
                     closed_days=args.closed_day or None, notes=args.notes)
    return emit(args, site.to_dict(), f"Site {site.id}: {site.name} ({site.timezone}, "
                 f"holidays {site.holiday_country or 'none'})")


def _site_list(args, ctx) -> int:
    from pacs_console.core.incidents.sites import list_sites

    found = list_sites(ctx.db)
    lines = [f"{s.id:>4}  {s.name}  [{s.region or '-'}, {s.timezone}]" for s in found]
    return emit(args, [s.to_dict() for s in found], "\n".join(lines) or "No sites yet.")


# visit --------------------------------------------------------------------------------------

def _visit_line(v) -> str:
    end = f"{v.departed_at:%Y-%m-%d %H:%M}" if v.departed_at else "on site"
    return f"{v.id:>4}  {v.site_name}  {v.engineer}  {v.arrived_at:%Y-%m-%d %H:%M} -> {end}  {v.purpose}"


def _visit_start(args, ctx) -> int:
    from pacs_console.core.incidents.sites import start_visit

    visit = start_visit(ctx.db, args.site, engineer=args.engineer or actor_name(ctx),
                        purpose=args.purpose, arrived_at=args.at, actor=actor_name(ctx))
    return emit(args, visit.to_dict(), f"Visit {visit.id} started at {visit.site_name}")


def _visit_end(args, ctx) -> int:
    from pacs_console.core.incidents.sites import end_visit

    visit = end_visit(ctx.db, args.id, departed_at=args.at, notes=args.notes, actor=actor_name(ctx))
    return emit(args, visit.to_dict(), f"Visit {visit.id} ended: {_visit_line(visit)}")


def _visit_link(args, ctx) -> int:
    from pacs_console.core.incidents.service import link_visit, unlink_visit

    action = unlink_visit if args.visit_command == "unlink" else link_visit
    action(ctx.db, args.visit, args.incident, actor=actor_name(ctx))
    word = "unlinked from" if args.visit_command == "unlink" else "linked to"
    return emit(args, {"visit": args.visit, "incident": args.incident,
                        "linked": args.visit_command == "link"},
                 f"Incident {args.incident} {word} visit {args.visit}")


def _visit_list(args, ctx) -> int:
    from pacs_console.core.incidents.sites import list_visits

    found = list_visits(ctx.db, site=args.site, open_only=args.open)
    return emit(args, [v.to_dict() for v in found],
                 "\n".join(_visit_line(v) for v in found) or "No visits.")


# incident -----------------------------------------------------------------------------------

def _line(record, now) -> str:
    sla = record.sla(now)
    return (f"{record.id:>5}  {record.uuid[:8]}  {record.severity:<8} {record.status:<12} "
            f"{sla.state:<9} {sla.countdown():>10}  {record.site_name[:20]:<20}  {record.title}")


def _incident_new(args, ctx) -> int:
    from pacs_console.core.incidents.evidence import draft_from_test_run
    from pacs_console.core.incidents.service import create_incident

    title, category, nodes = args.title, args.category, list(args.node)
    description, run_id = args.description, None
    if args.from_test_run:
        draft = draft_from_test_run(ctx.db, args.from_test_run)
        title, category = title or draft.title, category or draft.category
        nodes = nodes or list(draft.nodes)
        description, run_id = description or draft.description, draft.test_run_id
    if not title:
        print("incident new: --title is required (or --from-test-run)", file=sys.stderr)
        return 2
    record = create_incident(ctx.db, title=title, severity=args.severity,
                             category=category or "other", description=description or "",
                             site=args.site, nodes=nodes, reporter=args.reporter,
                             contact=args.contact, reported_at=args.reported_at,
                             actor=actor_name(ctx), clock_offset_s=_offset(ctx), visit_id=args.visit,
                             test_run_id=run_id)
    return emit(args, record.to_dict(), f"Incident {record.id} ({record.uuid}) created; "
                 f"response due {record.response_due_at:%Y-%m-%d %H:%M} UTC")


def _incident_list(args, ctx) -> int:
    from datetime import UTC, datetime

    from pacs_console.core.incidents.queries import list_incidents

    now = datetime.now(UTC)
    found = list_incidents(ctx.db, _filter(args, ctx), sort=args.sort,
                           descending=not args.ascending, limit=args.limit)
    return emit(args, [r.to_dict(now) for r in found],
                 "\n".join(_line(r, now) for r in found) or "No incidents match.")


def _incident_show(args, ctx) -> int:
    from pacs_console.core.incidents.evidence import attachments
    from pacs_console.core.incidents.service import get_incident, timeline

    record = get_incident(ctx.db, args.ref)
    entries, files = timeline(ctx.db, record.id), attachments(ctx.db, record.id)
    data = {**record.to_dict(), "timeline": [e.to_dict() for e in entries],
            "attachments": [a.to_dict() for a in files]}
    sla = record.sla()
    lines = [f"Incident {record.id}  {record.uuid}", f"  {record.title}",
             f"  severity {record.severity}, category {record.category}, status {record.status}"
             + (f" ({record.hold_reason})" if record.hold_reason else ""),
             f"  site {record.site_name or '-'}; nodes "
             + (", ".join(label for _, label in record.nodes) or "-"),
             f"  reported {record.reported_at:%Y-%m-%d %H:%M} UTC; response due "
             f"{sla.due_at:%Y-%m-%d %H:%M} UTC: {sla.state} ({sla.countdown()})", "  timeline:"]
    lines += [f"    {e.at:%Y-%m-%d %H:%M} {e.kind:<10} {e.text}" for e in entries]
    return emit(args, data, "\n".join(lines))


def _incident_status(args, ctx) -> int:
    from pacs_console.core.incidents.service import set_status

    record = set_status(ctx.db, args.ref, args.status, actor=actor_name(ctx), note=args.note,
                        hold_reason=args.reason, at=args.at, clock_offset_s=_offset(ctx))
    return emit(args, record.to_dict(), f"Incident {record.id} is now {record.status}")


def _incident_note(args, ctx) -> int:
    from pacs_console.core.incidents.service import add_note

    entry = add_note(ctx.db, args.ref, args.text, actor=actor_name(ctx), clock_offset_s=_offset(ctx))
    return emit(args, entry.to_dict(), f"Note {entry.id} added")


def _incident_attach(args, ctx) -> int:
    from pathlib import Path

    from pacs_console.core.incidents.evidence import attach_file, attach_trace
    from pacs_console.core.incidents.service import attach_test_run
    from pacs_console.core.relay.evidence import NOTE, is_trace_or_capture

    done = []
    if args.test_run is not None or not args.files:
        entry = attach_test_run(ctx.db, args.ref, args.test_run or None, actor=actor_name(ctx),
                                clock_offset_s=_offset(ctx))
        done.append({"test_run_id": entry.test_run_id})
    for name in args.files:
        if is_trace_or_capture(Path(name)):  # patient data inside: the redacted timeline only
            item = attach_trace(ctx.db, ctx.paths.data / "attachments", args.ref, Path(name),
                                actor=actor_name(ctx))
            done.append({**item.to_dict(), "from": Path(name).name, "note": NOTE})
            continue
        item = attach_file(ctx.db, ctx.paths.data / "attachments", args.ref, Path(name),
                           actor=actor_name(ctx))
        done.append(item.to_dict())
    return emit(args, done, "\n".join(
        f"Attached {d.get('filename') or 'test run ' + str(d['test_run_id'])}"
        + (f" ({d['note']})" if d.get("note") else "") for d in done))


def _export(args, ctx) -> int:
    from pathlib import Path

    from pacs_console.core.incidents.queries import export_incidents

    text = export_incidents(ctx.db, args.format, _filter(args, ctx), actor=actor_name(ctx),
                            destination=args.output or "stdout")
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8", newline="")
        print(f"Exported to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


AUDIT_EXITS = f"""exit codes:
  {EXIT_OK}  the chain and every audited record check out
  {EXIT_FAILED}  the helpdesk (--helpdesk) could not be read: nothing was verified
  2  bad input (a --head that is not ENTRY:HASH)
  {EXIT_TAMPERED}  tampering found (entries edited, removed or rewritten, a handed-over head
     no longer in the chain, records changed outside the app)
  {EXIT_UNKEYED}  no tampering found, but the newest entries are unkeyed: written while the
     keyring was locked or absent, and no keyed entry covers them yet (the next change made
     with the keyring unlocked does)"""


def _head(text: str) -> dict:
    from pacs_console.core.incidents.audit import parse_head

    try:
        return parse_head(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _helpdesk_heads(ctx) -> list[tuple[str, dict]]:
    from pacs_console.core.errors import ConsoleError
    from pacs_console.core.models import drain
    from pacs_console.core.sync import helpdesk
    from pacs_console.core.sync.adapters.base import HelpdeskError
    from pacs_console.core.sync.tickets import handed_heads

    client = helpdesk.adapter(ctx)  # not configured: a diagnosis, exit 1
    try:
        return drain(handed_heads(ctx.db, client))
    except HelpdeskError as exc:  # unreachable, refused: nothing verified, one line, exit 1
        raise ConsoleError(exc.diagnosis) from None
    finally:
        client.close()


def _audit_verify(args, ctx) -> int:
    from pacs_console.core.incidents.audit import verify
    from pacs_console.core.reports.store import handed_over_heads

    handed = handed_over_heads(ctx.paths.data)
    handed += [(f"head given on the command line ({h['id']}:{h['hash'][:16]}…)", h)
               for h in args.head]
    if args.helpdesk:
        handed += _helpdesk_heads(ctx)
    report = verify(ctx.db, handed)
    title = {"ok": "OK", "unkeyed": "UNKEYED ENTRIES", "tampered": "TAMPERING FOUND"}
    lines = [f"{title[report.state]}: {report.entries} audit entries, "
             f"{report.checked_rows} records checked"]
    lines += [f"  [{p.kind}] {p.message}" for p in report.problems]
    lines += [f"  [unkeyed] {report.unkeyed_text()}"] if report.unkeyed else []
    lines += [f"  anchor checked: {anchor}" for anchor in report.anchors]
    emit(args, report.to_dict(), "\n".join(lines))
    return {"ok": EXIT_OK, "unkeyed": EXIT_UNKEYED, "tampered": EXIT_TAMPERED}[report.state]


def register(subparsers) -> None:
    sub = action_parsers(subparsers, "site", "sites and their business calendars")
    p = add_command(sub, "add", _site_add, "add a site or update the fields given")
    p.add_argument("name")
    for option in ("region", "facility-type", "address", "contacts", "timezone",
                   "holiday-country", "notes"):
        p.add_argument(f"--{option}")
    p.add_argument("--hours", action="append", default=[], metavar="DAY=HH:MM-HH:MM",
                   help="business hours for a weekday, e.g. sat=09:00-13:00 or sun= (closed)")
    p.add_argument("--closed-day", action="append", metavar="YYYY-MM-DD",
                   help="an extra day the site is closed (repeatable)")
    add_command(sub, "list", _site_list, "list sites")

    sub = action_parsers(subparsers, "visit", "site visits")
    p = add_command(sub, "start", _visit_start, "arrive at a site")
    p.add_argument("--site", required=True)
    p.add_argument("--engineer")
    p.add_argument("--purpose", default="")
    p.add_argument("--at", type=iso_time, help="arrival time (default now)")
    p = add_command(sub, "end", _visit_end, "leave: end the given visit or the open one")
    p.add_argument("id", nargs="?", type=int)
    p.add_argument("--at", type=iso_time)
    p.add_argument("--notes")
    p = add_command(sub, "list", _visit_list, "list visits")
    p.add_argument("--site")
    p.add_argument("--open", action="store_true")
    for action, text in (("link", "put an incident in a visit's report"),
                         ("unlink", "take an incident out of a visit's report (incidents at a "
                                    "site with an open visit are linked automatically)")):
        p = add_command(sub, action, _visit_link, text)
        p.add_argument("visit", type=int)
        p.add_argument("incident", help="incident id or UUID")

    sub = action_parsers(subparsers, "incident", "create, list, show and update incidents")
    p = add_command(sub, "new", _incident_new, "log a new incident")
    p.add_argument("--title")
    p.add_argument("--severity", required=True, type=str.lower, choices=SEVERITY_CHOICES)
    p.add_argument("--category", help="network, storage, viewer, modality, integration, "
                                      "hardware, security, other")
    p.add_argument("--site")
    p.add_argument("--node", action="append", default=[], help="address-book node (repeatable)")
    p.add_argument("--reported-at", type=iso_time)
    p.add_argument("--description", default="")
    p.add_argument("--reporter", default="")
    p.add_argument("--contact", default="")
    p.add_argument("--visit", type=int)
    p.add_argument("--from-test-run", metavar="RUN", help="pre-fill from a (failed) test run")
    p = add_command(sub, "list", _incident_list, "list incidents with their SLA state")
    _filter_options(p)
    p.add_argument("--sort", default="reported",
                   choices=("reported", "due", "severity", "status", "title", "site", "id"))
    p.add_argument("--ascending", action="store_true")
    p.add_argument("--limit", type=int)
    p = add_command(sub, "show", _incident_show, "one incident with its timeline")
    p.add_argument("ref", help="number, UUID or UUID prefix")
    p = add_command(sub, "set-status", _incident_status, "move an incident along the process")
    p.add_argument("ref")
    p.add_argument("status", help="acknowledged, analysing, planning, executing, verifying, "
                                  "resolved, closed, on_hold")
    p.add_argument("--reason", default="", help="why it is on hold")
    p.add_argument("--note", default="")
    p.add_argument("--at", type=iso_time)
    p = add_command(sub, "note", _incident_note, "add a note to the timeline")
    p.add_argument("ref")
    p.add_argument("text")
    p = add_command(sub, "attach", _incident_attach,
                    "attach files, or a test run (default: latest); a relay trace or pcap is "
                    "attached as its redacted decoded timeline, never the raw bytes")
    p.add_argument("ref")
    p.add_argument("files", nargs="*")
    p.add_argument("--test-run", type=int, nargs="?", const=0)

    sub = action_parsers(subparsers, "incidents", "bulk operations on incidents")
    p = add_command(sub, "export", _export, "export the (filtered) list as CSV or JSON",
             json_flag=False)
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--output", "-o", metavar="FILE")
    _filter_options(p)

    sub = action_parsers(subparsers, "audit", "the tamper-evident audit trail")
    p = add_command(sub, "verify", _audit_verify, "check the hash chain and every audited record; "
             f"exit {EXIT_TAMPERED} when tampering is found, {EXIT_UNKEYED} when entries are "
             "unkeyed (written while the keyring was locked)")
    p.epilog = AUDIT_EXITS
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--head", action="append", default=[], type=_head, metavar="ENTRY:HASH",
                   help="an audit head seen elsewhere (e.g. the 'Audit head: entry N HASH' "
                        "line of a helpdesk ticket): it must still be in the chain (repeatable)")
    p.add_argument("--helpdesk", action="store_true",
                   help="also check every head this laptop carried to the helpdesk (read back "
                        "from its tickets and comments)")
