"""`pacs-console bundle`: a PHI-scrubbed log bundle (logs, test runs, reports, de-identified images)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pacs_console.commands.dimse_common import with_context
from pacs_console.commands.sync import EXIT_FAILED, EXIT_OK


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bundle", help="make a log bundle for the helpdesk (patient data scrubbed)",
        description="Zip the console's logs, chosen test runs (with their association reports), "
                    "reports and optionally de-identified sample images, with a manifest and "
                    "checksums. Patient names, IDs and birth dates are scrubbed from every text "
                    "file; DICOM goes through the PS3.15 de-identified export. Example: "
                    "pacs-console bundle --out bundle.zip --runs 12 13 --attach 4")
    parser.add_argument("--out", required=True, type=Path, help="the .zip to write")
    parser.add_argument("--runs", nargs="*", type=int, default=[], metavar="ID",
                        help="test-run ids to include (see the Tests panel's History)")
    parser.add_argument("--latest-runs", type=int, default=0, metavar="N",
                        help="also include the N most recent test runs")
    parser.add_argument("--reports", nargs="*", type=Path, default=[], metavar="FILE",
                        help="report files: text and JSON are scrubbed; PDFs are left out "
                             "unless --include-pdfs")
    parser.add_argument("--include-pdfs", action="store_true",
                        help="include the PDFs given to --reports as they are: they may name "
                             "patients, and the manifest lists them as containing patient data")
    parser.add_argument("--images", nargs="*", type=Path, default=[], metavar="DICOM",
                        help="DICOM files or folders, exported de-identified")
    parser.add_argument("--no-logs", action="store_true", help="leave the app's logs out")
    parser.add_argument("--limit-mb", type=float, default=50.0,
                        help="size limit; entries past it are listed as skipped (default 50)")
    parser.add_argument("--note", default="", help="a note for the helpdesk, kept in the manifest")
    parser.add_argument("--attach", metavar="INCIDENT",
                        help="attach the bundle to this incident (id or UUID): it then reaches "
                             "the helpdesk with the next sync")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=with_context(_bundle))


def _bundle(args: argparse.Namespace, ctx) -> int:
    from pacs_console.core.db.testruns import list_test_runs
    from pacs_console.core.models import drain
    from pacs_console.core.sync.bundle import attach_bundle, build_bundle

    run_ids = list(args.runs) + [r.id for r in list_test_runs(ctx.db, limit=args.latest_runs)
                                 if args.latest_runs]
    images: list[Path] = []
    for item in args.images:
        images += sorted(p for p in item.rglob("*") if p.is_file()) if item.is_dir() else [item]
    generator = build_bundle(ctx.db, args.out, logs_dir=None if args.no_logs else ctx.paths.logs,
                             test_run_ids=run_ids, reports=args.reports, images=images,
                             limit=int(args.limit_mb * 1024 * 1024), note=args.note,
                             include_pdfs=args.include_pdfs)
    result = drain(generator)
    attached = None
    if args.attach:
        from pacs_console.core.settings import actor

        attached = attach_bundle(ctx.db, ctx.paths.data / "attachments", args.attach, args.out,
                                 actor=actor(ctx.settings))
    if args.json:
        print(json.dumps({"ok": True, **result.to_dict(), "attached_to": args.attach
                          if attached is not None else None}, indent=2, default=str))
    else:
        print(f"Wrote {result.path} ({result.size / 1e6:.1f} MB, {len(result.files)} files, "
              f"{len(result.skipped)} skipped)")
        for warning in result.warnings:
            print(f"  warning: {warning}", file=sys.stderr)
        for entry in result.skipped:
            print(f"  left out: {entry['name']}: {entry['reason']}", file=sys.stderr)
        for name in result.contains_phi:
            print(f"  contains patient data (as asked): {name}", file=sys.stderr)
        if attached is not None:
            print(f"Attached to incident {args.attach}; it goes to the helpdesk with the next sync")
    return EXIT_OK if result.path.exists() else EXIT_FAILED
