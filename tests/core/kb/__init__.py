"""Knowledge-base tests: real SQLite with FTS5, real CLI child processes, real peers."""
