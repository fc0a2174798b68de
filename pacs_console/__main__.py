"""Entry point for ``python -m pacs_console``."""

from pacs_console.cli import main

raise SystemExit(main())
