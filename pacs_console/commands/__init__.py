"""Headless subcommands: one module each, registered on the shared parser by cli.py."""

# Each module defines register(subparsers) and imports its heavy dependencies inside the
# handler, so building the parser stays cheap. Add new modules here.
COMMAND_MODULES: tuple[str, ...] = (
    "echo",
    "find",
    "transfer",
    "imaging",
    "incidents",
    "uptime",
    "discovery",
    "demo",
    "scp",
    "reports",
    "profile",
    "integration",
    "sync",
    "bundle",
    "nodes",
    "health",
    "archive",
    "kb",
)
