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
    "relay",
    "assess",
)
# Which module registers each command (aliases included): cli.py imports only that module when
# the command line names it, so `pacs-console echo` never builds the other parsers. A command
# missing here still works (every module is registered then); a test keeps this map true.
COMMAND_HOMES: dict[str, str] = {
    "echo": "echo", "find": "find", "move": "transfer", "get": "transfer", "store": "transfer",
    "probe": "transfer", "index": "imaging", "export-deid": "imaging", "site": "incidents",
    "visit": "incidents", "incident": "incidents", "incidents": "incidents", "audit": "incidents",
    "maintenance": "uptime", "uptime": "uptime", "scan": "discovery", "inventory": "discovery",
    "demo-pacs": "demo", "report": "reports", "profile": "profile", "hl7": "integration",
    "dicomweb": "integration", "workflow": "integration", "sync": "sync", "helpdesk": "sync",
    "bundle": "bundle", "scp": "scp", "node": "nodes", "health": "health", "archive": "archive",
    "kb": "kb", "relay": "relay", "trace": "relay", "assess": "assess",
}
