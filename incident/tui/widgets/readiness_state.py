"""A readiness state (ready, due soon, not ready) as a marked, coloured label."""

from __future__ import annotations

from rich.text import Text

from incident.core.i18n import t

STATE_STYLE = {"ready": "green", "due_soon": "yellow", "not_ready": "bold red"}


def state_text(state: str) -> Text:
    mark = {"ready": "✔ ", "due_soon": "! ", "not_ready": "✘ "}.get(state, "")
    return Text(mark + t(f"readiness.state.{state}"), style=STATE_STYLE.get(state, ""))
