"""`pacs-console move|get|store|probe`: retrieve, send and capability-probe with progress and evidence."""

from __future__ import annotations

import argparse

from pacs_console.commands import exit_codes
from pacs_console.commands.dimse_common import (
    UsageProblem,
    add_model_options,
    diagnosis_lines,
    dimse_parser,
    opened_target,
    prepare_evidence,
    report_run,
    save_evidence,
    say,
    started,
)

RETRIEVE_KEYS = (("patient_id", "PatientID"), ("study_uid", "StudyInstanceUID"),
                 ("series_uid", "SeriesInstanceUID"), ("sop_uid", "SOPInstanceUID"),
                 ("accession", "AccessionNumber"))


def _parser(subparsers, name: str, help_text: str, example: str, handler
            ) -> argparse.ArgumentParser:
    return dimse_parser(subparsers, name, help_text,
                        f"{help_text[0].upper()}{help_text[1:]}. Example: {example}", handler)


def _retrieve_options(parser: argparse.ArgumentParser) -> None:
    add_model_options(parser)
    parser.add_argument("-L", "--level", type=str.upper, choices=("PATIENT", "STUDY", "SERIES", "IMAGE"),
                        help="retrieve level (default: the most specific level of the keys given)")
    for name, keyword in RETRIEVE_KEYS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar="VALUE", help=keyword)
    parser.add_argument("-k", "--key", action="append", default=[], metavar="KEY=VALUE",
                        help="any other identifying key (repeatable)")


MAX_GENERATE = 5000  # generated images are built in memory: 5,000 CT slices are ~2.5 GB


def register(subparsers) -> None:
    move = _parser(subparsers, "move", "retrieve with C-MOVE to this console or another AE",
                   "pacs-console move -aec ORTHANC --study-uid 1.2.3 127.0.0.11 4242", run_move)
    _retrieve_options(move)
    move.add_argument("-aem", "--move-destination", metavar="AE",
                      help="destination AE (default: this console's AE from settings)")
    move.add_argument("--scp-port", type=int, metavar="PORT",
                      help="port for this console's Storage SCP (default from settings)")
    move.add_argument("--no-listen", action="store_true",
                      help="do not start this console's Storage SCP (moving elsewhere)")
    move.add_argument("--preflight", action="store_true",
                      help="first check that the node can connect back to this console")
    get = _parser(subparsers, "get", "retrieve with C-GET over the same association",
                  "pacs-console get -aec ORTHANC --study-uid 1.2.3 127.0.0.11 4242 --out ./study",
                  run_get)
    _retrieve_options(get)
    get.add_argument("--out", metavar="DIR", help="where to write files (default: the local store)")
    store = dimse_parser(
        subparsers, "store", "send files, folders or a generated test study with C-STORE",
        "Send DICOM files, folders (recursively) or a generated test study with C-STORE. "
        "Example: pacs-console store -aec ORTHANC 127.0.0.11 4242 ./cd/DICOM", run_store)
    store.add_argument("files", nargs="*", metavar="FILE", help="files or folders to send")
    store.add_argument("--generate", type=int, metavar="N",
                       help="send a generated test study of N images (at most "
                            f"{MAX_GENERATE}) instead of (or as well as) files")
    store.add_argument("--modality", default="CT", choices=("CT", "MR", "CR", "US"),
                       help="modality of the generated study (default CT)")
    store.add_argument("--compression", choices=("rle", "jpeg2000", "jpegls"),
                       help="compress the generated study")
    store.add_argument("--parallel", type=int, default=1, metavar="N",
                       help="parallel associations (default 1)")
    probe = _parser(subparsers, "probe", "probe which SOP classes and transfer syntaxes a node accepts",
                    "pacs-console probe -aec ORTHANC 127.0.0.11 4242", run_probe)
    probe.add_argument("--no-storage", action="store_true", help="skip the storage SOP classes")


