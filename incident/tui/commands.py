"""Command palette entries, named "noun: verb" (e.g. "crew: assign")."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from incident.i18n import t

# (label key, help key, app action name). Other features append here.
ENTRIES: list[tuple[str, str, str]] = [
    ("cmd.dashboard_show", "cmd.dashboard_show_help", "dashboard"),
    ("cmd.incident_list", "cmd.incident_list_help", "incidents"),
    ("cmd.log_show", "cmd.log_show_help", "show_log"),
    ("cmd.log_verify", "cmd.log_verify_help", "verify_log"),
    ("cmd.help_show", "cmd.help_show_help", "help"),
    ("cmd.language_switch", "cmd.language_switch_help", "switch_language"),
    ("cmd.app_quit", "cmd.app_quit_help", "quit"),
]


class IncidentCommands(Provider):
    async def _run(self, action: str) -> None:
        await self.app.run_action(action)

    async def discover(self) -> Hits:
        for label, help_key, action in ENTRIES:
            yield DiscoveryHit(t(label), partial(self._run, action), help=t(help_key))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, help_key, action in ENTRIES:
            text = t(label)
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self._run, action), help=t(help_key))
