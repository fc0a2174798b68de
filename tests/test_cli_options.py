"""The parser pieces the commands share (commands/options.py, dimse_common.py) keep what
scripts and people rely on: an action is required where a command is made of actions, the DICOM
commands' help ends with their exit codes, and an option is never guessed from its beginning."""

from __future__ import annotations

import argparse

import pytest

from pacs_console.cli import build_parser
from pacs_console.commands import exit_codes

MADE_OF_ACTIONS = ("archive", "site", "visit", "incident", "incidents", "audit", "maintenance",
                   "hl7", "dicomweb", "workflow", "kb", "node", "profile", "report")


def _sub(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


@pytest.mark.parametrize("name", MADE_OF_ACTIONS)
def test_a_command_made_of_actions_refuses_to_run_without_one(name, capsys):
    with pytest.raises(SystemExit) as ended:
        build_parser([name]).parse_args([name])
    assert ended.value.code == exit_codes.USAGE
    assert "the following arguments are required: ACTION" in capsys.readouterr().err


@pytest.mark.parametrize("words", [("echo",), ("find",), ("move",), ("get",), ("store",),
                                   ("probe",), ("hl7", "send"), ("workflow", "run")])
def test_dicom_and_integration_commands_end_their_description_with_the_exit_codes(words):
    parser = build_parser(list(words))
    for word in words:
        parser = _sub(parser, word)
    assert parser.description.endswith("\n\n" + exit_codes.HELP)
    assert isinstance(parser.formatter_class(prog="x"), argparse.RawDescriptionHelpFormatter)


def test_the_dicom_commands_take_no_abbreviated_option(capsys):
    with pytest.raises(SystemExit) as ended:
        build_parser(["echo"]).parse_args(["echo", "--no-sa", "127.0.0.1", "104"])
    assert ended.value.code == exit_codes.USAGE
    assert "unrecognized arguments: --no-sa" in capsys.readouterr().err
