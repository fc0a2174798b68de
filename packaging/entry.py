"""Frozen entry point: multiprocessing support (the thumbnail pool), then the normal CLI."""

import multiprocessing
import sys

if __name__ == "__main__":
    # Pool children of a frozen app re-run this executable; freeze_support() turns them into
    # workers before any argument parsing happens.
    multiprocessing.freeze_support()
    from pacs_console.cli import entry

    sys.exit(entry())
