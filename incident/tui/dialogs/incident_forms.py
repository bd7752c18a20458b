"""Open an incident, and amend its spill, from the keyboard ("incident: new", "spill: amend").

Both are the shared form (incident/tui/dialogs/form.py); the services are
``incident.core.incidents.create_incident`` and ``incident.plume.amend_and_reforecast``
(the same ones the CLI calls). A refusal reopens the form with what was typed and the
refusal under its field.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Select, Static

from incident.core.errors import UserError
from incident.core.i18n import bilingual, t
from incident.tui.base import Localised, app_state
from incident.tui.dialogs.form import FormDialog, FormField, place_error

DEMO = "demo"  # the river choice when no network is stored yet: the demo river file


def _num(values: dict, name: str) -> float | None:
    """A number field of the form (already checked by the form), by the project's one rule."""
    from incident.core.inputs import parse_number

    return parse_number(values[name], field=name) if values[name] else None


# ------------------------------------------------------------------ incident: new


class NewIncidentForm(FormDialog):
    """The shared form, with the reach list following the river chosen."""

    def __init__(self, networks: list, pollutants: list, **kw: Any) -> None:
        self.networks = {str(n.id): n for n in networks}
        river_choices = tuple((str(n.id), bilingual(n.name, n.name_zh)) for n in networks) or (
            (DEMO, t("newinc.demo_river")),
        )
        values = kw.pop("values", None) or {}
        river = values.get("river") or river_choices[0][0]
        fields = [
            FormField("title", t("newinc.title_field"), "", t("newinc.title_hint"), required=True),
            FormField("river", t("newinc.river"), river, choices=river_choices),
            FormField("source_reach", t("newinc.reach"), "", choices=self._reach_choices(river)),
            FormField("source_km", t("newinc.km"), "", t("newinc.km_hint"), kind="number"),
            FormField(
                "source_lat",
                t("newinc.lat"),
                "",
                t("newinc.lat_hint"),
                kind="number",
                minimum=-90,
                maximum=90,
            ),
            FormField(
                "source_lon",
                t("newinc.lon"),
                "",
                t("newinc.lon_hint"),
                kind="number",
                minimum=-180,
                maximum=180,
            ),
            FormField(
                "substance",
                t("newinc.pollutant"),
                "",
                choices=(("", t("newinc.unknown")),)
                + tuple((p.key, bilingual(p.name, p.name_zh)) for p in pollutants),
            ),
            FormField("mass_kg", t("newinc.mass"), "", t("newinc.unknown"), kind="number", minimum=0),
            FormField(
                "release_start", t("newinc.start"), kw.pop("now_text"), "YYYY-MM-DD HH:MM", kind="time"
            ),
            FormField("release_duration_h", t("newinc.duration"), "", "0.5", kind="number", minimum=0),
        ]
        super().__init__(
            t("newinc.form_title"),
            fields,
            values=values,
            message=t("newinc.form_help"),
            ok_label=t("newinc.open"),
            check=self._check_source,
            **kw,
        )

    def _reach_choices(self, river: str) -> tuple[tuple[str, str], ...]:
        net = self.networks.get(river)
        reaches = net.reaches if net is not None else ()
        if not reaches and river == DEMO:
            reaches = _demo_reaches()
        return (("", t("newinc.by_latlon")),) + tuple(
            (r.reach_id, f"{r.reach_id} {r.name} · km {r.km_start:.1f}–{r.km_end:.1f}") for r in reaches
        )

    def _reach(self, river: str, reach_id: str):
        net = self.networks.get(river)
        reaches = net.reaches if net is not None else _demo_reaches()
        return next((r for r in reaches if r.reach_id == reach_id), None)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "field-river":
            reach = self.query_one("#field-source_reach", Select)
            options = [(label, value) for value, label in self._reach_choices(str(event.value))]
            reach.set_options(options)
            reach.value = ""

    def _check_source(self, v: dict) -> dict[str, str]:
        """Reach and km, or latitude and longitude: one of them, complete (in the user's language)."""
        errors: dict[str, str] = {}
        latlon = bool(v["source_lat"]) or bool(v["source_lon"])
        if v["source_reach"]:
            reach = self._reach(v["river"], v["source_reach"])
            span = {"reach": v["source_reach"]}
            if reach is not None:
                span |= {"start": f"{reach.km_start:.1f}", "end": f"{reach.km_end:.1f}"}
            if latlon:
                errors["source_lat"] = t("newinc.both")
            elif not v["source_km"]:
                errors["source_km"] = t("newinc.km_needed", **span)
            elif reach is not None and not (
                reach.km_start - 1e-6 <= (_num(v, "source_km") or 0.0) <= reach.km_end + 1e-6
            ):
                errors["source_km"] = t("newinc.km_off", km=v["source_km"], **span)
        elif v["source_km"]:
            errors["source_reach"] = t("newinc.reach_needed")
        elif bool(v["source_lat"]) != bool(v["source_lon"]):
            errors["source_lon" if v["source_lat"] else "source_lat"] = t("newinc.latlon_pair")
        return errors


