"""`pacs-console find`: C-FIND (Patient/Study Root, Modality Worklist) streaming matches as they come."""

from __future__ import annotations

import sys

from pacs_console.commands import exit_codes
from pacs_console.commands.dimse_common import (
    UsageProblem,
    add_model_options,
    dimse_parser,
    emit_run,
    opened_target,
    prepare_evidence,
    save_evidence,
    say,
    say_diagnosis,
    started,
)

CONVENIENCE = (("name", "patient name, wildcards * and ?"), ("patient_id", "patient ID"),
               ("birth_date", "birth date YYYYMMDD or range"), ("accession", "accession number"),
               ("date", "study date YYYYMMDD or range YYYYMMDD-YYYYMMDD"),
               ("modality", "modality (CT, MR, ...)"), ("description", "study description"),
               ("station_ae", "worklist: scheduled station AE title"))


def register(subparsers) -> None:
    parser = dimse_parser(
        subparsers, "find", "query a node with C-FIND or Modality Worklist",
        "Query a node with C-FIND. Example: pacs-console find -aec ORTHANC --name 'MENSAH*' "
        "--date 20260101- 127.0.0.11 4242", run)
    add_model_options(parser, worklist=True)
    parser.add_argument("-L", "--level", default="STUDY", type=str.upper,
                        choices=("PATIENT", "STUDY", "SERIES", "IMAGE"), help="query level")
    for name, text in CONVENIENCE:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar="VALUE", help=text)
    parser.add_argument("-k", "--key", action="append", default=[], metavar="KEY=VALUE",
                        help="any other key: keyword or gggg,eeee, e.g. -k StudyInstanceUID=1.2.3 "
                             "or -k 0008,0050= to ask for it back (repeatable)")
    parser.add_argument("--limit", type=int, metavar="N", help="stop (C-CANCEL) after N matches")
    parser.add_argument("--csv", metavar="FILE", help="also write the matches to a CSV file")


def parse_keys(pairs: list[str]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise UsageProblem(f"-k {pair!r}: expected KEY=VALUE (VALUE may be empty)")
        key, value = pair.split("=", 1)
        key = key.strip()
        if "," in key and len(key.replace(",", "")) == 8:
            key = key.replace(",", "")
        keys[key] = value
    return keys


def run(args) -> int:
    from pacs_console.core.dicom.ops.query import find

    keys = {name: getattr(args, name) for name, _ in CONVENIENCE if getattr(args, name) is not None}
    extra = parse_keys(args.key)
    level = "WORKLIST" if args.model == "worklist" else args.level
    with opened_target(args, request_first=True) as (ctx, target, node):
        from pacs_console.core.dicom.identifiers import MATCH_COLUMNS

        columns = MATCH_COLUMNS[level]
        matches: list[dict[str, str]] = []
        # What the end needs is imported while the node answers (after the query is out); the
        # log and the context come up only when needed (opened_target's request_first).
        search = find(target, args.level, keys, model=args.model, extra=extra, limit=args.limit,
                      sent=lambda: prepare_evidence(args, ctx.paths.database),
                      before_pynetdicom=lambda: started(ctx))
        if not args.json:
            say(args, "  ".join(columns))
        try:
            while True:
                match = next(search)
                matches.append(match)
                if not args.json:
                    say(args, "  ".join(match.get(c, "") or "-" for c in columns))
        except StopIteration as stop:
            result = stop.value
        except KeyboardInterrupt:
            search.close()  # sends C-CANCEL
            raise
        run_id = save_evidence(args, ctx, node, result)
        if args.csv:
            _write_csv(args.csv, matches)
        code = _code(result)
        if args.json:
            emit_run("find", code == 0, run_id, code, level=level, model=args.model,
                     count=result.count, matches=matches, result=result)
        else:
            say(args, result.summary())
            if result.charset_assumed:
                say(args, "Note: the node sent no Specific Character Set; text read as "
                          f"{result.charset_assumed}")
            if result.diagnosis:
                say_diagnosis(args, ctx, result.diagnosis,
                              ("Note: " if code == 0 else "") + result.diagnosis.what)
        return code


def _code(result) -> int:
    if result.status is not None and result.outcome != "failed":
        return exit_codes.OK  # a hint such as "no matches" is not a failure
    if result.cancelled and result.diagnosis is None:
        return exit_codes.OK
    return exit_codes.for_diagnosis(result.diagnosis.code if result.diagnosis else None)


def _write_csv(path: str, matches: list[dict[str, str]]) -> None:
    from pacs_console.core.csvsafe import write_dicts

    handle = sys.stdout if path == "-" else open(path, "w", newline="", encoding="utf-8")
    try:
        write_dicts(handle, matches)
    finally:
        if handle is not sys.stdout:
            handle.close()
