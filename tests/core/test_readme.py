"""The docs (README.md and docs/*.md) and `incident --help` agree: every command is in the Command line
table (docs/commandline.md), every documented command line parses, every argument has a help text, and
every --help example parses. (docs/cli.md, generated from the parser, is checked by test_docs.py.)"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from incident.cli import build_parser
from incident.cli.shell.examples import EXAMPLES, subparsers

ROOT = Path(__file__).resolve().parents[2]
COMMAND_LINE_PAGE = ROOT / "docs" / "commandline.md"
# Pages written by people (the generated CLI reference is left out: its examples are EXAMPLES below).
PAGES = [ROOT / "README.md"] + sorted(p for p in (ROOT / "docs").rglob("*.md") if p.name != "cli.md")


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(path, parser, help) for every command and subcommand, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                yield (*path, name), child, helps.get(name)
                yield from _commands(child, (*path, name))


PARSER = build_parser()
COMMANDS = list(_commands(PARSER))


def _cli_table() -> list[list[str]]:
    """Token lists of the first code span of each row of the table in "Commands" of docs/commandline.md."""
    page = COMMAND_LINE_PAGE.read_text(encoding="utf-8")
    section = page.split("\n## Commands", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        match = re.match(r"\|\s*`incident([^`]*)`", line)
        if match:
            rows.append(match.group(1).replace("\\|", "|").split())
    return rows


def test_the_cli_table_is_found():
    assert len(_cli_table()) > 40


@pytest.mark.parametrize("path", [p for p, _, _ in COMMANDS], ids=lambda p: " ".join(p))
def test_every_command_is_in_the_readme_cli_table(path):
    """A row `incident report draft|list CODE` covers `report draft` and `report list`."""
    rows = _cli_table()

    def covers(tokens: list[str]) -> bool:
        if len(tokens) < len(path):
            return False
        return all(word in tokens[i].split("|") for i, word in enumerate(path))

    assert any(covers(tokens) for tokens in rows), (
        f"`incident {' '.join(path)}` is not in the Commands table of docs/commandline.md"
    )


@pytest.mark.parametrize("path", [p for p, _, _ in COMMANDS], ids=lambda p: " ".join(p))
def test_every_command_and_argument_has_help(path):
    entry = next((p, parser, help_) for p, parser, help_ in COMMANDS if p == path)
    _, parser, help_ = entry
    assert help_ and help_ != argparse.SUPPRESS, f"incident {' '.join(path)} has no help line"
    bare = [
        "/".join(a.option_strings) or a.dest
        for a in parser._actions
        if not isinstance(a, argparse._SubParsersAction) and not a.help
    ]
    assert not bare, f"incident {' '.join(path)}: arguments without help: {bare}"


def _parses(argv: list[str]) -> str | None:
    """None if argparse accepts argv, else its complaint."""
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        return f"exit {exc.code}"
    return None


def _argv(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    for stop in ("|", ";", ">", "&&", "&", "2>&1"):
        if stop in tokens:
            tokens = tokens[: tokens.index(stop)]
    assert tokens[0] == "incident"
    return tokens[1:]


@pytest.mark.parametrize(
    "line", [line for lines in EXAMPLES.values() for line in lines], ids=lambda line: line[:60]
)
def test_every_help_example_parses(line, capsys):
    assert _parses(_argv(line)) is None, capsys.readouterr().err


def test_examples_belong_to_real_commands():
    paths = {" ".join(p) for p, _, _ in COMMANDS}
    assert set(EXAMPLES) <= paths, set(EXAMPLES) - paths
    assert all(line.startswith("incident ") for lines in EXAMPLES.values() for line in lines)


def _readme_command_lines() -> list[str]:
    """`incident ...` lines in the code blocks of the README and the docs pages that are meant to be
    typed as they are (synopses with [optional] parts and placeholders in capitals are left out)."""
    lines, fence = [], None
    for raw in (line for page in PAGES for line in page.read_text(encoding="utf-8").splitlines()):
        if raw.startswith("```"):
            fence = raw[3:].strip() if fence is None else None
            continue
        if fence not in ("", "sh", "console"):
            continue
        line = raw.strip().removeprefix("$ ")
        typed = line.split(" #")[0]
        if not line.startswith("incident ") or "[" in typed or "…" in typed:
            continue
        if re.search(r"\b(CODE|FILE|SCENARIO|LAT|LON)\b", typed):
            continue
        lines.append(line)
    return lines


def test_the_readme_has_runnable_examples():
    assert len(_readme_command_lines()) > 60


@pytest.mark.parametrize("line", _readme_command_lines(), ids=lambda line: line[:60])
def test_every_readme_command_line_parses(line, capsys):
    assert _parses(_argv(line)) is None, capsys.readouterr().err


def test_subcommands_are_walked():
    assert ("report", "draft") in {p for p, _, _ in COMMANDS}
    assert dict(subparsers(PARSER))["report"] is not None
