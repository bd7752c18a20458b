"""The sampling plan (river strip + points) and the crew board (status, assignment, slack).

Both screens need the plume forecast: they ask ``app.get_forecast(code,
extra_points=[(label, reach_id, offset_m)])`` in a worker thread. Kit
readiness comes from ``app.kit_check`` if set, else the readiness service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from incident.core.clock import as_utc, fmt_local, incident_now, utcnow
from incident.core.errors import UserError
from incident.core.i18n import bilingual, t
from incident.core.rivers import RiverNetworkData
from incident.core.store.engine import session_scope
from incident.plume import IncidentForecast
from incident.sampling import ProposedPoint, StripModel, build_strip, plume_along
from incident.tui.base import AppMixin, Localised, app_state, when_given
from incident.tui.dialogs.forms import ConfirmDialog, FormDialog, FormField
from incident.tui.widgets.exercise_banner import ExerciseBanner
from incident.tui.widgets.plain import Plain, PlainTable
from incident.tui.widgets.river_strip import RiverStrip

STATUS_STYLE = {"available": "green", "assigned": "yellow", "out_of_service": "red"}


def fetch_forecast(app, code: str, extra_points: list) -> IncidentForecast | None:
    """The app's forecast callable (wired by the integrator), or None when there is none."""
    getter = getattr(app, "get_forecast", None)
    if getter is None:
        return None
    return getter(code, extra_points=extra_points)


@dataclass
class PlanScreenData:
    net: RiverNetworkData
    source: tuple[str, float]
    points: list[ProposedPoint]
    revision: int | None
    revisions: int
    release: datetime
    model: StripModel
    forecast: IncidentForecast | None
    is_exercise: bool
    now: datetime | None = None  # the exercise clock in a drill


