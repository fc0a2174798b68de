"""Argument parser and entry point; imports lazily so --version and subcommands start fast."""

from __future__ import annotations

import _signal  # signal's own C module: signal's enum tables cost every command ~0.5 ms
import argparse
import gc
import os
import sys
import types

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def _help_width() -> int:
    """What argparse's formatter computes (``shutil.get_terminal_size().columns - 2``) without
    importing shutil, which imports zlib, bz2 and lzma: argparse makes a formatter for every
    option it adds, so every command would pay for them (~2.5 ms a start)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns or 80) - 2


class _Parser(argparse.ArgumentParser):
    """The console's parsers (sub-commands' included): formatters of the terminal's width."""

    def _get_formatter(self):
        return self.formatter_class(prog=self.prog, width=_help_width())


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given ``argv`` naming a command, only that command's module is registered
    (building all ~60 sub-parsers cost more start-up than an echo's whole network work)."""
    from pacs_console import __version__

    parser = _Parser(
        prog="pacs-console",
        description="PACS Console: discovery, DICOM tests, viewer, incidents, signed reports "
                    "and helpdesk sync for hospital PACS. With no subcommand the window opens.",
    )
    parser.add_argument("--version", action="version", version=f"pacs-console {__version__}")
    parser.add_argument("--demo", action="store_true",
                        help="start the embedded demo PACS on loopback and list it as 'Demo PACS'")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="keep data, settings, cache and logs under DIR (default: the "
                             "platform's user folders)")
    parser.add_argument("--self-check", action="store_true",
                        help="check this installation, one line per check; exit 1 if any fails")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logging, including pynetdicom's protocol messages")
    parser.add_argument("--qt-probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quit-after", type=float, metavar="SECONDS", help=argparse.SUPPRESS)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    from importlib import import_module

    from pacs_console.commands import COMMAND_HOMES, COMMAND_MODULES

    named = _command_word(parser, sys.argv[1:] if argv is None else argv)
    modules = (COMMAND_HOMES[named],) if named in COMMAND_HOMES else COMMAND_MODULES
    for name in modules:
        import_module(f"pacs_console.commands.{name}").register(subparsers)
    return parser


