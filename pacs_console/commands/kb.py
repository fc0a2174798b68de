"""`pacs-console kb new|search|show|suggest|from-incident`: the knowledge base from the command line."""

from __future__ import annotations

import json
import sys

from pacs_console.commands import exit_codes
from pacs_console.commands.dimse_common import add_command, add_conflict_choice
from pacs_console.commands.options import action_parsers


def _guarded(handler):
    """Bad input (an empty title, a malformed code, an unknown article) is one line, exit 2."""
    def run(args, ctx) -> int:
        from pacs_console.core.kb.model import ArticleProblem
        from pacs_console.core.kb.store import ArticleNotFound
        from pacs_console.core.sync.articles import NoConflict

        try:
            return handler(args, ctx)
        except (ArticleProblem, ArticleNotFound, NoConflict) as exc:
            print(f"pacs-console kb {args.kb_command}: {exc}",
                  file=sys.stderr)
            return exit_codes.USAGE
    return run


def _add(sub, name: str, handler, help_text: str):
    return add_command(sub, name, _guarded(handler), help_text)


def _emit(args, data, text: str) -> int:
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else text)
    return exit_codes.OK


def _author(ctx) -> str:
    from pacs_console.core.settings import actor

    return actor(ctx.settings)


def _new(args, ctx) -> int:
    from pacs_console.core.kb.model import Article
    from pacs_console.core.kb.store import create_article

    article = create_article(ctx.db, Article(
        title=args.title, body=args.body, symptoms=args.symptoms, cause=args.cause, fix=args.fix,
        codes=tuple(args.code), vendor=args.vendor, model=args.model,
        attachments=tuple(args.attachment), author=_author(ctx), site=args.site))
    return _emit(args, article.to_dict(), f"Article {article.id} ({article.uuid}) saved")


def _search(args, ctx) -> int:
    from pacs_console.core.kb.store import search

    hits = search(ctx.db, args.text, limit=args.limit)
    lines = [f"{h.article.id:>6}  {h.article.title}  [{', '.join(h.article.codes) or '-'}]"
             f"\n        {h.snippet}" for h in hits]
    return _emit(args, [h.to_dict() for h in hits], "\n".join(lines) or "No articles match.")


def _show(args, ctx) -> int:
    from pacs_console.core.kb.store import get_article
    from pacs_console.core.sync.articles import conflict_copy, describe

    article = get_article(ctx.db, args.id)
    return _emit(args, {**article.to_dict(), "helpdesk_version": conflict_copy(ctx.db, article.id)},
                 describe(ctx.db, article))


def _resolve(args, ctx) -> int:
    from pacs_console.core.kb.store import get_article
    from pacs_console.core.sync.articles import resolve

    article = get_article(ctx.db, args.id)
    done = resolve(ctx.db, article.id, "mine" if args.keep_mine else "theirs")
    text = (f"Article {done.id}: your version is kept and goes to the helpdesk at the next sync"
            if args.keep_mine else
            f"Article {done.id}: the helpdesk's version replaced yours here")
    return _emit(args, done.to_dict(), text)


def _attach(args, ctx) -> int:
    from pathlib import Path

    from pacs_console.core.kb.files import attach

    article = attach(ctx.db, ctx.paths.data / "kb-files", args.id, Path(args.file),
                     confirm_no_phi=args.confirm_no_phi)
    return _emit(args, article.to_dict(), f"Article {article.id}: {Path(args.file).name} "
                 "attached (it goes to the helpdesk at the next sync)")


def _suggest(args, ctx) -> int:
    from pacs_console.core.kb.model import normalise_code
    from pacs_console.core.kb.store import suggest

    codes = [normalise_code(c) for c in args.code]  # a malformed code is bad input here
    found = suggest(ctx.db, codes, args.vendor, limit=args.limit)
    lines = [f"{s.article.id:>6}  {s.article.title}  ({s.where_and_when()})" for s in found]
    return _emit(args, [s.to_dict() for s in found],
                 "\n".join(lines) or "No known fixes for " + ", ".join(codes) + ".")


