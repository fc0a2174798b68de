"""Checks every parsed command line once, before any handler runs: one line and exit 2 for
numbers that are not finite or out of range, text that is not valid text, and a --data-dir
that cannot be used."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

MAX_NUMBER = 1 << 32  # beyond any count, size (a 4 GiB PDU) or duration an option takes
_PORTS = ("port", "scp_port", "report_port")


def _text_problem(name: str, value: str) -> str | None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{name} is not valid text (check the terminal's character encoding)"
    if "\x00" in value:
        return f"{name} contains a NUL character"
    return None


def _number_problem(name: str, dest: str, value: int | float) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{name} must be a finite number, not {value}"
    if value < 0:
        return f"{name} cannot be negative ({value})"
    if "timeout" in dest and value == 0:
        return f"{name} must be more than 0 seconds"
    if dest in _PORTS and value > 65535:
        return f"{name} {value} is outside 0-65535"
    if value > MAX_NUMBER:
        return f"{name} {value} is too large (at most {MAX_NUMBER})"
    return None


def number_in(convert, low, high, not_a_number: str, outside: str):
    """An argparse ``type``: ``convert(text)`` from ``low`` to ``high``, else one line,
    ``not_a_number`` (``{text}`` is what was given) or ``outside`` (``{value}``)."""
    def check(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(not_a_number.format(text=text)) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(outside.format(value=value))
        return value
    return check


def _option_name(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def problems(args) -> list[str]:
    """Everything wrong with ``args``, one sentence each (empty when it is usable)."""
    found: list[str] = []
    for dest, value in vars(args).items():
        if callable(value) or isinstance(value, bool):
            continue
        name = _option_name(dest)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str):
                problem = _text_problem(name, item)
            elif isinstance(item, (int, float)) and not isinstance(item, bool):
                problem = _number_problem(name, dest, item)
            else:
                problem = None
            if problem:
                found.append(problem)
                break
    data_dir = getattr(args, "data_dir", None)
    if data_dir and not found and not getattr(args, "self_check", False):  # it reports it
        problem = data_dir_problem(data_dir)
        if problem:
            found.append(problem)
    return found


def data_dir_problem(data_dir: str) -> str | None:
    """Why ``data_dir`` cannot hold the console's data, or None (it is created if missing)."""
    path = Path(data_dir).expanduser()
    if path.exists() and not path.is_dir():
        return f"--data-dir {data_dir} is a file, not a folder"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"--data-dir {data_dir} cannot be created: {exc.strerror or exc}"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"--data-dir {data_dir} is not writable"
    return None
