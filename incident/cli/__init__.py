"""Command line: every capability works headless, for scripts and tests.

Commands live in rooms that mirror the domain rooms (``incident/cli/plume``,
``incident/cli/results``, …); each room's ``__init__`` has ``register(subparsers)``,
and the rooms share only :mod:`incident.cli.shell`. Add a new room to ``COMMAND_MODULES``. Human tables by default, ``--json``
for machines; errors go to stderr with a non-zero exit code (2 = input
refused, 1 = a check failed, e.g. readiness or verify, 130 = Ctrl-C).
Commands run through :mod:`incident.cli.shell.dispatch`: output after commit, and
the exit code tells the truth about the write (docs/faults.md).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from incident import __version__
from incident.cli.shell.typed import Parser, language_from, number

#: The command rooms, in the order ``incident --help`` lists them. Each mirrors a room of
#: ``incident/`` and exposes ``register(subparsers)``; its modules share only the shell
#: (:mod:`incident.cli.shell`).
COMMAND_MODULES = [
    "incident.cli.core",
    "incident.cli.plume",
    "incident.cli.playbook",
    "incident.cli.sampling",
    "incident.cli.results",
    "incident.cli.reports",
    "incident.cli.readiness",
    "incident.cli.drills",
    "incident.cli.preplan",
    "incident.cli.stations",
    "incident.cli.evidence",
]


#: Which room registers each top-level command, so that one command line builds only its own room's
#: parsers (building all ~130 takes ~20 ms, and imports every room's commands). Kept true by
#: tests/core/test_cli_parser.py; a command missing here still works, through the whole parser.
_ROOM_COMMANDS: dict[str, tuple[str, ...]] = {
    "core": ("tui", "list", "show", "new", "demo", "db", "log", "bench"),
    "plume": ("river", "forecast", "dispersion", "recalibrate", "trace"),
    "playbook": ("playbook", "step"),
    "sampling": ("plan", "rounds", "crew", "assign", "export", "photo", "survey"),
    "results": ("sample", "result", "results", "custody", "import", "terminate", "standards", "qc"),
    "reports": ("report", "stats"),
    "readiness": (
        "readiness",
        "due",
        "inventory",
        "equipment",
        "calibrate",
        "maintain",
        "stock",
        "checkout",
        "checkin",
    ),
    "drills": ("drill",),
    "preplan": ("preplan",),
    "stations": ("stations", "alerts"),
    "evidence": ("verify", "backup", "serve", "login", "logout", "whoami", "account", "seal"),
}
COMMAND_ROOMS: dict[str, str] = {
    command: f"incident.cli.{room}" for room, commands in _ROOM_COMMANDS.items() for command in commands
}

#: Global options that take a value, so the command word after them is found (``--db URL forecast``).
_VALUE_OPTIONS = ("--db", "--lang", "--user", "--lock-timeout")


def command_word(argv: Sequence[str]) -> str | None:
    """The command a command line runs (its first word that is not a global option or its value), or None."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in _VALUE_OPTIONS:
            skip = True
        elif token == "--":
            return None
        elif not token.startswith("-"):
            return token
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``incident`` parser; with ``command``, only the parsers of the room that has it."""
    parser = Parser(  # a refused number flag is the project's refusal, naming the flag
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
        type=number(),
        metavar="SECONDS",
        help="how long a write waits for another program holding the store "
        "(default: $INCIDENT_LOCK_TIMEOUT or 30)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    room = COMMAND_ROOMS.get(command or "")
    for name in [room] if room else COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    from incident.cli.shell.examples import decorate

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


def _not_utf8(line: Sequence[str]):
    """The refusal of the first word the terminal did not send as UTF-8 (Python keeps its bytes as
    lone surrogates, which no file, database or terminal can take), or None."""
    from incident.core.errors import UserError

    for i, word in enumerate(line):
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            flag = line[i - 1] if i and line[i - 1].startswith("-") else ""
            shown = word.encode("utf-8", "backslashreplace").decode("utf-8")
            place = flag or command_word(line[:i]) or None
            return UserError("errors.cli.not_utf8_word", where=place, word=f"'{shown}'")
    return None


def main(argv: Sequence[str] | None = None, *, parser: argparse.ArgumentParser | None = None) -> int:
    """Run one command line. ``parser``: one ``build_parser()`` made before (building it takes ~0.1 s;
    a caller running many command lines, e.g. the fuzz tests, builds it once; parsing does not change it)."""
    line = sys.argv[1:] if argv is None else list(argv)
    parser = parser or build_parser(command_word(line))
    language_from(line)  # a refused flag is shown in --lang
    from incident.core.errors import UserError

    refusal = _not_utf8(line)
    if refusal is not None:
        print(f"incident: {refusal.render()}", file=sys.stderr)
        return 2
    try:
        args = parser.parse_args(argv)
    except UserError as exc:  # a number flag refused by the input layer (shell.typed), naming the flag
        print(f"incident: {exc.render()}", file=sys.stderr)
        return 2
    # a refusal names its input field; the CLI shows that field as this command's flag
    args.field_flag = lambda field: field_flag(parser, args, field)
    handler = getattr(args, "handler", None)
    from incident.cli.shell import dispatch

    if handler is None:
        from incident.cli.core.commands import cmd_tui

        return dispatch.run_streaming(cmd_tui, args)
    if getattr(args, "stream_output", False):
        return dispatch.run_streaming(handler, args)
    return dispatch.run(handler, args)


def run() -> None:  # pragma: no cover - console-script shim
    sys.exit(main())
