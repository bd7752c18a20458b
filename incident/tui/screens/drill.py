"""The drill screen: exercise clock, injects received, timeline metrics, ratings, evaluation.

Also the App mixin behind the palette's "drill: …" entries and the inject timer:
every few seconds the app brings the current drill up to its clock (injects due,
lab results whose turnaround has passed) and shows what arrived as notifications.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Header, Static

from incident.core.clock import fmt_elapsed, fmt_local
from incident.core.errors import UserError
from incident.core.i18n import bilingual, t
from incident.core.store.engine import session_scope
from incident.drills import DrillStatus, drill_status
from incident.tui.base import AppMixin, Localised, app_state
from incident.tui.dialogs.form import FormDialog, FormField
from incident.tui.widgets.exercise_banner import ExerciseBanner
from incident.tui.widgets.plain import Plain, PlainRichTable

if TYPE_CHECKING:
    from incident.drills import InjectView, TickResult

EXERCISE_PREFIX = "EX-"


def is_exercise_code(code: str | None) -> bool:
    # the same rule as incident.drills.exercise, without loading the truth model at start-up
    return bool(code) and str(code).upper().startswith(EXERCISE_PREFIX)


DRILL_TICK_S = 2.0
SHIPPED_SCENARIO = Path(__file__).resolve().parents[2] / "data" / "drills" / "jade_cadmium_night.toml"
RATING_STYLE = {"P": "bold green", "S": "yellow", "M": "bold dark_orange", "U": "bold red"}
METRIC_KEYS = {
    "alert": "drill.m_alert",
    "depart": "drill.m_depart",
    "on_site": "drill.m_on_site",
    "first_sample": "drill.m_first_sample",
    "first_data": "drill.m_first_data",
    "flash_drafted": "drill.m_flash_drafted",
    "first_flash_report": "drill.m_first_flash_report",
}


def one_paragraph(text: str) -> str:
    """Scenario messages are wrapped in the file; let the screen wrap them instead."""
    return " ".join(text.split())


class InjectLogDialog(Localised, ModalScreen[None]):
    """Every inject received so far, with its full message (newest first)."""

    DEFAULT_CSS = """
    InjectLogDialog { align: center middle; }
    InjectLogDialog > VerticalScroll {
        width: 90%; max-width: 78; height: 90%; border: thick $warning; background: $panel; padding: 0 1;
    }
    InjectLogDialog .inject-head { text-style: bold; margin-top: 1; }
    InjectLogDialog Button { margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "close", "key.back", id="inject-log-close")]

    def __init__(self, injects: list[InjectView]) -> None:
        super().__init__()
        self.injects = injects

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = f"{t('app.exercise_marker')} · {t('drill.inject_log_title')}"
            if not self.injects:
                yield Plain(t("drill.no_injects"))
            for inj in reversed(self.injects):
                yield Plain(
                    f"{fmt_elapsed(inj.at_min)} · {inj.sender or '—'} · {inj.title}", classes="inject-head"
                )
                yield Plain(one_paragraph(inj.message))
            yield Button(t("drill.close"), id="inject-log-ok", variant="primary")

    def on_button_pressed(self, _event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class DrillScreen(Localised, Screen):
    DEFAULT_CSS = """
    DrillScreen Grid { grid-size: 2 2; grid-columns: 1fr 1fr; grid-rows: auto 1fr; height: 1fr; }
    DrillScreen #drill-injects { column-span: 2; height: 1fr; }
    DrillScreen #drill-info { height: auto; max-height: 3; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "key.back", id="drill-back"),
        # the drill timer ticks by itself; t (check now) is in F1 help, so f1 Help fits the footer
        Binding("t", "tick", "drill.key.tick", id="drill-tick", show=False),
        Binding("s", "sample", "drill.key.sample", id="drill-sample"),
        Binding("e", "evaluate", "drill.key.evaluate", id="drill-evaluate"),
        Binding("a", "corrective_action", "drill.key.action", id="drill-action"),
        Binding("x", "export", "drill.key.export", id="drill-export"),
        Binding("i", "inject_log", "drill.key.injects", id="drill-injects"),
        Binding("c", "speed", "drill.key.speed", id="drill-speed", show=False),
        Binding("E", "app.drill_end", "key.endex", id="drill-endex", show=False),
    ]

    def __init__(self, code: str, then: str | None = None) -> None:
        super().__init__()
        self.code = code
        self.then = then
        self.status: DrillStatus | None = None

    def rebuild(self) -> DrillScreen:
        return DrillScreen(self.code)

    def compose(self) -> ComposeResult:
        yield Header()
        yield ExerciseBanner(self.code)
        yield Plain("", id="drill-info", classes="muted")
        with Grid():
            yield Plain(t("app.loading"), id="drill-timeline", classes="panel")
            yield Plain("", id="drill-ratings", classes="panel")
            yield Plain("", id="drill-injects", classes="panel")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.code} · {t('drill.title')}"
        self.query_one("#drill-timeline").border_title = t("drill.timeline")
        self.query_one("#drill-ratings").border_title = t("drill.capabilities")
        self.query_one("#drill-injects").border_title = t("drill.injects")
        self.load()
        self.set_interval(10, self.load)

    @work(thread=True, exclusive=True, exit_on_error=False, group="drill-screen")
    def load(self) -> None:
        try:
            with session_scope(app_state(self).engine) as s:
                status = drill_status(s, self.code)
        except UserError as exc:
            self.app.call_from_thread(self.notify, exc.render(), severity="error", timeout=10)
            return
        self.app.call_from_thread(self.show, status)

    def show(self, st: DrillStatus) -> None:
        self.status = st
        self.query_one("#drill-info", Static).update(
            f"{bilingual(st.scenario, st.scenario_zh)} · "
            + t("drill.pending", n=st.pending_results, m=st.upcoming_injects)
        )
        targets = {ev.metric: ev for ev in st.evaluations}
        tl = PlainRichTable.grid(padding=(0, 1), expand=True)
        tl.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        tl.add_column(justify="right", no_wrap=True)
        tl.add_column(justify="right", no_wrap=True)
        for m in st.timeline:
            ev = targets.get(m.name)
            target = Text(f"≤{ev.within_min:g}m", style="dim") if ev and ev.within_min else Text("")
            when = fmt_elapsed(m.value) if m.value is not None else "—"
            tl.add_row(t(METRIC_KEYS.get(m.name, m.name)), when, target)
        self.query_one("#drill-timeline", Static).update(tl)

        rt = PlainRichTable.grid(padding=(0, 1), expand=True)
        rt.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        rt.add_column(no_wrap=True)
        rt.add_column(no_wrap=True)
        for ev in st.evaluations:
            rating = ev.rating or ev.suggested or "·"
            style = RATING_STYLE.get(rating, "dim")
            mark = Text(rating, style=style if ev.rating else f"{style} italic")
            rt.add_row(bilingual(ev.capability, ev.capability_zh), ev.target, mark)
        self.query_one("#drill-ratings", Static).update(rt)

        it = PlainRichTable.grid(padding=(0, 1), expand=True)
        it.add_column(style="bold", no_wrap=True, min_width=7)
        it.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        if not st.injects:
            it.add_row("", t("drill.no_injects"))
        for inj in reversed(st.injects):
            it.add_row(fmt_elapsed(inj.at_min), f"{inj.sender or '—'}: {inj.title}")
        self.query_one("#drill-injects", Static).update(it)
        if self.then:
            then, self.then = self.then, None
            getattr(self, f"action_{then}")()

    # -- actions ------------------------------------------------------------
    def action_tick(self) -> None:
        app_state(self).drill_tick(self.code)

    def action_sample(self) -> None:
        app_state(self).open_drill_sample("")

    def action_inject_log(self) -> None:
        self.app.push_screen(InjectLogDialog(self.status.injects if self.status else []))

    def action_evaluate(self, values: dict | None = None, error: str | None = None) -> None:
        st = self.status
        if st is None:
            return
        pending = next(
            (ev for ev in st.evaluations if not ev.rating), st.evaluations[0] if st.evaluations else None
        )
        settings = app_state(self).settings
        fields = [
            FormField("capability", t("drill.form.capability"), pending.capability if pending else ""),
            FormField("rating", t("drill.form.rating"), (pending.suggested or "") if pending else ""),
            FormField("evaluator", t("drill.form.evaluator"), settings.user),
            FormField("strengths", t("drill.form.strengths")),
            FormField("improvements", t("drill.form.improvements")),
        ]

        def done(result: dict | None) -> None:
            if result is not None:
                self._rate(result)

        self.app.push_screen(
            FormDialog(t("drill.form.evaluate_title"), fields, values=values, error=error), done
        )

    @work(thread=True, exit_on_error=False, group="drill-write")
    def _rate(self, values: dict) -> None:
        from incident.drills import rate

        try:
            with session_scope(app_state(self).engine) as s:
                ev = rate(
                    s,
                    self.code,
                    values["capability"],
                    values["rating"],
                    evaluator=values["evaluator"],
                    strengths=values["strengths"],
                    improvements=values["improvements"],
                )
                text = t("drill.rated", capability=ev.capability, rating=ev.rating)
        except UserError as exc:
            self.app.call_from_thread(self.action_evaluate, values, exc.render())
            return
        self.app.call_from_thread(self.notify, text)
        self.app.call_from_thread(self.load)

    def action_corrective_action(self, values: dict | None = None, error: str | None = None) -> None:
        st = self.status
        first = st.evaluations[0].capability if st and st.evaluations else ""
        fields = [
            FormField("capability", t("drill.form.capability"), first),
            FormField("action", t("drill.form.action")),
            FormField("owner", t("drill.form.owner")),
            FormField("due", t("drill.form.due"), placeholder="2026-12-31"),
        ]

        def done(result: dict | None) -> None:
            if result is not None:
                self._add_action(result)

        self.app.push_screen(
            FormDialog(t("drill.form.action_title"), fields, values=values, error=error), done
        )

    @work(thread=True, exit_on_error=False, group="drill-write")
    def _add_action(self, values: dict) -> None:
        from incident.drills import add_corrective_action

        try:
            with session_scope(app_state(self).engine) as s:
                row = add_corrective_action(
                    s,
                    self.code,
                    values["capability"],
                    values["action"],
                    owner=values["owner"],
                    due=values["due"],
                    actor=app_state(self).settings.user,
                )
                text = t("drill.action_added", capability=row.capability)
        except UserError as exc:
            self.app.call_from_thread(self.action_corrective_action, values, exc.render())
            return
        self.app.call_from_thread(self.notify, text)
        self.app.call_from_thread(self.load)

    def action_export(self, values: dict | None = None, error: str | None = None) -> None:
        from incident.core.config import default_data_dir

        settings = app_state(self).settings
        default = Path(default_data_dir()) / "exports" / f"{self.code}-aar.html"
        fields = [
            FormField("path", t("drill.form.path"), str(default)),
            FormField("lang", t("drill.form.lang"), settings.lang),
        ]

        def done(result: dict | None) -> None:
            if result is not None:
                self._export(result)

        self.app.push_screen(FormDialog(t("drill.form.aar_title"), fields, values=values, error=error), done)

    @work(thread=True, exit_on_error=False, group="drill-write")
    def _export(self, values: dict) -> None:
        from incident.drills import export_aar

        try:
            lang = values["lang"].strip().lower() or "en"
            if lang not in ("en", "zh"):
                raise UserError(
                    "errors.tui.unknown_language", where=t("drill.form.lang"), lang_name=repr(lang)
                )
            path = Path(values["path"]).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            with session_scope(app_state(self).engine) as s:
                out = export_aar(s, self.code, path, actor=app_state(self).settings.user, lang=lang)
        except UserError as exc:
            self.app.call_from_thread(self.action_export, values, exc.render())
            return
        except OSError as exc:
            self.app.call_from_thread(self.action_export, values, f"{values['path']}: {exc.strerror}")
            return
        self.app.call_from_thread(self.notify, t("drill.exported", path=str(out)), timeout=10)

    def action_speed(self, values: dict | None = None, error: str | None = None) -> None:
        current = f"{self.status.speed:g}" if self.status else "1"
        fields = [FormField("speed", t("drill.form.speed"), current)]

        def done(result: dict | None) -> None:
            if result is not None:
                self._speed(result)

        self.app.push_screen(
            FormDialog(t("drill.form.speed_title"), fields, values=values, error=error), done
        )

    @work(thread=True, exit_on_error=False, group="drill-write")
    def _speed(self, values: dict) -> None:
        from incident.drills import set_speed
        from incident.results import parse_number

        try:
            speed = parse_number(values["speed"], "speed", allow_zero=True)
            with session_scope(app_state(self).engine) as s:
                set_speed(s, self.code, speed, actor=app_state(self).settings.user)
        except UserError as exc:
            self.app.call_from_thread(self.action_speed, values, exc.render())
            return
        label = t("drill.paused") if speed == 0 else f"×{speed:g}"
        self.app.call_from_thread(self.notify, t("drill.speed_set", speed=label))
        self.app.call_from_thread(app_state(self).refresh_exercise_banners)
        self.app.call_from_thread(self.load)


class DrillActions(AppMixin):
    """Mixed into the App: the palette's "drill: …" entries and the inject timer."""

    def start_drill_timer(self) -> None:
        self.set_interval(DRILL_TICK_S, self._drill_timer)

    def _drill_timer(self) -> None:
        code = getattr(self, "incident_code", None)
        if is_exercise_code(code):
            self.drill_tick(code)

    @work(thread=True, exclusive=True, exit_on_error=False, group="drill-tick")
    def drill_tick(self, code: str) -> TickResult | None:
        from incident.drills import tick

        try:
            with session_scope(self.engine) as s:
                res = tick(s, code, actor=self.settings.user)
        except UserError:
            return None
        self.call_from_thread(self._drill_ticked, res)
        return res

    def _drill_ticked(self, res: TickResult) -> None:
        for inj in res.injects:
            self.notify(
                one_paragraph(inj.message),
                title=t("drill.inject_title", at=fmt_elapsed(inj.at_min), sender=inj.sender or "—")
                + f"\n{inj.title}",
                severity="warning",
                timeout=30,
            )
        for r in res.results:
            self.notify(
                t("drill.result_text", sample=r.sample, text=r.result_text),
                title=t("drill.result_title"),
                timeout=15,
            )
        if res.injects or res.results:
            from incident.tui.screens.dashboard import DashboardScreen

            for screen in self.screen_stack:
                if isinstance(screen, DrillScreen | DashboardScreen):
                    screen.load()

    def refresh_exercise_banners(self) -> None:
        for screen in self.screen_stack:
            for banner in screen.query(ExerciseBanner):
                banner.load()

    def _need_drill(self) -> str | None:
        code = getattr(self, "incident_code", None)
        if not is_exercise_code(code):
            self.notify(t("drill.no_drill"), severity="warning")
            return None
        return code

    def _open_drill(self, then: str | None = None) -> None:
        code = self._need_drill()
        if code is None:
            return
        current = self.screen
        if isinstance(current, DrillScreen) and current.code == code:
            if then:
                getattr(current, f"action_{then}")()
            return
        self.show_screen(DrillScreen(code, then=then))

    def action_drill_show(self) -> None:
        self._open_drill()

    def action_drill_inject_log(self) -> None:
        self._open_drill("inject_log")

    def action_drill_evaluate(self) -> None:
        self._open_drill("evaluate")

    def action_drill_action(self) -> None:
        self._open_drill("corrective_action")

    def action_drill_export_aar(self) -> None:
        self._open_drill("export")

    def action_drill_speed(self) -> None:
        self._open_drill("speed")

    def action_drill_sample(self) -> None:
        from incident.tui.screens.sampling import SamplingPlanScreen

        current = self.screen
        if isinstance(current, SamplingPlanScreen):
            current.action_drill_sample()
        else:
            self.open_drill_sample("")

    # -- starting a drill ---------------------------------------------------
    def action_drill_start(self, values: dict | None = None, error: str | None = None) -> None:
        fields = [
            FormField("scenario", t("drill.form.scenario"), str(SHIPPED_SCENARIO)),
            FormField("speed", t("drill.form.speed"), placeholder="10"),
        ]

        def done(result: dict | None) -> None:
            if result is not None:
                self._start_drill(result)

        self.push_screen(FormDialog(t("drill.form.start_title"), fields, values=values, error=error), done)

    @work(thread=True, exit_on_error=False, group="drill-write")
    def _start_drill(self, values: dict) -> None:
        from incident.drills import start_drill
        from incident.results import parse_number

        try:
            speed = parse_number(values["speed"], "speed") if values.get("speed") else None
            with session_scope(self.engine) as s:
                inc = start_drill(s, values["scenario"], actor=self.settings.user, speed=speed)
                code, speed_used = inc.code, inc.exercise_speed
        except UserError as exc:
            self.call_from_thread(self.action_drill_start, values, exc.render())
            return
        self.call_from_thread(self._drill_started, code, speed_used)

    def _drill_started(self, code: str, speed: float) -> None:
        self.notify(t("drill.started", code=code, speed=f"{speed:g}"))
        self.open_incident(code)
        self.show_screen(DrillScreen(code))

    # -- sampling -----------------------------------------------------------
    def open_drill_sample(self, point: str, values: dict | None = None, error: str | None = None) -> None:
        code = self._need_drill()
        if code is None:
            return
        fields = [
            FormField("point", t("drill.form.point"), point),
            FormField("method", t("drill.form.method"), placeholder="asv_portable"),
            FormField("sampler", t("drill.form.sampler"), self.settings.user),
        ]

        def done(result: dict | None) -> None:
            if result is not None:
                self._take_sample(code, result)

        self.push_screen(FormDialog(t("drill.form.sample_title"), fields, values=values, error=error), done)

    @work(thread=True, exit_on_error=False, group="drill-write")
    def _take_sample(self, code: str, values: dict) -> None:
        from incident.drills import take_sample

        try:
            with session_scope(self.engine) as s:
                taken = take_sample(
                    s,
                    code,
                    point=values["point"],
                    sampler=values["sampler"],
                    actor=self.settings.user,
                    method=values["method"] or None,
                )
        except UserError as exc:
            self.call_from_thread(self.open_drill_sample, values["point"], values, exc.render())
            return
        text = t(
            "drill.sampled",
            sample=taken.sample,
            point=taken.point,
            due=fmt_local(taken.available_ex_at, with_date=False),
        )
        self.call_from_thread(self.notify, text, timeout=10)
