"""Parser pieces the subcommands share: a command made of actions, a hand-laid description
followed by the exit codes, and the options several commands declare alike (--json,
--allow-public). Only argparse: the start-up path of every command imports this module."""

from __future__ import annotations

import argparse

from pacs_console.commands import exit_codes

JSON_HELP = "one JSON document on stdout"
EXIT_CODES_TAIL = "\n\n" + exit_codes.HELP


def action_parsers(subparsers, name: str, help_text: str, *, dest: str | None = None,
                   **options) -> argparse._SubParsersAction:
    """`pacs-console NAME ACTION ...`: the command's parser, returning the sub-parsers of its
    actions (one required; the action chosen is in ``args.<dest>``, by default NAME_command)."""
    parser = subparsers.add_parser(name, help=help_text, **options)
    return parser.add_subparsers(dest=dest or f"{name}_command", metavar="ACTION", required=True)


def described_parser(subparsers, name: str, help_text: str, description: str, *,
                     exit_codes_help: bool = True, **options) -> argparse.ArgumentParser:
    """A command whose description keeps its own line breaks, followed (unless told otherwise)
    by the DICOM subcommands' exit codes; options are not abbreviated unless ``allow_abbrev``."""
    if exit_codes_help:
        description += EXIT_CODES_TAIL
    return subparsers.add_parser(name, help=help_text, description=description,
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 **{"allow_abbrev": False, **options})


def add_json(parser: argparse.ArgumentParser, help_text: str | None = JSON_HELP) -> None:
    """--json: machine-readable output on stdout (one document unless ``help_text`` says)."""
    parser.add_argument("--json", action="store_true", help=help_text)


def add_allow_public(parser: argparse.ArgumentParser) -> None:
    """--allow-public: commands that sweep addresses keep to private and loopback ranges."""
    parser.add_argument("--allow-public", action="store_true",
                        help="allow addresses outside private and loopback ranges")
