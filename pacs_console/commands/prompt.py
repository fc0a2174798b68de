"""Asking the person at the terminal, for every command: end of input (Ctrl+D, a closed or
empty standard input) at any prompt ends with one line and exit code 2, never a traceback."""

from __future__ import annotations

import sys

EXIT_NO_INPUT = 2  # the same as a usage error: the command lacked something it needs
MAX_ANSWER = 64 * 1024  # a passphrase or token; a piped file larger than this is a mistake


class InputEnded(EOFError):
    """Standard input ended where an answer was expected."""

    def __init__(self, what: str, hint: str = "", problem: str = "") -> None:
        super().__init__(what)
        self.what, self.hint = what, hint
        self.problem = problem or f"end of input: no {what} was given"

    def line(self) -> str:
        return f"pacs-console: {self.problem}" + (f" ({self.hint})" if self.hint else "")


def ask_secret(prompt: str, *, what: str, hint: str = "") -> str:
    """Hidden when a person types it; one line when piped (scripts). Raises InputEnded at EOF."""
    stream = sys.stdin
    if stream is None or stream.closed:
        raise InputEnded(what, hint)
    try:
        if stream.isatty():
            import getpass

            return getpass.getpass(prompt)
        line = stream.readline(MAX_ANSWER + 1)
    except EOFError:
        raise InputEnded(what, hint) from None
    except UnicodeDecodeError:
        raise InputEnded(what, hint, f"the {what} on standard input is not text") from None
    except (OSError, ValueError):  # stdin unusable (closed descriptor)
        raise InputEnded(what, hint) from None
    if not line:
        raise InputEnded(what, hint)
    if len(line) > MAX_ANSWER:
        raise InputEnded(what, hint, f"the {what} on standard input is longer than "
                                     f"{MAX_ANSWER // 1024} KiB: not read")
    try:
        line.encode("utf-8")  # undecodable bytes arrive as surrogates under a C locale
    except UnicodeEncodeError:
        raise InputEnded(what, hint, f"the {what} on standard input is not text") from None
    return line.rstrip("\r\n")
