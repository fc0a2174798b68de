"""`pacs-console node add|list|remove|import|export|resolve`: the address book from the command line."""

from __future__ import annotations

import json
import sys

from pacs_console.commands import exit_codes
from pacs_console.commands.argcheck import number_in
from pacs_console.commands.dimse_common import add_conflict_choice, with_context
from pacs_console.commands.options import action_parsers

EXPORT_FORMATS = ("csv", "json", "orthanc", "dcmqrscp")


def _say_error(args, message: str, code: int = exit_codes.USAGE) -> int:
    if getattr(args, "json", False):
        print(json.dumps({"ok": False, "error": message}))
    else:
        print(f"pacs-console node {args.node_command}: {message}", file=sys.stderr)
    return code


def _add(args, ctx) -> int:
    from pacs_console.core.addressbook import validate_node
    from pacs_console.core.db.nodes import DEMO_NODE_NAME, get_node, save_node
    from pacs_console.core.incidents.sites import get_site
    from pacs_console.core.terminal import clean

    errors, warnings = validate_node(args.name, args.ae, args.host, args.port,
                                     check_resolves=False)
    if errors:
        return _say_error(args, "; ".join(clean(e) for e in errors.values()))
    existing = get_node(ctx.db, args.name)
    if args.name == DEMO_NODE_NAME or (existing is not None and existing.name == args.name
                                       and existing.is_demo):
        return _say_error(args, f"{args.name!r} is the demo node; pick another name")
    if existing is not None and existing.name == args.name and not args.replace:
        return _say_error(args, f"a node called {args.name!r} exists ({existing.label}); "
                                "add --replace to change it")
    extra = {}
    if args.site:
        try:
            extra["site_id"] = get_site(ctx.db, args.site).id
        except Exception as exc:  # noqa: BLE001 - an unknown site is a usage problem
            diagnosis = getattr(exc, "diagnosis", None)
            return _say_error(args, diagnosis.what if diagnosis is not None else str(exc))
    tags = ",".join(t.strip() for t in (args.tags or "").split(",") if t.strip())
    node = save_node(ctx.db, args.name, args.ae, args.host, args.port, tags=tags, **extra)
    for warning in warnings.values():
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{'changed' if existing is not None and existing.name == args.name else 'added'} "
          f"{clean(node.name)} ({clean(node.label)})")
    return exit_codes.OK


def _list(args, ctx) -> int:
    from pacs_console.core.db.nodes import list_nodes
    from pacs_console.core.terminal import clean

    nodes = list_nodes(ctx.db)
    if args.json:
        print(json.dumps([{"name": n.name, "ae_title": n.ae_title, "host": n.host,
                           "port": n.port, "tags": n.tag_list, "site_id": n.site_id,
                           "demo": n.is_demo, "tls": n.tls} for n in nodes],
                         indent=2, ensure_ascii=False))
        return exit_codes.OK
    for n in nodes:
        print(f"{clean(n.name):<24} {clean(n.label):<40} {clean(n.tags)}"
              + ("  (demo)" if n.is_demo else ""))
    if not nodes:
        print("No nodes in the address book.")
    return exit_codes.OK


def _remove(args, ctx) -> int:
    from pacs_console.core.db.nodes import delete_node, list_nodes

    node = next((n for n in list_nodes(ctx.db) if n.name == args.name), None)
    if node is None:
        return _say_error(args, f"no node called {args.name!r}")
    if node.is_demo:
        return _say_error(args, "the demo node is managed by --demo; it is not removed")
    delete_node(ctx.db, node.id)
    print(f"removed {args.name}")
    return exit_codes.OK


def _import(args, ctx) -> int:
    from pacs_console.core.addressbook_import import import_file
    from pacs_console.core.terminal import clean

    report = import_file(ctx.db, args.file, args.format)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        for row in report.rows:
            print(f"{row.action:<9} {clean(row.where)}  {clean(row.name)}"
                  + (f"  {clean(row.detail)}" if row.detail else ""))
        print(clean(report.summary()), file=sys.stdout if report.applied else sys.stderr)
    return exit_codes.OK if report.applied else exit_codes.USAGE


def _export(args, ctx) -> int:
    from pathlib import Path

    from pacs_console.core.addressbook import export_nodes
    from pacs_console.core.db.nodes import list_nodes

    nodes = [n for n in list_nodes(ctx.db) if not n.is_demo]
    text = export_nodes(nodes, args.format)
    try:
        Path(args.file).write_text(text, encoding="utf-8")
    except OSError as exc:
        return _say_error(args, f"cannot write {args.file}: {exc.strerror or exc}",
                          exit_codes.FAILED)
    print(f"exported {len(nodes)} nodes to {args.file} ({args.format})")
    return exit_codes.OK


def _resolve(args, ctx) -> int:
    from pacs_console.core.db.nodes import get_node
    from pacs_console.core.sync.inventory_conflicts import NoNodeConflict, resolve
    from pacs_console.core.terminal import clean

    node = get_node(ctx.db, args.name)
    if node is None:
        return _say_error(args, f"no node called {args.name!r}")
    choice = "mine" if args.keep_mine else "theirs"
    try:
        done = resolve(ctx.db, node.id, choice)
    except NoNodeConflict as exc:
        return _say_error(args, str(exc))
    text = (f"{clean(done.name)}: your version ({clean(done.label)}) is kept and goes to the "
            "helpdesk at the next sync" if choice == "mine" else
            f"{clean(done.name)}: the helpdesk's version ({clean(done.label)}) replaced yours")
    if args.json:
        print(json.dumps({"ok": True, "node": done.name, "kept": choice, "ae_title":
                          done.ae_title, "host": done.host, "port": done.port}))
    else:
        print(text)
    return exit_codes.OK


_port = number_in(int, 1, 65535, "{text!r} is not a port number", "port {value} is outside 1-65535")


def register(subparsers) -> None:
    sub = action_parsers(subparsers, "node",
                         "the address book: add, list, remove, import, export, resolve",
                         description="The address book from the command line (the demo "
                                     "PACS learns move destinations from it).")
    p = sub.add_parser("add", help="add a node (or change it with --replace)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--ae", required=True, help="the node's AE title")
    p.add_argument("--host", required=True, help="IP address or host name")
    p.add_argument("--port", required=True, type=_port)
    p.add_argument("--site", help="site name or id")
    p.add_argument("--tags", help="comma-separated, e.g. pacs,archive")
    p.add_argument("--replace", action="store_true", help="change a node of that name")
    p.set_defaults(handler=with_context(_add))
    p = sub.add_parser("list", help="list the nodes")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(handler=with_context(_list))
    p = sub.add_parser("remove", help="remove a node by name")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(handler=with_context(_remove))
    p = sub.add_parser("import", help="import CSV, JSON, Orthanc or dcmqrscp.cfg (all or nothing)",
                       description="Every entry is validated and reported as taken, changed, "
                                   "unchanged or refused. When any entry is refused nothing is "
                                   "imported (exit 2). The demo node is never replaced.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", choices=("csv", "json", "orthanc", "dcmqrscp"),
                   help="default: detected from the name and content")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(handler=with_context(_import))
    p = sub.add_parser("export", help="write the address book (without the demo node)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    p.set_defaults(handler=with_context(_export))

    p = sub.add_parser("resolve", help="answer a node changed here and on the helpdesk",
                       description="A site node changed on this laptop and on the helpdesk "
                                   "since they last agreed: keep yours (sent at the next sync) "
                                   "or take the helpdesk's.")
    p.add_argument("name", metavar="NAME")
    add_conflict_choice(p)
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(handler=with_context(_resolve))