def _command_word(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """The first word of ``argv`` that is not a global option or an option's value."""
    valued = [o for a in parser._actions if a.nargs != 0 for o in a.option_strings
              if o.startswith("--")]
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--":
            return None
        elif word.startswith("-"):
            skip = "=" not in word and len(word) > 2 and any(o.startswith(word) for o in valued)
        else:
            return word
    return None


# The command line's collector threshold (allocations between young-generation collections).
# Starting up allocates tens of thousands of objects that live to the end (modules, classes, the
# parser): at Python's default of 700 the collector walked them ~40 times in an echo and freed
# next to nothing (~4 ms of its start). Cycles are still collected in a long run (mypy raises
# its threshold the same way); the window keeps Python's default, and so does a caller of
# main() once it returns.
CLI_GC_THRESHOLD = 50_000


class _InspectOnFirstUse(types.ModuleType):
    """What ``dataclasses`` knows as ``inspect`` until it first asks it for something."""

    def __getattr__(self, name: str):
        if sys.modules.get("inspect") is self:  # asked while dataclasses is still importing
            del sys.modules["inspect"]
        from importlib import import_module

        inspect = import_module("inspect")
        dataclasses = sys.modules.get("dataclasses")
        if getattr(dataclasses, "inspect", None) is self:
            dataclasses.inspect = inspect
        return getattr(inspect, name)


def _dataclasses_without_inspect() -> None:
    """Import dataclasses without loading inspect (with ast, dis and tokenize: ~5 ms of every
    start, before a command's request can go out). dataclasses (3.11-3.13) asks inspect only
    for the signature it writes into a class that has no docstring, and every dataclass a
    command loads has one (tests/test_cli_startup.py): it gets a stand-in that loads inspect
    the first time anything is asked of it. Any other importer gets inspect itself."""
    if "dataclasses" in sys.modules or "inspect" in sys.modules:
        return
    stand_in = sys.modules["inspect"] = _InspectOnFirstUse("inspect")
    try:
        import dataclasses  # noqa: F401 - imported here, with the stand-in
    finally:
        if sys.modules.get("inspect") is stand_in:
            del sys.modules["inspect"]


def main(argv: list[str] | None = None) -> int:
    default_gc = gc.get_threshold()
    gc.set_threshold(CLI_GC_THRESHOLD, *default_gc[1:])
    _dataclasses_without_inspect()
    try:
        return _run(argv, default_gc)
    finally:
        gc.set_threshold(*default_gc)


def entry() -> int:
    """The process's own entry point (``python -m pacs_console``, the ``pacs-console`` script,
    the frozen executable): ``main()``, then a finished command line ends through
    ``exit_quickly``; after the window, Qt's objects are torn down as Qt expects."""
    code = main()
    if "PySide6" not in sys.modules:
        # main() gave the collector back Python's threshold: the next allocation would walk
        # the command's ~10,000 young objects (~2.5 ms after a store) for a process that ends.
        gc.disable()
        exit_quickly(code)
        gc.enable()  # the ordinary exit after all
    return code


def exit_quickly(code: int | None) -> None:
    """End a finished command line without tearing the interpreter down: the exit handlers
    run (the log is flushed and closed) and the output is flushed, then the process ends.
    Freeing every module and object one by one costs ~5-10 ms a command and gives the system
    nothing it does not take back at exit; objects are not finalized, so what a command writes
    it closes itself (the database, the files it receives). Returns (for the ordinary exit)
    when a thread that is not a daemon still runs, which the interpreter would wait for, when
    worker processes still run (a process pool: only the ordinary exit tells its workers to
    end before multiprocessing's exit handler waits for them; without it that wait never
    ended), or the output cannot be flushed, which the ordinary exit reports."""
    threading = sys.modules.get("threading")
    if threading is not None and any(
            thread.is_alive() and not thread.daemon and thread is not threading.main_thread()
            for thread in threading.enumerate()):
        return
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is not None and multiprocessing.active_children():
        return
    import atexit

    if not _flushed():
        return
    atexit._run_exitfuncs()
    if not _flushed():
        return
    os._exit(code if isinstance(code, int) else 0)


def _flushed() -> bool:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            return False
    return True


def _run(argv: list[str] | None, default_gc: tuple[int, ...]) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    from pacs_console.commands.argcheck import problems

    found = problems(args)
    if found:
        command = f" {args.command}" if getattr(args, "command", None) else ""
        print(f"pacs-console{command}: {found[0]}", file=sys.stderr)
        return EXIT_USAGE
    if args.qt_probe:
        from pacs_console.selfcheck import qt_probe

        return qt_probe()
    if args.self_check:
        from pacs_console.selfcheck import run_self_check

        return run_self_check(args.data_dir, out=sys.stdout)
    if args.command is None:
        gc.set_threshold(*default_gc)
        from pacs_console.app import run_gui

        return run_gui(args)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.error(f"unknown command {args.command!r}")
    if hasattr(_signal, "SIGPIPE"):
        # `pacs-console incident list --json | head` should end quietly like any Unix tool,
        # not with a BrokenPipeError traceback. A server (``serves``) must not: a peer that
        # closes while it is answered would otherwise end the whole process (exit 141);
        # there a broken pipe is an OSError that ends that one connection.
        serves = getattr(args, "serves", False)
        _signal.signal(_signal.SIGPIPE, _signal.SIG_IGN if serves else _signal.SIG_DFL)
    try:
        return int(handler(args) or 0)
    except EOFError as exc:  # end of input at a prompt: one line, never a traceback
        from pacs_console.commands.prompt import EXIT_NO_INPUT, InputEnded

        print(exc.line() if isinstance(exc, InputEnded)
              else "pacs-console: end of input: a prompt got no answer", file=sys.stderr)
        return EXIT_NO_INPUT


if __name__ == "__main__":
    raise SystemExit(main())
