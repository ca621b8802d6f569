"""Help a newcomer can rely on: every option says what it does and its default, and no
option is accepted under an abbreviated name."""

from __future__ import annotations

import argparse
import subprocess
import sys

from patronage.cli.main import build_parser, main


def parsers(parser: argparse.ArgumentParser, name: str = "patronage"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                yield from parsers(child, f"{name} {sub}")


def options(parser: argparse.ArgumentParser):
    skip = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)
    return [a for a in parser._actions if not isinstance(a, skip)]


def test_every_option_has_help_and_states_its_default():
    missing = []
    for name, parser in parsers(build_parser()):
        for action in options(parser):
            label = f"{name} {'/'.join(action.option_strings) or action.dest}"
            if not action.help:
                missing.append(f"{label}: no help")
            elif action.option_strings and not action.required and "default" not in action.help:
                missing.append(f"{label}: help does not state the default")
    assert not missing, "\n".join(missing)


def test_no_command_takes_abbreviated_options():
    assert all(not p.allow_abbrev for _, p in parsers(build_parser()))


def test_an_abbreviated_option_is_one_line_and_exit_2(capsys):
    code = main(["batch", "scenarios/baseline.yaml", "--replicate", "3"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--replicate" in err and len(err.strip().splitlines()) == 1


def test_help_of_every_command_prints():
    for command in ("batch", "resume", "summary", "verify", "generate", "compare", "plot"):
        result = subprocess.run(
            [sys.executable, "-m", "patronage.cli", command, "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "(default:" in result.stdout, command