def _demo_reaches():
    from incident.core.networks import ReachChoice
    from incident.core.rivers import load_river_file
    from incident.demo import DEMO_RIVER

    net = load_river_file(DEMO_RIVER)
    return tuple(
        ReachChoice(r.reach_id, r.name, r.km_start, r.km_start + r.length_m / 1000) for r in net.reaches
    )


def open_new_incident(app: App, values: dict | None = None, error: Exception | None = None) -> None:
    """Load the rivers and pollutants in a worker, then show the form."""

    def load() -> None:
        from incident.core.clock import fmt_local, utcnow
        from incident.core.incidents import pollutants
        from incident.core.networks import list_networks
        from incident.core.store.engine import session_scope

        with session_scope(app_state(app).engine) as s:
            networks = list_networks(s)
        app.call_from_thread(_show, networks, pollutants(), fmt_local(utcnow()))

    def _show(networks, pollutant_list, now_text: str) -> None:
        form = NewIncidentForm(networks, pollutant_list, values=values, now_text=now_text)
        if error is not None:
            form.errors, form.error = place_error(error, form.fields)
        app.push_screen(form, lambda v: _create(app, v, pollutant_list) if v else None)

    app.run_worker(load, thread=True, exit_on_error=False, group="incident-new")


def _create(app: App, values: dict, pollutant_list: list) -> None:
    def run() -> None:
        from incident.core.clock import parse_local, utcnow
        from incident.core.incidents import NewIncident, create_incident
        from incident.core.networks import import_network
        from incident.core.rivers import load_river_file
        from incident.core.store.engine import session_scope
        from incident.demo import DEMO_RIVER

        classes = {p.key: p.pollutant_class for p in pollutant_list}
        try:
            with session_scope(app_state(app).engine) as s:
                if values["river"] == DEMO:
                    network_id = import_network(s, load_river_file(DEMO_RIVER)).id
                else:
                    network_id = int(values["river"])
                start = (
                    parse_local(values["release_start"], where="release_start")
                    if values["release_start"]
                    else None
                )
                inc = create_incident(
                    s,
                    NewIncident(
                        title=values["title"],
                        alert_at=utcnow(),
                        river_network_id=network_id,
                        source_reach=values["source_reach"] or None,
                        source_km=_num(values, "source_km") if values["source_reach"] else None,
                        source_lat=_num(values, "source_lat"),
                        source_lon=_num(values, "source_lon"),
                        substance=values["substance"] or None,
                        pollutant_class=classes.get(values["substance"]),
                        mass_kg=_num(values, "mass_kg"),
                        release_start=start,
                        release_duration_h=_num(values, "release_duration_h"),
                    ),
                    actor=app_state(app).settings.user,
                )
                code = inc.code
        except UserError as exc:
            app.call_from_thread(open_new_incident, app, values, exc)
            return
        app.call_from_thread(app.notify, t("newinc.opened", code=code))
        app.call_from_thread(app_state(app).open_incident, code)

    app.run_worker(run, thread=True, exit_on_error=False, group="incident-new")


# ------------------------------------------------------------------ spill: amend


def open_amend_spill(app: App, code: str, values: dict | None = None, error: Exception | None = None) -> None:
    def load() -> None:
        from incident.core.clock import fmt_local
        from incident.core.incidents import get_incident, spill_version
        from incident.core.store.engine import session_scope

        with session_scope(app_state(app).engine) as s:
            inc = get_incident(s, code)
            current = {
                "mass_kg": "" if inc.mass_kg is None else f"{inc.mass_kg:g}",
                "release_start": fmt_local(inc.release_start) if inc.release_start else "",
                "release_duration_h": "" if inc.release_duration_h is None else f"{inc.release_duration_h:g}",
            }
            version = spill_version(s, code)
        app.call_from_thread(_show, current, version)

    def _show(current: dict, version: int) -> None:
        fields = [
            FormField("mass_kg", t("newinc.mass"), current["mass_kg"], kind="number", minimum=0),
            FormField(
                "release_start", t("newinc.start"), current["release_start"], kind="time", required=True
            ),
            FormField(
                "release_duration_h",
                t("newinc.duration"),
                current["release_duration_h"],
                kind="number",
                minimum=0,
            ),
            FormField("reason", t("amend.reason"), "", t("amend.reason_hint"), required=True),
        ]
        errors, top = place_error(error, fields) if error is not None else ({}, None)
        form = FormDialog(
            t("amend.title", code=code, version=version + 1),
            fields,
            values=values,
            errors=errors,
            error=top,
            message=t("amend.help", version=version),
            ok_label=t("amend.ok"),
        )
        app.push_screen(form, lambda v: _amend(app, code, v) if v else None)

    app.run_worker(load, thread=True, exit_on_error=False, group="spill-amend")


