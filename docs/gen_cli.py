"""Write docs/cli.md, the command-line reference, from `incident.cli.build_parser()`.

    python docs/gen_cli.py          # rewrite docs/cli.md
    python docs/gen_cli.py --check  # exit 1 if docs/cli.md is out of date

Every command and subcommand gets a section with its help line, description, usage, a table of
its arguments (help text, choices, default) and its `--help` examples. The page is generated,
never edited by hand: tests/core/test_docs.py fails when it differs from the parser.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "cli.md"
WIDTH = 100  # usage lines are wrapped at a fixed width, whatever the terminal


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str | None]]:
    """(path, parser, help line) for every command and subcommand, depth first, in parser order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                yield (*path, name), child, helps.get(name)
                yield from _commands(child, (*path, name))


def _usage(parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(parser.prog, width=WIDTH)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return formatter.format_help().strip()


def _escape(text: str) -> str:
    """Help text as literal Markdown inside a table cell."""
    text = " ".join(text.split())
    for char in ("\\", "|", "*", "_", "[", "]"):
        text = text.replace(char, "\\" + char)
    return text.replace("<", "&lt;")


def _code(text: str) -> str:
    """A code span; a `|` inside one does not split a table cell in Python-Markdown (no escape)."""
    return "`" + text + "`"


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    formatter = argparse.HelpFormatter(parser.prog, width=WIDTH)
    return formatter._expand_help(action) if action.help else ""


def _argument_rows(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
            continue
        if action.help == argparse.SUPPRESS:
            continue
        formatter = argparse.HelpFormatter(parser.prog, width=WIDTH)
        if action.option_strings:
            name = ", ".join(action.option_strings)
            if action.nargs != 0:
                metavar = formatter._get_default_metavar_for_optional(action)
                name += " " + formatter._format_args(action, metavar)
        else:
            name = formatter._format_args(action, formatter._get_default_metavar_for_positional(action))
        notes = []
        if action.choices is not None and "{" not in name:
            notes.append("one of " + ", ".join(_code(str(c)) for c in action.choices))
        if action.option_strings and action.required:
            notes.append("required")
        default = action.default
        if (
            action.option_strings
            and action.nargs != 0
            and default not in (None, argparse.SUPPRESS, False, [])
            and "default" not in (action.help or "")
        ):
            notes.append(f"default {_code(str(default))}")
        text = _escape(_help(parser, action))
        if notes:
            text = f"{text} ({'; '.join(notes)})" if text else "; ".join(notes)
        rows.append(f"| {_code(name)} | {text} |")
    return rows


def _section(path: tuple[str, ...], parser: argparse.ArgumentParser, help_line: str | None) -> str:
    level = "#" * (len(path) + 1)
    lines = [f"{level} incident {' '.join(path)}", ""]
    if help_line:
        lines += [_escape(help_line[0].upper() + help_line[1:]) + ".", ""]
    if parser.description:
        lines += [_escape(parser.description), ""]
    lines += ["```text", _usage(parser), "```", ""]
    children = [(p, help_) for p, _, help_ in _ALL if len(p) == len(path) + 1 and p[:-1] == path]
    if children:
        lines += _command_table(children)
    rows = _argument_rows(parser)
    if rows:
        lines += ["| argument | meaning |", "| --- | --- |", *rows, ""]
    if parser.epilog:
        examples = [line.strip() for line in parser.epilog.splitlines()[1:] if line.strip()]
        lines += ["Examples:" if len(examples) > 1 else "Example:", "", "```sh", *examples, "```", ""]
    return "\n".join(lines)


_ALL: list[tuple[tuple[str, ...], argparse.ArgumentParser, str | None]] = []


def _command_table(children: list[tuple[tuple[str, ...], str | None]]) -> list[str]:
    """A table of commands linking to their sections (the id the toc gives `## incident a b`)."""
    lines = ["| command | what |", "| --- | --- |"]
    for path, help_ in children:
        lines.append(f"| [{_code(' '.join(path))}](#incident-{'-'.join(path)}) | {_escape(help_ or '')} |")
    return [*lines, ""]


def render() -> str:
    from incident.cli import build_parser

    parser = build_parser()
    _ALL[:] = list(_commands(parser))
    head = [
        "# CLI reference",
        "",
        "<!-- Generated by docs/gen_cli.py from incident.cli.build_parser(); do not edit by hand.",
        "     Run `.venv/bin/python docs/gen_cli.py` after changing a command or its help. -->",
        "",
        "Every command, its arguments and their help, generated from the parser itself, so it is "
        "always the same as `incident COMMAND --help`. For what the commands are for and how they fit "
        "together, see [Command line](commandline.md) and the workflow pages.",
        "",
        "## incident",
        "",
        _escape(parser.description or ""),
        "",
        "```text",
        _usage(parser),
        "```",
        "",
        "Global options go before the command.",
        "",
        "| argument | meaning |",
        "| --- | --- |",
        *_argument_rows(parser),
        "",
        *_command_table([(p, help_) for p, _, help_ in _ALL if len(p) == 1]),
    ]
    body = [_section(p, child, help_) for p, child, help_ in _ALL]
    return "\n".join(head) + "\n" + "\n".join(body).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    sys.path.insert(0, str(ROOT))
    text = render()
    if "--check" in argv:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run python docs/gen_cli.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(_ALL)} commands)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