def _keys(args) -> tuple[str, dict[str, str]]:
    from pacs_console.commands.find import parse_keys  # move's and get's: a store loads no find

    keys = {keyword: getattr(args, name) for name, keyword in RETRIEVE_KEYS if getattr(args, name)}
    keys.update(parse_keys(args.key))
    if not keys:
        raise UsageProblem("say what to retrieve: --study-uid, --series-uid, --patient-id, "
                           "--accession or -k KEY=VALUE")
    level = args.level
    if level is None:
        level = ("IMAGE" if "SOPInstanceUID" in keys else "SERIES" if "SeriesInstanceUID" in keys
                 else "STUDY" if args.model == "study" or "StudyInstanceUID" in keys
                 or "AccessionNumber" in keys else "PATIENT")
    return level, keys


def _drive(args, operation, describe, every_s: float = 0.5):
    """Run an operation generator, printing progress lines (at most every ``every_s``)."""
    import time

    last = 0.0
    try:
        while True:
            progress = next(operation)
            now = time.monotonic()
            final = getattr(progress, "remaining", None) == 0 or getattr(
                progress, "images_done", 0) == getattr(progress, "images_total", -1)
            if now - last < every_s and not final and getattr(progress, "status", 0) in (0, None):
                continue
            line = describe(progress)
            if line:
                last = now
                say(args, line)
    except StopIteration as stop:
        return stop.value
    except KeyboardInterrupt:
        operation.close()
        raise


def _retrieve_line(p) -> str:
    remaining = "?" if p.remaining is None else p.remaining
    return (f"  remaining {remaining}, completed {p.completed}, failed {p.failed}, warning "
            f"{p.warning}, {p.bytes_received / 1e6:.1f} MB at {p.mb_per_s:.1f} MB/s")


def _finish(args, ctx, node, command: str, result, extra: dict | None = None) -> int:
    code = outcome_code(result)
    if not report_run(args, ctx, node, command, result, code, result=result, **(extra or {})):
        say(args, result.summary())
        if result.diagnosis:
            say(args, result.diagnosis.what)
            say(args, diagnosis_lines(result.diagnosis))
    return code


def outcome_code(result) -> int:
    """ok -> 0; some instances through and some not -> 10; nothing through -> the failure class."""
    done = getattr(result, "completed", None)
    if done is None:
        done = getattr(result, "sent", 0)
    failed = getattr(result, "failed", 0)
    skipped = len(getattr(result, "skipped", None) or ())
    if result.outcome == "cancelled":
        return exit_codes.INTERRUPTED
    if result.diagnosis is not None and result.diagnosis.code == "nothing-to-send":
        return exit_codes.USAGE  # only missing or unreadable files: README's "unreadable input"
    if skipped and done:
        return exit_codes.PARTIAL  # some files could not even be read: not a full success
    if result.outcome == "ok" or (result.outcome == "warning" and not failed):
        return exit_codes.OK
    if done and failed:
        return exit_codes.PARTIAL
    return exit_codes.for_diagnosis(result.diagnosis.code if result.diagnosis else None)


def run_move(args) -> int:
    from pacs_console.core.dicom.ops.retrieve import move

    level, keys = _keys(args)
    with opened_target(args) as (ctx, target, node):
        destination = args.move_destination or ctx.settings.ae_title
        scp = None
        own = destination.strip() == ctx.settings.ae_title.strip()
        if own and not args.no_listen:
            scp = ctx.storage_scp()
            if args.scp_port:
                scp.port = args.scp_port
            try:
                scp.start()
            except OSError as exc:
                raise UsageProblem(f"cannot listen on port {scp.port} for the retrieved files "
                                   f"({exc.strerror or exc}); use --scp-port or --no-listen") from exc
            say(args, f"Storage SCP {scp.ae_title} listening on port {scp.port}; files go to "
                      f"{ctx.paths.store}")
        extra = {}
        if args.preflight:  # (pydicom and pynetdicom load only for the pre-flight)
            from pacs_console.core.dicom.ops.preflight import preflight_move

            report = preflight_move(target, scp is not None and scp.running,
                                    ctx.settings.ae_title, scp.port if scp else ctx.settings.scp_port,
                                    scp=scp)
            save_evidence(args, ctx, node, report)
            extra["preflight"] = report
            for check in report.checks:
                mark = "skip" if check.ok is None else "ok" if check.ok else "FAIL"
                say(args, f"  pre-flight [{mark}] {check.name}: {check.detail}")
            if report.required:
                say(args, f"  the node must know: {report.required}")
            if not report.ok:
                say(args, report.summary())
        say(args, f"C-MOVE {level} from {target.label} to {destination}")
        result = _drive(args, move(target, destination, level, keys, model=args.model, scp=scp,
                                   local_port=scp.port if scp else None), _retrieve_line)
        return _finish(args, ctx, node, "move", result, extra)


