"""Entry point for ``python -m pacs_console`` and the frozen executable."""

import sys

from pacs_console.cli import exit_quickly, main

if __name__ == "__main__":
    if getattr(sys, "frozen", False):
        # The viewer's thumbnail pool starts worker processes; a frozen build must let them run
        # the worker code instead of starting another console. (A no-op when not frozen, so
        # the command line does not pay for importing multiprocessing.)
        import multiprocessing

        multiprocessing.freeze_support()
    code = main()
    if "PySide6" not in sys.modules:  # the window's Qt objects are torn down as Qt expects
        exit_quickly(code)
    raise SystemExit(code)