class SamplingPlanScreen(Localised, Screen):
    DEFAULT_CSS = """
    SamplingPlanScreen #plan-table { height: 1fr; }
    SamplingPlanScreen #plan-info { height: auto; max-height: 2; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "key.back", id="plan-back"),
        Binding("left_square_bracket", "step(-1)", "sampling_plan.key_earlier", id="plan-earlier"),
        Binding("right_square_bracket", "step(1)", "sampling_plan.key_later", id="plan-later"),
        Binding(
            "left_curly_bracket", "step(-6)", "sampling_plan.key_earlier6", id="plan-earlier6", show=False
        ),
        Binding("right_curly_bracket", "step(6)", "sampling_plan.key_later6", id="plan-later6", show=False),
        Binding("p", "propose", "sampling_plan.key_propose", id="plan-propose"),
        Binding("n", "insert", "sampling_plan.key_insert", id="plan-insert"),
        Binding("x", "remove", "sampling_plan.key_remove", id="plan-remove"),
        Binding("c", "crews", "sampling_plan.key_crews", id="plan-crews"),
        Binding("r", "reload", "key.refresh", id="plan-reload", show=False),
        Binding("o", "app.rounds_show", "key.rounds", id="plan-rounds", show=False),
        Binding("g", "app.plan_export", "key.plan_export", id="plan-export", show=False),
        Binding("s", "drill_sample", "drill.key.sample", id="plan-drill-sample"),
    ]

    def __init__(self, code: str, then: str | None = None) -> None:
        super().__init__()
        self.code = code
        self.then = then  # an action to run once the data is in (from the palette)
        self.data: PlanScreenData | None = None
        self.at_h: float | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # drill sampling only exists in an exercise: hidden from the footer otherwise
        if action == "drill_sample":
            return bool(self.data and self.data.is_exercise) or None
        return True

    def action_drill_sample(self) -> None:
        point = self._selected()
        app_state(self).open_drill_sample(point.number if point else "")

    def rebuild(self) -> SamplingPlanScreen:
        return SamplingPlanScreen(self.code)

    def compose(self) -> ComposeResult:
        yield Header()
        yield ExerciseBanner(self.code)
        yield RiverStrip(id="river-strip")
        yield Plain(t("app.loading"), id="plan-info", classes="muted")
        yield PlainTable(id="plan-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.code} · {t('sampling_plan.title')}"
        self.query_one("#river-strip").border_title = t("sampling_plan.strip")
        table = self.query_one(DataTable)
        table.add_columns(
            t("sampling_plan.col_no"),
            t("sampling_plan.col_role"),
            t("sampling_plan.col_km"),
            t("sampling_plan.col_from_source"),
            t("sampling_plan.col_arrival"),
            t("sampling_plan.col_vd"),
            t("sampling_plan.col_name"),
        )
        self.load()

    # -- data -------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="plan")
    def load(self) -> None:
        try:
            data = self._read()
        except UserError as exc:
            self.app.call_from_thread(self.notify, exc.render(), severity="error", timeout=10)
            return
        self.app.call_from_thread(self.show_data, data)

    def _read(self, forecast: IncidentForecast | None = None) -> PlanScreenData:
        from incident.core.incidents import get_incident
        from incident.sampling import has_plan, incident_river, plan_view

        with session_scope(app_state(self).engine) as s:
            inc = get_incident(s, self.code)
            net, reach, offset = incident_river(s, inc)
            view = plan_view(s, self.code) if has_plan(s, self.code) else None
            points = view.points if view else []
            release = as_utc(inc.release_start or inc.alert_at)
            is_exercise = inc.is_exercise
            now = incident_now(inc)
        if forecast is None:
            extra = [(p.number, p.reach_id, p.offset_m) for p in points]
            forecast = fetch_forecast(self.app, self.code, extra)
        if forecast is not None:
            release = as_utc(forecast.release_start)
        return PlanScreenData(
            net=net,
            source=(reach, offset),
            points=points,
            revision=view.revision.revision if view else None,
            revisions=len(view.revisions) if view else 0,
            release=release,
            model=build_strip(net, (reach, offset), points, forecast),
            forecast=forecast,
            is_exercise=is_exercise,
            now=now,
        )

    def show_data(self, data: PlanScreenData) -> None:
        self.data = data
        self.refresh_bindings()
        if self.at_h is None:
            now_h = ((data.now or utcnow()) - data.release).total_seconds() / 3600
            self.at_h = max(0.0, round(now_h))
        table = self.query_one(DataTable)
        table.clear()
        for p in data.points:
            arrival = "—"
            if p.arrival_h is not None:
                arrival = f"{fmt_local(data.release + timedelta(hours=p.arrival_h), with_date=False)} +{p.arrival_h:.1f}h"
            number = Text(p.number, style="bold red" if p.mandatory else "")
            name = bilingual(p.name, p.name_zh)
            if not p.active:
                number.stylize("strike dim")
                name = f"{t('sampling_plan.removed')}: {p.removed_reason}"
            table.add_row(
                number,
                t(f"sampling_role.{p.role}"),
                f"{p.km:.1f}",
                f"{p.distance_from_source_m / 1000:+.1f}",
                arrival,
                f"{p.verticals}×{p.points_per_vertical}",
                name,
                key=p.number,
            )
        info = self.query_one("#plan-info", Static)
        if data.revision is None:
            info.update(t("sampling_plan.none"))
        else:
            mandatory = sum(p.mandatory and p.active for p in data.points)
            info.update(
                t(
                    "sampling_plan.info",
                    revision=data.revision,
                    revisions=data.revisions,
                    n=sum(p.active for p in data.points),
                    m=mandatory,
                )
                + ("" if data.forecast else "  " + t("sampling_plan.no_forecast"))
            )
        if data.is_exercise:
            self.sub_title = f"{t('app.exercise_marker')} · {self.code} · {t('sampling_plan.title')}"
        self.redraw_strip()
        if self.then:
            then, self.then = self.then, None
            getattr(self, f"action_{then}")()

    def redraw_strip(self) -> None:
        if self.data is None:
            return
        d = self.data
        plume = plume_along(d.net, d.source, d.forecast, self.at_h or 0.0) if d.forecast else []
        self.query_one(RiverStrip).show(d.model, plume, self.at_h or 0.0, d.release)

    # -- actions ----------------------------------------------------------
    def action_step(self, hours: int) -> None:
        if self.data is None:
            return
        horizon = self.data.forecast.horizon_h if self.data.forecast else 72.0
        self.at_h = min(max(0.0, (self.at_h or 0.0) + hours), horizon)
        self.redraw_strip()

    def action_reload(self) -> None:
        self.load()

    def action_crews(self) -> None:
        self.app.push_screen(CrewBoardScreen(self.code))

    def action_propose(self) -> None:
        if self.data is not None and self.data.revision is not None:
            self.notify(t("sampling_plan.exists"), severity="warning")
            return
        self.app.push_screen(
            ConfirmDialog(
                t("sampling_plan.propose_title"),
                t("sampling_plan.propose_body"),
                t("sampling_plan.key_propose"),
            ),
            when_given(lambda yes: self._propose()),
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="plan-write")
    def _propose(self) -> None:
        from incident.sampling import propose_plan, requests_for

        try:
            with session_scope(app_state(self).engine) as s:
                extra = requests_for(s, self.code)
            forecast = fetch_forecast(self.app, self.code, extra)
            if forecast is None:
                raise UserError("sampling_plan.no_forecast")
            with session_scope(app_state(self).engine) as s:
                view, proposal = propose_plan(s, self.code, forecast, actor=app_state(self).settings.user)
            data = self._read(forecast)
        except UserError as exc:
            self.app.call_from_thread(self.notify, exc.render(), severity="error", timeout=10)
            return
        self.app.call_from_thread(self.show_data, data)
        msg = t("sampling_plan.proposed", n=len(proposal.points))
        for note in proposal.notes:
            msg += "\n• " + note
        self.app.call_from_thread(self.notify, msg, timeout=10)

    def _selected(self) -> ProposedPoint | None:
        table = self.query_one(DataTable)
        if self.data is None or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((p for p in self.data.points if p.number == key), None)

    def action_insert(self) -> None:
        if self.data is None or self.data.revision is None:
            self.notify(t("sampling_plan.none"), severity="warning")
            return
        sel = self._selected()
        fields: list[tuple[str, str, str, bool] | FormField] = [
            FormField(
                "km",
                t("sampling_plan.field_km"),
                f"{sel.km + 0.5:.1f}" if sel else "",
                required=True,
                kind="number",
            ),
            ("after", t("sampling_plan.field_after"), sel.number if sel else "", False),
            ("reason", t("sampling_plan.field_reason"), "", True),
            ("requires", t("sampling_plan.field_requires"), "", False),
        ]
        self.app.push_screen(
            FormDialog(t("sampling_plan.insert_title"), fields, message=t("sampling_plan.insert_help")),
            self._insert,
        )

    def _insert(self, values: dict | None) -> None:
        if values:
            self._do_insert(values)

    @work(thread=True, exclusive=True, exit_on_error=False, group="plan-write")
    def _do_insert(self, values: dict) -> None:
        from incident.core.inputs import parse_number
        from incident.sampling import _locate, insert_point

        try:
            km = parse_number(values["km"], field="km", label=t("sampling_plan.field_km"))
            d = self.data
            assert d is not None
            reach, offset = _locate(d.net, km, None, d.source)
            extra = [(p.number, p.reach_id, p.offset_m) for p in d.points] + [("new", reach, offset)]
            forecast = fetch_forecast(self.app, self.code, extra)
            with session_scope(app_state(self).engine) as s:
                point = insert_point(
                    s,
                    self.code,
                    km=km,
                    reason=values["reason"],
                    actor=app_state(self).settings.user,
                    after=values["after"] or None,
                    requires=values["requires"] or None,
                    forecast=forecast,
                )
            data = self._read(forecast)
        except UserError as exc:
            self.app.call_from_thread(self.notify, exc.render(), severity="error", timeout=10)
            return
        self.app.call_from_thread(self.show_data, data)
        self.app.call_from_thread(
            self.notify, t("sampling_plan.inserted", number=point.number, km=f"{point.km:.1f}")
        )

    def action_remove(self) -> None:
        sel = self._selected()
        if sel is None or not sel.active:
            self.notify(t("sampling_plan.pick_point"), severity="warning")
            return
        message = t(
            "sampling_plan.remove_mandatory" if sel.mandatory else "sampling_plan.remove_body",
            number=sel.number,
            name=sel.name,
        )
        self.app.push_screen(
            FormDialog(
                t("sampling_plan.remove_title", number=sel.number),
                [("reason", t("sampling_plan.field_reason"), "", True)],
                message=message,
                ok_label=t("sampling_plan.key_remove"),
            ),
            when_given(lambda values: self._do_remove(sel.number, cast(dict, values)["reason"])),
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="plan-write")
    def _do_remove(self, number: str, reason: str) -> None:
        from incident.sampling import remove_point

        try:
            with session_scope(app_state(self).engine) as s:
                remove_point(s, self.code, number, reason=reason, actor=app_state(self).settings.user)
            data = self._read(self.data.forecast if self.data else None)
        except UserError as exc:
            self.app.call_from_thread(self.notify, exc.render(), severity="error", timeout=10)
            return
        self.app.call_from_thread(self.show_data, data)
        self.app.call_from_thread(self.notify, t("sampling_plan.removed_note", number=number))


# ---------------------------------------------------------------- crew board


class CrewBoardScreen(Localised, Screen):
    DEFAULT_CSS = """
    CrewBoardScreen #crew-table { height: 1fr; }
    CrewBoardScreen #crew-info { height: auto; max-height: 6; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "key.back", id="crew-back"),
        Binding("a", "assign", "crew_board.key_assign", id="crew-assign"),
        Binding("k", "checkin", "crew_board.key_checkin", id="crew-checkin"),
        Binding("s", "status", "crew_board.key_status", id="crew-status"),
        Binding("r", "reload", "key.refresh", id="crew-reload", show=False),
    ]

    def __init__(self, code: str, then: str | None = None) -> None:
        super().__init__()
        self.code = code
        self.then = then  # an action to run once the crews are in (from the palette)
        self.crews: list = []

    def rebuild(self) -> CrewBoardScreen:
        return CrewBoardScreen(self.code)

    def compose(self) -> ComposeResult:
        yield Header()
        yield ExerciseBanner(self.code)
        yield PlainTable(id="crew-table", cursor_type="row", zebra_stripes=True)
        yield Plain("", id="crew-info", classes="muted")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.code} · {t('crew_board.title')}"
        self._add_columns()
        self.load()

    def _add_columns(self, rows: list[list] | None = None) -> None:
        """The columns, each as wide as its widest cell: fixed widths, so the table does not show
        header-wide columns until its next idle moment (seen at 120×40 and in snapshots)."""
        labels = [
            t("crew_board.col_crew"),
            t("crew_board.col_status"),
            t("crew_board.col_since"),
            t("crew_board.col_leader"),
            t("crew_board.col_people"),
            t("crew_board.col_assignment"),
            t("crew_board.col_slack"),
        ]
        table = self.query_one(DataTable)
        for i, label in enumerate(labels):
            widths = [(r[i] if isinstance(r[i], Text) else Text(str(r[i]))).cell_len for r in rows or []]
            table.add_column(label, width=max([Text(label).cell_len, *widths]))

    @work(thread=True, exclusive=True, exit_on_error=False, group="crews")
    def load(self) -> None:
        from incident.sampling import current_assignments, list_crews

        with session_scope(app_state(self).engine) as s:
            crews = list_crews(s, code=self.code)
            assigned = current_assignments(s, self.code)
        self.app.call_from_thread(self.show, crews, assigned)

    def show(self, crews, assigned) -> None:
        self.crews = crews
        table = self.query_one(DataTable)
        row = table.cursor_row
        # columns afresh with the rows, sized to them
        table.clear(columns=True)
        rows = []
        for c in crews:
            point, slack, _eta = assigned.get(c.name, ("—", None, None))
            slack_text = Text("—")
            if slack is not None:
                slack_text = Text(f"{slack:+.0f} min", style="bold red" if slack < 0 else "green")
            rows.append(
                [
                    c.name,
                    Text(t(f"status.{c.status}"), style=STATUS_STYLE.get(c.status, "")),
                    fmt_local(c.status_changed_at, with_date=False),
                    c.leader,
                    str(c.headcount),
                    point,
                    slack_text,
                ]
            )
        self._add_columns(rows)
        for c, cells in zip(crews, rows, strict=True):
            table.add_row(*cells, key=c.name)
        if crews:
            table.move_cursor(row=min(row, len(crews) - 1))
        checked = [c.name for c in crews if c.checked_in_at]
        self.query_one("#crew-info", Static).update(
            t("crew_board.checked_in", names=", ".join(checked) or "—")
        )
        if self.then:
            then, self.then = self.then, None
            getattr(self, f"action_{then}")()

    def action_reload(self) -> None:
        self.load()

    def _selected(self):
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((c for c in self.crews if c.name == key), None)

    # -- check-in and status ----------------------------------------------
    def action_checkin(self) -> None:
        crew = self._selected()
        if crew is None:
            return
        fields: list[tuple[str, str, str, bool] | FormField] = [
            ("leader", t("crew_board.field_leader"), crew.leader, True),
            FormField(
                "headcount",
                t("crew_board.field_headcount"),
                str(crew.headcount),
                required=True,
                kind="whole",
                minimum=1,
            ),
            ("departure", t("crew_board.field_departure"), crew.base_name, True),
            ("travel", t("crew_board.field_travel"), "vehicle", False),
        ]
        self.app.push_screen(
            FormDialog(
                t("crew_board.checkin_title", crew=crew.name), fields, ok_label=t("crew_board.key_checkin")
            ),
            when_given(lambda values: self._do_checkin(crew.name, values)),
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="crew-write")
    def _do_checkin(self, crew: str, values: dict) -> None:
        from incident.core.inputs import parse_number
        from incident.sampling import check_in

        try:
            headcount = int(
                parse_number(
                    values["headcount"], field="headcount", label=t("crew_board.field_headcount"), whole=True
                )
            )
            with session_scope(app_state(self).engine) as s:
                check_in(
                    s,
                    self.code,
                    crew,
                    actor=app_state(self).settings.user,
                    leader=values["leader"],
                    headcount=headcount,
                    departure_point=values["departure"],
                    travel_method=values["travel"] or "vehicle",
                )
        except UserError as exc:
            self.app.call_from_thread(self.notify, exc.render(), severity="error", timeout=10)
            return
        self.app.call_from_thread(self.notify, t("crew_board.checked_in_note", crew=crew))
        self.load()

    def action_status(self) -> None:
        crew = self._selected()
        if crew is None:
            return
        options = [(s, t(f"status.{s}")) for s in ("available", "assigned", "out_of_service")]
        self.app.push_screen(
            FormDialog(
                t("crew_board.status_title", crew=crew.name),
                [("note", t("crew_board.field_note"), "", False)],
                message=t("crew_board.status_help"),
                choices=("status", options, crew.status),
                ok_label=t("crew_board.key_status"),
            ),
            when_given(lambda values: self._do_status(crew.name, values)),
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="crew-write")
    def _do_status(self, crew: str, values: dict) -> None:
        from incident.sampling import set_status

        try:
            with session_scope(app_state(self).engine) as s:
                set_status(
                    s,
                    crew,
                    values["status"],
                    actor=app_state(self).settings.user,
                    code=self.code,
                    note=values["note"],
                )
        except UserError as exc:
            self.app.call_from_thread(self.notify, exc.render(), severity="error", timeout=10)
            return
        self.load()

    # -- assignment ---------------------------------------------------------
    def action_assign(self) -> None:
        self._compute_assignment()

    @work(thread=True, exclusive=True, exit_on_error=False, group="crew-write")
    def _compute_assignment(self) -> None:
        from incident.sampling import default_crew_check, default_kit_check, plan_assignment

        try:
            kit_check = getattr(self.app, "kit_check", None) or default_kit_check()
            with session_scope(app_state(self).engine) as s:
                # crews that are NOT READY are not routed: the dispatch gate would refuse them
                plan = plan_assignment(s, self.code, kit_check=kit_check, crew_check=default_crew_check())
        except UserError as exc:
            self.app.call_from_thread(self.notify, exc.render(), severity="error", timeout=10)
            return
        self.app.call_from_thread(self._confirm_assignment, plan)

    def _confirm_assignment(self, plan) -> None:
        body = Text()
        for x in plan.lines:
            slack = "—" if x.slack_min is None else f"{x.slack_min:+.0f} min"
            style = "bold red" if x.slack_min is not None and x.slack_min < 0 else ""
            body.append(
                f"{x.crew} {x.stop}. {x.point} {x.point_name[:26]}  ETA {fmt_local(x.eta, with_date=False)}  ",
                style=style,
            )
            body.append(f"{t('crew_board.col_slack')} {slack}\n", style=style)
        for u in plan.unmet:
            star = " ★" if u.mandatory else ""
            body.append(
                f"{t('crew_board.unmet')}{star} {u.point} {u.point_name[:30]}: {'; '.join(u.reasons)}\n",
                style="bold red",
            )
        if plan.later:
            body.append(
                t("crew_board.later", points=", ".join(u.point for u in plan.later)) + "\n", style="dim"
            )
        if not plan.lines:
            self.notify(t("crew_board.nothing_to_assign") + "\n" + body.plain, severity="warning", timeout=10)
            return
        self.app.push_screen(
            ConfirmDialog(t("crew_board.assign_title", n=len(plan.lines)), body, t("crew_board.dispatch")),
            when_given(lambda yes: self._dispatch(plan)),
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="crew-write")
    def _dispatch(self, plan) -> None:
        from incident.sampling import dispatch

        try:
            with session_scope(app_state(self).engine) as s:
                dispatch(s, plan, actor=app_state(self).settings.user)
        except UserError as exc:
            self.app.call_from_thread(self.notify, exc.render(), severity="error", timeout=10)
            return
        self.app.call_from_thread(self.notify, t("crew_board.dispatched", n=len(plan.lines)))
        self.load()


# ---------------------------------------------------------------- app actions (palette)


class SamplingActions(AppMixin):
    """Mixed into the App: the palette's "plan: …" and "crew: …" entries."""

    def _need_incident(self) -> str | None:
        code = getattr(self, "incident_code", None)
        if code is None:
            self.notify(t("app.no_incident"), severity="warning")
        return code

    def _open(self, screen_type, then: str | None = None) -> None:
        code = self._need_incident()
        if code is None:
            return
        current = self.screen
        if isinstance(current, screen_type) and current.code == code:
            if then:
                getattr(current, f"action_{then}")()
            return
        self.show_screen(screen_type(code, then=then))

    def action_plan_show(self) -> None:
        self._open(SamplingPlanScreen)

    def action_plan_propose(self) -> None:
        self._open(SamplingPlanScreen, "propose")

    def action_plan_insert(self) -> None:
        self._open(SamplingPlanScreen, "insert")

    def action_crew_board(self) -> None:
        self._open(CrewBoardScreen)

    def action_crew_assign(self) -> None:
        self._open(CrewBoardScreen, "assign")

    def action_crew_checkin(self) -> None:
        self._open(CrewBoardScreen, "checkin")

    def action_crew_status(self) -> None:
        self._open(CrewBoardScreen, "status")