def _amend(app: App, code: str, values: dict) -> None:
    def run() -> None:
        from incident.core.clock import parse_local
        from incident.core.store.engine import session_scope
        from incident.plume import amend_and_reforecast

        app.call_from_thread(app.notify, t("amend.running"), timeout=4)
        try:
            with session_scope(app_state(app).engine) as s:
                out = amend_and_reforecast(
                    s,
                    code,
                    mass_kg=_num(values, "mass_kg"),
                    release_start=parse_local(values["release_start"], where="release_start"),
                    release_duration_h=_num(values, "release_duration_h"),
                    reason=values["reason"],
                    actor=app_state(app).settings.user,
                )
        except UserError as exc:
            app.call_from_thread(open_amend_spill, app, code, values, exc)
            return
        app.call_from_thread(app.push_screen, SpillChangeDialog(code, out))

    app.run_worker(run, thread=True, exit_on_error=False, group="spill-amend")


def _fmt_value(name: str, value) -> str:
    from incident.core.clock import fmt_local

    if value is None:
        return "—"
    if name == "release_start":
        return fmt_local(value)
    return f"{value:,.6g} kg" if name == "mass_kg" else f"{value:g} h"


class SpillChangeDialog(Localised, ModalScreen[None]):
    """What the amendment changed: the spill, then every receptor's arrival before and after."""

    DEFAULT_CSS = """
    SpillChangeDialog { align: center middle; }
    SpillChangeDialog > VerticalScroll {
        width: 100%; max-width: 120; height: auto; max-height: 100%;
        border: thick $primary; background: $panel; padding: 0 1;
    }
    SpillChangeDialog Static { height: auto; }
    """
    BINDINGS = [Binding("escape,enter", "close", "key.back", id="spill-change-close")]

    def __init__(self, code: str, amendment) -> None:
        super().__init__()
        self.code = code
        self.amendment = amendment

    def compose(self) -> ComposeResult:
        from incident.core.clock import fmt_when

        a = self.amendment
        spill = Table.grid(padding=(0, 2))
        for _ in range(3):
            spill.add_column()
        spill.add_row(Text(""), Text(t("amend.before"), style="bold"), Text(t("amend.after"), style="bold"))
        for name, label in (
            ("mass_kg", t("newinc.mass")),
            ("release_start", t("newinc.start")),
            ("release_duration_h", t("newinc.duration")),
        ):
            before, after = a.spill.before[name], a.spill.after[name]
            style = "bold yellow" if before != after else ""
            spill.add_row(label, _fmt_value(name, before), Text(_fmt_value(name, after), style=style))
        arrivals = Table(expand=True, box=None, padding=(0, 1), header_style="bold")
        arrivals.add_column(t("dashboard.receptor"), ratio=3, overflow="ellipsis", no_wrap=True)
        arrivals.add_column(t("amend.before"), justify="right", no_wrap=True)
        arrivals.add_column(t("amend.after"), justify="right", no_wrap=True)
        arrivals.add_column(t("amend.change"), justify="right", no_wrap=True)
        for r in a.arrivals:
            receptor = Text(
                f"{r.label} {bilingual(r.name, r.name_zh)}",
                style="bold red" if r.kind == "drinking_water_intake" else "",
            )
            before = fmt_when(r.before_at) if r.before_at else t("dashboard.not_reached")
            after = fmt_when(r.after_at) if r.after_at else t("dashboard.not_reached")
            if r.before_at and r.after_at:
                minutes = (r.after_at - r.before_at).total_seconds() / 60
                change = Text(
                    "±0" if abs(minutes) < 1 else f"{minutes:+.0f}m",
                    style="bold red" if minutes < -1 else "",
                )
            else:
                change = Text("—")
            arrivals.add_row(receptor, before, after, change)
        with VerticalScroll() as box:
            box.border_title = t("amend.done_title", code=self.code, version=a.spill.version)
            yield Static(spill, id="spill-values")
            yield Static(t("amend.arrivals"), classes="muted")
            yield Static(arrivals, id="spill-arrivals")
            yield Static(t("amend.close_hint"), classes="muted")

    def action_close(self) -> None:
        self.dismiss(None)
