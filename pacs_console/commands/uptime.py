"""`pacs-console maintenance|uptime`: scheduled downtime, and node uptime against 99.9%."""

from __future__ import annotations

from pacs_console.commands.dimse_common import add_command, with_context
from pacs_console.commands.incidents import actor_name, emit, iso_time
from pacs_console.commands.options import action_parsers

DEFAULT_PERIOD_DAYS = 7


def _node_id(ctx, ref: str | None) -> int | None:
    from pacs_console.core.db.nodes import get_node
    from pacs_console.core.incidents.model import invalid

    if ref is None:
        return None
    node = get_node(ctx.db, ref)
    if node is None:
        raise invalid("node-unknown", f"No node {ref!r} in the address book",
                      "Use its name, AE title or id (see the Tests panel)", node=str(ref))
    return node.id


def _window_line(w) -> str:
    return (f"{w.id:>4}  {w.starts_at:%Y-%m-%d %H:%M} -> {w.ends_at:%Y-%m-%d %H:%M} UTC  "
            f"{w.scope}  {w.reason}")


def _maintenance_add(args, ctx) -> int:
    from pacs_console.core.incidents.sites import add_maintenance_window, list_maintenance

    window_id = add_maintenance_window(ctx.db, starts_at=args.start, ends_at=args.end,
                                       node_id=_node_id(ctx, args.node), site=args.site,
                                       reason=args.reason, actor=actor_name(ctx))
    window = next(w for w in list_maintenance(ctx.db) if w.id == window_id)
    return emit(args, window.to_dict(), f"Maintenance window {window_id} added: "
                 + _window_line(window).strip())


def _maintenance_list(args, ctx) -> int:
    from pacs_console.core.incidents.sites import list_maintenance

    found = list_maintenance(ctx.db, site=args.site, node_id=_node_id(ctx, args.node))
    return emit(args, [w.to_dict() for w in found],
                 "\n".join(_window_line(w) for w in found) or "No maintenance windows.")


def _maintenance_delete(args, ctx) -> int:
    from pacs_console.core.incidents.sites import delete_maintenance_window

    delete_maintenance_window(ctx.db, args.id, actor=actor_name(ctx))
    return emit(args, {"ok": True, "deleted": args.id},
                 f"Maintenance window {args.id} deleted")


def _uptime_line(item) -> str:
    """The figure with its verdict and what it was computed from, or "not enough data"."""
    from pacs_console.core.incidents.uptime import duration_text

    u = item.uptime
    return (f"{item.name[:28]:<28} {u.summary()}; down {duration_text(u.down)}, "
            f"maintenance {duration_text(u.maintenance)}")


def _uptime(args, ctx) -> int:
    from datetime import UTC, datetime, timedelta

    from pacs_console.core.incidents.uptime import (
        MIN_MONITORED,
        MIN_SAMPLES,
        UPTIME_TARGET,
        uptime_report,
    )

    until = args.until or datetime.now(UTC)
    since = args.since or until - timedelta(days=DEFAULT_PERIOD_DAYS)
    report = uptime_report(ctx.db, since, until, node=args.node, site=args.site)
    data = {"since": since.astimezone(UTC).isoformat(), "until": until.astimezone(UTC).isoformat(),
            "target": UPTIME_TARGET, "nodes": [item.to_dict() for item in report]}
    lines = [f"Uptime {since.astimezone(UTC):%Y-%m-%d %H:%M} -> {until.astimezone(UTC):%Y-%m-%d %H:%M}"
             f" UTC, target {UPTIME_TARGET * 100:g}% (a figure needs {MIN_SAMPLES}+ echo samples "
             f"covering {MIN_MONITORED * 100:g}%+ of the time outside maintenance)"]
    lines += [_uptime_line(item) for item in report] or ["No nodes match."]
    return emit(args, data, "\n".join(lines))


def register(subparsers) -> None:
    sub = action_parsers(subparsers, "maintenance",
                         "scheduled maintenance windows (excluded from uptime)")
    p = add_command(sub, "add", _maintenance_add, "enter a maintenance window for a site or one node")
    p.add_argument("--site", required=True, help="site name or id")
    p.add_argument("--node", help="only this node (name, AE title or id); default: whole site")
    p.add_argument("--start", required=True, type=iso_time, help="ISO 8601 (local time if no offset)")
    p.add_argument("--end", required=True, type=iso_time)
    p.add_argument("--reason", required=True)
    p = add_command(sub, "list", _maintenance_list, "list maintenance windows, newest first")
    p.add_argument("--site")
    p.add_argument("--node")
    p = add_command(sub, "delete", _maintenance_delete, "delete a maintenance window")
    p.add_argument("id", type=int)

    p = subparsers.add_parser("uptime", help="node uptime from echo history against 99.9%%",
                              description="Node uptime from the saved echo runs against the "
                              "99.9% target, excluding maintenance windows. Default period: the "
                              f"last {DEFAULT_PERIOD_DAYS} days.")
    p.set_defaults(handler=with_context(_uptime))
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.add_argument("--node", help="one node (name, AE title or id)")
    p.add_argument("--site", help="the nodes at this site")
    p.add_argument("--since", type=iso_time, help="period start, ISO 8601")
    p.add_argument("--until", type=iso_time, help="period end, ISO 8601 (default now)")
