"""Entry point for ``python -m pacs_console`` and the frozen executable."""

import multiprocessing

from pacs_console.cli import main

if __name__ == "__main__":
    # The viewer's thumbnail pool starts worker processes; a frozen build must let them run
    # the worker code instead of starting another console.
    multiprocessing.freeze_support()
    raise SystemExit(main())