def run_get(args) -> int:
    from pacs_console.core.dicom.ops.retrieve import get

    level, keys = _keys(args)
    with opened_target(args) as (ctx, target, node):
        out = args.out or str(ctx.paths.store)
        say(args, f"C-GET {level} from {target.label} into {out}")
        result = _drive(args, get(target, level, keys, out, model=args.model), _retrieve_line)
        return _finish(args, ctx, node, "get", result)


def run_store(args) -> int:
    from pacs_console.core.dicom.ops.store import store

    sources: list = list(args.files)
    if args.generate is not None and not 1 <= args.generate <= MAX_GENERATE:
        raise UsageProblem(f"--generate takes 1 to {MAX_GENERATE} images (they are made in "
                           "memory before sending)")
    if args.generate:
        from pacs_console.core.dicom.synth.studies import generate_study

        sources += generate_study(args.modality, images=args.generate,
                                  compression=args.compression)
    if not sources:
        raise UsageProblem("nothing to send: give files or folders, or --generate N")
    if args.parallel < 1:
        raise UsageProblem("--parallel must be at least 1")
    # The association is asked for with only the settings read: the log and the context come
    # up when first needed (pydicom or pynetdicom, the database), or never (opened_target's
    # request_first). With --parallel the workers may ask at once: one of them starts it.
    with opened_target(args, request_first=True) as (ctx, target, node):
        import threading

        starting = threading.Lock()

        def before_pynetdicom() -> None:
            with starting:
                started(ctx)

        say(args, f"C-STORE to {target.label} ({args.parallel} association(s))")

        def line(p) -> str:
            if p.status not in (0, None) or p.images_done == p.images_total or \
                    p.images_done % 50 == 0:
                state = "OK" if p.status == 0 else f"0x{p.status:04X} {p.meaning}" \
                    if p.status is not None else "FAILED"
                return f"  [{p.images_done}/{p.images_total}] {state} {p.path}"
            return ""

        # What the evidence save needs is imported (and the database opened) while the node
        # stores the first instance, not after the last answer.
        result = _drive(args, store(target, sources, parallel=args.parallel,
                                    sent=lambda: prepare_evidence(args, ctx.paths.database),
                                    before_pynetdicom=before_pynetdicom), line)
        for skipped in result.skipped:
            say(args, f"  skipped {skipped['path']}: {skipped['reason']}")
        return _finish(args, ctx, node, "store", result)


def run_probe(args) -> int:
    from pacs_console.core.dicom.ops.probe import probe

    with opened_target(args) as (ctx, target, node):
        say(args, f"Probing {target.label}…")
        matrix = _drive(args, probe(target, storage=not args.no_storage),
                        lambda p: f"  {p.message}" if getattr(p, "message", "") else "")
        if node is not None and matrix.accepted and not args.no_save:
            from pacs_console.core.db.nodes import set_capabilities

            set_capabilities(ctx.db, node.id, matrix.to_dict())
        if not args.json:
            for _uid, entry in sorted(matrix.accepted.items(), key=lambda kv: kv[1]["service"]):
                say(args, f"  {entry['service']:<12} {entry['name']}: "
                          f"{len(entry['transfer_syntaxes'])} transfer syntaxes")
        code = exit_codes.OK if matrix.accepted else exit_codes.for_diagnosis(
            matrix.diagnosis.code if matrix.diagnosis else None)
        if not report_run(args, ctx, node, "probe", matrix, code, result=matrix):
            say(args, matrix.summary())
        return code
