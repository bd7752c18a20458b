"""Command line: every capability works headless, for scripts and tests.

Each subcommand group lives in its own module with ``register(subparsers)``;
add new modules to ``COMMAND_MODULES``. Human tables by default, ``--json``
for machines; errors go to stderr with a non-zero exit code (2 = input
refused, 1 = a check failed, e.g. readiness or verify, 130 = Ctrl-C).
Commands run through :mod:`incident.cli.dispatch`: output after commit, and
the exit code tells the truth about the write (docs/faults.md).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from incident import __version__

COMMAND_MODULES = [
    "incident.cli.core",
    "incident.cli.river",
    "incident.cli.forecast",
    "incident.cli.dispersion",
    "incident.cli.readiness",
    "incident.cli.report",
    "incident.cli.results",
    "incident.cli.playbook",
    "incident.cli.sampling",
    "incident.cli.uncertainty",
    "incident.cli.reliability",
    "incident.cli.accounts",
    "incident.cli.drill",
    "incident.cli.stats",
    "incident.cli.preplan",
    "incident.cli.stations",
    "incident.cli.fieldwork",
    "incident.cli.bench",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incident",
        description="Emergency monitoring for river spills (HJ 589-2021). "
        "With no command, opens the terminal UI on the newest incident (the demo on a fresh machine).",
    )
    parser.add_argument("--version", action="version", version=f"incident {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database: sqlite:///file.sqlite or postgresql://user@host/db "
        "(default: $INCIDENT_DB or an SQLite file in your data folder)",
    )
    parser.add_argument(
        "--lang", choices=["en", "zh"], help="interface language (default: $INCIDENT_LANG or en)"
    )
    parser.add_argument("--user", help="your name for the log (default: $INCIDENT_USER or $USER)")
    parser.add_argument(
        "--lock-timeout",
        type=float,
        metavar="SECONDS",
        help="how long a write waits for another program holding the store "
        "(default: $INCIDENT_LOCK_TIMEOUT or 30)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    from incident.cli.examples import decorate

    decorate(parser)
    return parser


def _command_parsers(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> list[argparse.ArgumentParser]:
    """The parser chain of the command that ran, innermost first (``result add`` → add, result, incident)."""
    chain = [parser]
    while True:
        subs = [a for a in chain[-1]._actions if isinstance(a, argparse._SubParsersAction)]
        chosen = next(
            (
                a.choices[getattr(args, a.dest)]
                for a in subs
                if getattr(args, a.dest, None) in (a.choices or {})
            ),
            None,
        )
        if chosen is None:
            return chain[::-1]
        chain.append(chosen)


def field_flag(parser: argparse.ArgumentParser, args: argparse.Namespace, field: str | None) -> str | None:
    """The command-line flag for a refusal's input field (``mass_kg`` → ``--mass-kg``), or None."""
    if not field:
        return None
    dashed = "--" + field.replace("_", "-")
    for command in _command_parsers(parser, args):
        for action in command._actions:
            if action.dest == field or dashed in action.option_strings:
                longs = [o for o in action.option_strings if o.startswith("--")]
                metavar = action.metavar if isinstance(action.metavar, str) else None
                return longs[0] if longs else (action.option_strings or [metavar or field])[0]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    return run_parsed(parser, parser.parse_args(argv))


def run_parsed(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Run the command ``parser`` parsed into ``args``: what ``main`` does after parsing (a caller
    running many command lines, e.g. the fuzz tests, builds the parser once)."""
    # a refusal names its input field; the CLI shows that field as this command's flag
    args.field_flag = lambda field: field_flag(parser, args, field)
    handler = getattr(args, "handler", None)
    from incident.cli import dispatch

    if handler is None:
        from incident.cli.core import cmd_tui

        return dispatch.run_streaming(cmd_tui, args)
    if getattr(args, "stream_output", False):
        return dispatch.run_streaming(handler, args)
    return dispatch.run(handler, args)


def run() -> None:  # pragma: no cover - console-script shim
    sys.exit(main())
