"""`index SOURCE` and `export-deid SOURCE --out DIR`: the viewer's core, headless, for scripts."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers) -> None:
    index = subparsers.add_parser(
        "index", help="index a folder, DICOMDIR, zip or file and report every file's status",
        description="Read the headers of every file under SOURCE (a folder, a DICOMDIR, a zip or "
                    "a single file) into the viewer's index and report each one: ok with its "
                    "patient/study/series/instance keys and transfer syntax, or refused with the "
                    "reason. Exit status 0 when every file was read and reported (refusals are "
                    "findings, listed with their reason and counted in the summary), 1 when the "
                    "source cannot be opened.")
    index.add_argument("source", metavar="SOURCE")
    index.add_argument("--thumbnails", metavar="DIR",
                       help="also write a PNG thumbnail per instance (DIR/STUDY/SERIES/SOP.png) "
                            "and per series (DIR/STUDY/SERIES.png)")
    index.add_argument("--json", action="store_true", help="one JSON document on stdout")
    index.set_defaults(handler=run_index)
    export = subparsers.add_parser(
        "export-deid", help="write a de-identified copy (PS3.15 Basic Profile) of SOURCE",
        description="Apply the DICOM PS3.15 Basic Application Level Confidentiality Profile to "
                    "every instance under SOURCE and write the copies to DIR as "
                    "STnnn/SEnnn/IMnnnn.dcm, with UIDs remapped consistently. Pixel data is "
                    "not changed: a warning names images that may show burned-in text.")
    export.add_argument("source", metavar="SOURCE")
    export.add_argument("--out", metavar="DIR", required=True)
    export.add_argument("--json", action="store_true", help="one JSON document on stdout")
    export.set_defaults(handler=run_export)


def _open(args):
    from pacs_console.core.context import Context
    from pacs_console.paths import app_paths

    return Context.open(app_paths(args.data_dir))


def _fail(args, diagnosis) -> int:
    if args.json:
        json.dump({"ok": False, "error": diagnosis.to_dict()}, sys.stdout, indent=2)
        print()
    else:
        print(diagnosis.text(), file=sys.stderr)
    return 1


def _thumbnails(index, source: str, out_dir: str, cache_dir) -> dict[str, dict]:
    from pathlib import Path

    from pacs_console.core.imaging.thumb_files import PngJob, write_thumbnail_files
    from pacs_console.core.imaging.thumbs import ThumbCache, shutdown_pool
    from pacs_console.core.models import drain
    from pacs_console.core.safepath import instance_path, join, uid_name

    out = Path(out_dir)
    reps = {}
    for study in index.studies([source]):
        for series in index.series(study.study_uid, [source]):
            if series.representative is not None:  # names from the files: made safe
                reps[series.representative.path] = join(
                    out, uid_name(study.study_uid, "no-study"),
                    uid_name(series.series_uid, "no-series") + ".png")
    jobs = []
    folders: dict[tuple[str, str], Path] = {}
    for row in index.files([source]):
        if row.status == "ok" and row.has_pixels:  # every file, even two copies of one instance
            key = (row.study_uid, row.series_uid)
            if key not in folders:  # checked once a series; its PNGs are single safe names,
                # written without following a link (thumbs.write_png)
                folders[key] = instance_path(out, *key, "", "").parent
            target = folders[key] / (uid_name(row.sop_uid, "unknown-instance") + ".png")
            extra = (str(reps[row.path]),) if row.path in reps else ()
            # the viewer's cache keeps the study tree's tiles (a series' representative)
            jobs.append(PngJob(row.path, row.sop_uid, row.mtime_ns, (str(target), *extra),
                               cache=bool(extra)))
    try:  # the pool's workers decode and write the files: no pixels come back here
        done = drain(write_thumbnail_files(jobs, ThumbCache(Path(cache_dir) / "thumbs")))
    finally:
        shutdown_pool()
    return {job.path: {key: text} for job, (key, text) in zip(jobs, done, strict=True)}


def _on_source(args: argparse.Namespace, work) -> int:
    """Index SOURCE into the viewer's cache index, then ``work(args, ctx, index, result)``;
    a SOURCE that cannot be opened is reported as its diagnosis (exit 1)."""
    from pacs_console.core.errors import ConsoleError
    from pacs_console.core.imaging.index import ImageIndex, index_source
    from pacs_console.core.imaging.thumbs import configure_pool, shutdown_pool
    from pacs_console.core.models import drain

    # No window to keep responsive: the user waits on these workers (normal priority), and
    # the forkserver loads the header reader, with thumbnails the renderer (numpy), but not
    # pydicom: the lean readers read plain files, a worker loads pydicom for the others.
    configure_pool(nice=0, preload=("pacs_console.core.imaging.index",) + (
        ("pacs_console.core.imaging.thumb_files", "pacs_console.core.imaging.render",
         "pacs_console.core.imaging.frame_lean") if getattr(args, "thumbnails", None) else ()))
    ctx = _open(args)
    try:
        index = ImageIndex.for_cache(ctx.paths.cache)
        try:
            result = drain(index_source(index, args.source, ctx.paths.cache, first_here=False))
        except ConsoleError as exc:
            return _fail(args, exc.diagnosis)
        return work(args, ctx, index, result)
    finally:
        shutdown_pool()  # the run's end: its readers (and decoders) end with it
        ctx.close()


def run_index(args: argparse.Namespace) -> int:
    return _on_source(args, _report_index)


def _report_index(args, ctx, index, result) -> int:
    from pacs_console.core.imaging.header import REASONS

    thumbs = _thumbnails(index, result.source, args.thumbnails, ctx.paths.cache) \
        if args.thumbnails else {}
    files = []
    for row in index.files([result.source]):
        entry = {"path": row.path, "status": row.status}
        if row.status == "ok":
            entry.update(patient_id=row.patient_id, study_uid=row.study_uid,
                         series_uid=row.series_uid, sop_instance_uid=row.sop_uid,
                         transfer_syntax=row.transfer_syntax)
            if row.detail:
                entry["notes"] = row.detail
        else:
            entry.update(reason=row.reason, reason_text=REASONS.get(row.reason, row.reason),
                         detail=row.detail)
        entry.update(thumbs.get(row.path, {}))
        files.append(entry)
    summary = {"source": result.source, "kind": result.kind, "files": result.total,
               "read": result.read, "unchanged": result.unchanged, "ok": result.ok,
               "refused": result.refused, "seconds": round(result.seconds, 3),
               "notes": list(result.notes)}
    if args.json:
        json.dump({"ok": result.refused == 0, "summary": summary, "files": files},
                  sys.stdout, indent=2)
        print()
    else:
        for entry in files:
            if entry["status"] == "ok":
                print(f"ok       {entry['path']}  patient={entry['patient_id']} "
                      f"study={entry['study_uid']} series={entry['series_uid']} "
                      f"sop={entry['sop_instance_uid']} ts={entry['transfer_syntax']}"
                      + (f"  [{entry['thumbnail_error']}]" if "thumbnail_error" in entry
                         else ""))
            else:
                print(f"{entry['status']:<8} {entry['path']}  {entry['reason_text']}"
                      + (f": {entry['detail']}" if entry["detail"] else ""))
        for note in result.notes:
            print(f"note: {note}")
        print(f"{result.total} files ({result.kind}): {result.ok} ok, {result.refused} "
              f"refused; {result.read} read, {result.unchanged} unchanged since the last "
              f"index, {result.seconds:.2f} s")
    return 0  # every file reported: refusals are findings, counted in the summary


def run_export(args: argparse.Namespace) -> int:
    return _on_source(args, _export)


def _export(args, ctx, index, result) -> int:
    from pacs_console.core.imaging.deid import export_deid
    from pacs_console.core.models import drain

    paths = [row.path for row in index.files([result.source]) if row.status == "ok"]
    report = drain(export_deid(paths, args.out))
    refused = [(row.path, row.reason) for row in index.files([result.source])
               if row.status == "refused"]
    if args.json:
        json.dump({"ok": not report.failed, "out": str(report.out_dir),
                   "written": len(report.written), "failed": report.failed,
                   "not_exported": refused, "warnings": report.warnings,
                   "uids_remapped": report.uids_remapped,
                   "seconds": round(report.seconds, 3)}, sys.stdout, indent=2)
        print()
    else:
        for path, reason in report.failed:
            print(f"failed   {path}: {reason}")
        for path, reason in refused:
            print(f"skipped  {path}: {reason}")
        for warning in report.warnings:
            print(f"WARNING: {warning}")
        print(f"{len(report.written)} instances de-identified into {report.out_dir} "
              f"({report.uids_remapped} UIDs remapped, {report.seconds:.2f} s)")
    return 0 if not report.failed else 1
