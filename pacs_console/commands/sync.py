"""`pacs-console sync` and `pacs-console helpdesk set|test|show`: helpdesk sync headless."""

from __future__ import annotations

import argparse
import json
import sys

from pacs_console.commands.dimse_common import with_context

EXIT_OK, EXIT_FAILED = 0, 1


def register(subparsers) -> None:
    sync = subparsers.add_parser(
        "sync", help="send the outbox to the helpdesk and pull status and replies back",
        description="Send every pending incident change to the helpdesk (exactly once, in "
                    "order per incident), then bring status changes and replies back.")
    sync.add_argument("--dry-run", action="store_true", help="list what would be sent, send nothing")
    sync.add_argument("--json", action="store_true", help="one JSON document on stdout")
    sync.add_argument("--retry-failed", action="store_true",
                      help="put items that failed permanently back in the queue first")
    sync.add_argument("--wait", type=float, default=0.0, metavar="S",
                      help="keep retrying transient failures for up to S seconds")
    sync.set_defaults(handler=with_context(_sync))

    helpdesk = subparsers.add_parser("helpdesk", help="set up and test the helpdesk connection")
    sub = helpdesk.add_subparsers(dest="helpdesk_command", required=True)
    setup = sub.add_parser(
        "set", help="store URL, queue and user; the API token goes to the OS keyring",
        description="The token is read from standard input (one line) or from "
                    "PACS_CONSOLE_HELPDESK_TOKEN, and stored in the OS keyring only.")
    setup.add_argument("--kind", default="rt", choices=("rt",))
    setup.add_argument("--url", required=True, help="e.g. https://helpdesk.example.org")
    setup.add_argument("--queue", required=True)
    setup.add_argument("--user", required=True, help="the API user the token belongs to")
    setup.add_argument("--key-field", default="IdempotencyKey",
                       help="ticket custom field holding the sync key")
    setup.add_argument("--time-field", default="DeviceTime",
                       help="ticket custom field for the original device time ('' for none)")
    setup.add_argument("--json", action="store_true")
    setup.set_defaults(handler=with_context(_set))
    test = sub.add_parser("test", help="check credentials, queue and custom fields")
    test.add_argument("--json", action="store_true")
    test.set_defaults(handler=with_context(_test))
    show = sub.add_parser("show", help="the settings and whether a token is stored")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=with_context(_show))


def _sync(args: argparse.Namespace, ctx) -> int:
    from pacs_console.core.sync import helpdesk, outbox

    if args.retry_failed:
        outbox.retry_all_failed(ctx.db)
    generator = helpdesk.sync_once(ctx, dry_run=args.dry_run, wait_s=args.wait)
    while True:
        try:
            progress = next(generator)
        except StopIteration as stop:
            result = stop.value
            break
        if not args.json and args.verbose:
            print(progress.message, file=sys.stderr)
    counts = outbox.counts(ctx.db)
    left = outbox.undelivered(ctx.db)
    failures = result.drain.failures if result.drain else []
    # Success means everything is at the helpdesk: nothing pending, in flight or failed.
    ok = not failures and not (result.pull and result.pull.errors) and not left["count"]
    ok = ok and result.articles_ok and result.inventory_ok  # articles and site assets too
    if args.json:
        print(json.dumps({"ok": ok, **result.to_dict(), "counts": counts, "undelivered": left},
                         indent=2, default=str))
        return EXIT_OK if ok else EXIT_FAILED
    if args.dry_run:
        print(f"Would send {len(result.dry_run)} item(s) now; {counts['pending']} pending, "
              f"{counts['in_flight']} in flight, {counts['failed']} failed in total")
        for item in result.dry_run:
            flag = (" (blocked: failed, needs Retry)" if item["blocked"] else
                    " (in flight under another sync)" if item["state"] == "in_flight" else "")
            print(f"  #{item['id']} {item['kind']:<7} incident {item['incident_uuid'][:8]} "
                  f"{item['summary'][:60]}{flag}")
        _say_undelivered(left)
        _say_articles_left(result.articles_left)
        return EXIT_OK if ok else EXIT_FAILED
    drained = result.drain
    print(f"Delivered {drained.delivered}, deferred {drained.deferred} (retried later), "
          f"failed {drained.failed}; {counts['pending']} pending, {counts['in_flight']} in "
          f"flight, {counts['failed']} failed, {counts['done']} done")
    if result.pull:
        print(f"Pulled back {result.pull.events} change(s) from {result.pull.tickets} ticket(s), "
              f"{result.pull.conflicts} conflict(s) to review")
    _say_part(result.articles_note, result.articles, "article",
              lambda shared: f"Articles: sent {shared.sent}, received {shared.received}, "
                             f"{shared.conflicts} conflict(s) to review")
    _say_part(result.inventory_note, result.inventory, "asset",
              lambda found: f"Site inventory: {found.queued} node(s) queued, {found.received} "
                            f"new and {found.updated} changed from the helpdesk, "
                            f"{found.open_conflicts} conflict(s)")
    if result.timestamped:
        print(f"Timestamped {result.timestamped} report(s) signed offline")
    if result.timestamp_problem:
        print(f"Reports not timestamped yet: {result.timestamp_problem}", file=sys.stderr)
    for failure in failures[:10]:
        print(f"  item #{failure['item']}: {failure['what']}", file=sys.stderr)
        for action in failure.get("actions", []):
            print(f"    What to try: {action}", file=sys.stderr)
    _say_undelivered(left)
    _say_articles_left(result.articles_left)
    return EXIT_OK if ok else EXIT_FAILED


