"""The CLI's shell, shared by every command room: the store and acting user from the command
line (:mod:`.context`), printing tables and JSON (:mod:`.output`), running a command so that
its exit code tells the truth about the write (:mod:`.dispatch`), and the worked examples
under each ``--help`` (:mod:`.examples`), and numbers read by the project's one rule for typed
numbers (:mod:`.typed`: ``type=number()`` / ``type=whole()``).

Command rooms import only the names below.
"""

from __future__ import annotations

from incident.cli.shell.context import add_json, engine_from, settings_from
from incident.cli.shell.output import Progress, as_json, emit, fmt, table
from incident.cli.shell.typed import number, whole

__all__ = [
    "Progress",
    "add_json",
    "as_json",
    "emit",
    "engine_from",
    "fmt",
    "number",
    "settings_from",
    "table",
    "whole",
]