def _from_incident(args, ctx) -> int:
    from pacs_console.core.kb.draft import save_from_incident

    article = save_from_incident(ctx.db, args.incident, author=_author(ctx), title=args.title,
                                 cause=args.cause, fix=args.fix)
    return _emit(args, article.to_dict(), f"Article {article.id} ({article.uuid}) saved from "
                 f"incident {args.incident}: {article.title}")


def share_articles(ctx, article_class: str = "PACS Field"):
    """Articles both ways with the configured helpdesk; raises ConsoleError when none is."""
    from pacs_console.core.sync import helpdesk
    from pacs_console.core.sync.adapters.rt_articles import RTArticles
    from pacs_console.core.sync.articles import sync_articles

    adapter = helpdesk.adapter(ctx)
    try:
        return sync_articles(ctx.db, RTArticles(adapter, article_class,
                                                files_dir=ctx.paths.data / "kb-files"),
                             base_url=adapter.config.url)
    finally:
        adapter.close()


def _sync(args, ctx) -> int:
    result = share_articles(ctx, args.article_class)  # not configured: a diagnosis, exit 1
    ok = not result.errors
    text = (f"Articles: sent {result.sent}, received {result.received}, "
            f"{result.conflicts} conflict(s) to review")
    for error in result.errors[:10]:
        text += f"\n  {error.get('what', error)}"
    _emit(args, {"ok": ok, **result.to_dict()}, text)
    return exit_codes.OK if ok else exit_codes.FAILED


def register(subparsers) -> None:
    sub = action_parsers(subparsers, "kb", "the knowledge base: articles, search, suggestions")
    p = _add(sub, "new", _new, "write an article (an SOP, a checklist, a fix)")
    p.add_argument("--title", required=True)
    p.add_argument("--body", default="", metavar="TEXT", help="steps or the article's text")
    p.add_argument("--code", action="append", default=[],
                   help="a diagnosis code it answers, e.g. called-ae-rejected (repeatable)")
    p.add_argument("--vendor", default="")
    p.add_argument("--model", default="")
    p.add_argument("--symptoms", default="")
    p.add_argument("--cause", default="")
    p.add_argument("--fix", default="")
    p.add_argument("--site", default="", help="where it was found to work")
    p.add_argument("--attachment", action="append", default=[], metavar="NAME")
    p = _add(sub, "search", _search, "full-text search, best first")
    p.add_argument("text")
    p.add_argument("--limit", type=int, default=20)
    p = _add(sub, "show", _show, "one article")
    p.add_argument("id", help="number, UUID or UUID prefix")
    p = _add(sub, "resolve", _resolve, "answer a conflict (an article changed here and on the "
             "helpdesk): keep yours or take the helpdesk's; `kb show ID` shows both side by side")
    p.add_argument("id", help="number, UUID or UUID prefix")
    add_conflict_choice(p)
    p = _add(sub, "attach", _attach, "attach a file to an article: a text file (log, trace, "
             "config; patient data scrubbed) or a screenshot (PNG/JPEG, with --confirm-no-phi); "
             "at most 1 MiB each, 5 per article; DICOM and PDF are refused")
    p.add_argument("id", help="number, UUID or UUID prefix")
    p.add_argument("file")
    p.add_argument("--confirm-no-phi", action="store_true",
                   help="for a screenshot: you checked it shows no patient data")
    p = _add(sub, "suggest", _suggest, "known fixes for diagnosis codes, best first")
    p.add_argument("--code", action="append", required=True, help="repeatable")
    p.add_argument("--vendor", default=None)
    p.add_argument("--limit", type=int, default=5)
    p = _add(sub, "from-incident", _from_incident,
             "save an incident's resolution as an article (pre-filled; never a duplicate)")
    p.add_argument("incident", help="incident number or UUID")
    p.add_argument("--title")
    p.add_argument("--cause")
    p.add_argument("--fix")
    p = _add(sub, "sync", _sync, "send new and edited articles to the helpdesk's article "
             "class and pull the team's back (exactly once; conflicts kept side by side)")
    p.add_argument("--class", dest="article_class", default="PACS Field",
                   help="the helpdesk's article class (default: PACS Field)")
