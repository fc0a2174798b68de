"""Entry point for ``python -m pacs_console`` and the frozen executable."""

import sys

from pacs_console.cli import entry

if __name__ == "__main__":
    if getattr(sys, "frozen", False):
        # The viewer's thumbnail pool starts worker processes; a frozen build must let them run
        # the worker code instead of starting another console. (A no-op when not frozen, so
        # the command line does not pay for importing multiprocessing.)
        import multiprocessing

        multiprocessing.freeze_support()
    raise SystemExit(entry())