def _say_part(note: str, part, kind: str, line) -> None:
    """A part of the sync beside the outbox (articles, site assets): why it did not run, or
    ``line(part)`` and its first errors, each named ``kind``."""
    if note:
        print(note, file=sys.stderr)
    if part is None:
        return
    print(line(part))
    for error in part.errors[:10]:
        print(f"  {kind}: {error.get('what', error)}", file=sys.stderr)


def _say_articles_left(left: dict) -> None:
    if left.get("articles_pending"):
        print(f"{left['articles_pending']} article(s) not sent yet", file=sys.stderr)
    if left.get("articles_conflict"):
        print(f"{left['articles_conflict']} article(s) changed on both sides: resolve with "
              "`pacs-console kb resolve ID --keep-mine|--take-theirs`", file=sys.stderr)


def _say_undelivered(left: dict) -> None:
    if left["count"]:
        noun = "item" if left["count"] == 1 else "items"
        print(f"{left['count']} {noun} not delivered ({left['why']})", file=sys.stderr)


def _read_token() -> str:
    import os

    from pacs_console.core.sync.helpdesk import TOKEN_ENV

    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV].strip()
    from pacs_console.commands.prompt import ask_secret

    return ask_secret("Helpdesk API token: ", what="helpdesk API token",
                      hint=f"pipe it on standard input or set {TOKEN_ENV}").strip()


def _set(args: argparse.Namespace, ctx) -> int:
    from pacs_console.core.errors import ConsoleError, Diagnosis
    from pacs_console.core.sync import helpdesk
    from pacs_console.core.sync.adapters.base import HelpdeskConfig

    secret = _read_token()
    if not secret:
        raise ConsoleError(Diagnosis("helpdesk-no-token", "No API token was given", (),
                                     ("Pipe it on standard input or set "
                                      f"{helpdesk.TOKEN_ENV}",)))
    config = HelpdeskConfig(kind=args.kind, url=args.url.rstrip("/"), queue=args.queue,
                            user=args.user, key_field=args.key_field, time_field=args.time_field)
    persistent = helpdesk.save_config(ctx, config, secret)
    if not persistent:
        # The settings are saved; the token is not: say so and fail, a script must notice.
        from pacs_console.core.secrets import not_stored

        raise not_stored("The helpdesk token", ctx.secrets.status, helpdesk.TOKEN_ENV)
    if args.json:
        print(json.dumps({"ok": True, "config": config.to_dict(), "token_persistent": persistent}))
    else:
        print(f"Helpdesk {config.label}, queue {config.queue!r}, user {config.user!r}: "
              "token stored in the OS keyring")
    return EXIT_OK


def _test(args: argparse.Namespace, ctx) -> int:
    from pacs_console.core.sync import helpdesk

    client = helpdesk.adapter(ctx)
    try:
        report = client.check()
    finally:
        client.close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for check in report.checks:
            print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
        if report.diagnosis:
            print(report.diagnosis.text(), file=sys.stderr)
        else:
            print(f"Helpdesk ready ({report.elapsed_ms:.0f} ms)")
    return EXIT_OK if report.ok else EXIT_FAILED


def _show(args: argparse.Namespace, ctx) -> int:
    from pacs_console.core.sync import helpdesk, outbox

    config = helpdesk.load_config(ctx)
    data = {"config": config.to_dict(), "configured": config.configured,
            "token_stored": helpdesk.token_stored(ctx), "keyring": ctx.secrets.status.name,
            "outbox": outbox.counts(ctx.db)}
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(f"Helpdesk: {config.label if config.configured else 'not configured'}; queue "
              f"{config.queue!r}; user {config.user!r}; token "
              f"{'stored' if data['token_stored'] else 'not stored'}")
        print("Outbox: " + ", ".join(f"{k} {v}" for k, v in data["outbox"].items()))
    return EXIT_OK
