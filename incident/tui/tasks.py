"""Incident tasks that had only a CLI: result correction, QC, custody, rounds, the plan's
GeoJSON export and ENDEX. Each is an app action with a palette entry ("result: correct",
"qc: show", "custody: hand off", "rounds: show", "round: mark sampled", "rounds: regenerate",
"plan: export GeoJSON", "drill: end (ENDEX)") and calls the same room APIs as the CLI.

Forms are the shared form; a refusal reopens it with what was typed and the refusal under
its field. Every blocking call runs in a thread worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, cast

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from incident.core.errors import UserError
from incident.core.i18n import t
from incident.tui.base import AppMixin, Localised, render_error
from incident.tui.dialogs.form import ConfirmDialog, FormDialog, FormField, place_error

#: the latest hour after the release a plan export draws the plume at (a month; later is a slip)
MAX_PLUME_AT_H = 720.0


class InfoDialog(Localised, ModalScreen[None]):
    """Read-only tables (QC, rounds); Esc or Enter closes; scrolls at 80×24."""

    DEFAULT_CSS = """
    InfoDialog { align: center middle; }
    InfoDialog > VerticalScroll {
        width: 100%; max-width: 120; height: auto; max-height: 100%;
        border: thick $primary; background: $panel; padding: 0 1;
    }
    InfoDialog Static { height: auto; }
    """
    BINDINGS = [Binding("escape,enter", "close", "key.back", id="info-close")]

    def __init__(self, title: str, body, hint: str = "") -> None:
        super().__init__()
        self.title_text, self.body, self.hint = title, body, hint

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="info-body") as box:
            box.border_title = self.title_text
            yield Static(self.body, id="info-content")
            if self.hint:
                yield Static(self.hint, classes="muted", id="info-hint")

    def on_mount(self) -> None:
        self.query_one("#info-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)


class RoundsDialog(InfoDialog):
    BINDINGS = [
        Binding("escape,enter", "close", "key.back", id="rounds-close"),
        Binding("g", "regenerate", "tasks.key_regenerate", id="rounds-regenerate"),
        Binding("k", "mark", "tasks.key_mark", id="rounds-mark"),
    ]

    def action_regenerate(self) -> None:
        self.dismiss(None)
        self.app.call_later(self.app.run_action, "rounds_regenerate")

    def action_mark(self) -> None:
        self.dismiss(None)
        self.app.call_later(self.app.run_action, "round_mark")


def _table(headers: list[str], rows: list[list], *, justify_last: bool = False) -> Table:
    table = Table(expand=True, box=None, padding=(0, 1), header_style="bold")
    for h in headers:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*[c if isinstance(c, Text) else Text(str(c)) for c in row])
    return table


class _ResultsSelection(Protocol):
    """What the tasks read of the results screen, when it is the one shown."""

    samples: dict[str, str]

    def selected_point(self) -> str | None: ...

    def selected_result_id(self) -> int | None: ...


class TaskActions(AppMixin):
    """Mixed into the App (like SamplingActions and DrillActions)."""

    # ------------------------------------------------------------------ helpers
    def _need_incident(self) -> str | None:
        code = self.incident_code
        if code is None:
            self.notify(t("app.no_incident"), severity="warning")
        return code

    def _results_selection(self) -> tuple[str, int | None]:
        """(sample code, result id) of the row selected on the results screen, if it is shown."""
        if type(self.screen).__name__ != "ResultsScreen":
            return "", None
        screen = cast(_ResultsSelection, self.screen)
        point = screen.selected_point()
        sample = screen.samples.get(point or "", "")
        return sample, screen.selected_result_id()

    def _run(self, job, done, *, retry=None, group: str = "task") -> None:
        """Run ``job()`` in a thread; ``done(value)`` on the UI thread, or ``retry(exc)`` on a refusal."""

        def work() -> None:
            try:
                value = job()
            except UserError as exc:
                if retry is not None:
                    self.call_from_thread(retry, exc)
                else:
                    self.call_from_thread(self.notify, render_error(exc), severity="error", timeout=12)
                return
            self.call_from_thread(done, value)

        self.run_worker(work, thread=True, exit_on_error=False, group=group)

    def _session(self):
        from incident.core.store.engine import session_scope

        return session_scope(self.engine)

    def _refresh_screen(self) -> None:
        load = getattr(self.screen, "load", None)
        if callable(load):
            load()

    # ------------------------------------------------------------------ result: correct
    def action_result_correct(self, values: dict | None = None, error: Exception | None = None) -> None:
        code = self._need_incident()
        if code is None:
            return
        _sample, result_id = self._results_selection()
        if values is None and result_id is not None:
            self._run(
                lambda: self._result_fields(code, result_id),
                lambda prefilled: self._correct_form(code, prefilled, None),
            )
            return
        self._correct_form(code, values or {}, error)

    def _result_fields(self, code: str, result_id: int) -> dict:
        from incident.core.store.tables import Result
        from incident.results import input_from_result

        with self._session() as s:
            raw = input_from_result(s, s.get(Result, result_id))
        value = raw.value if raw.value is not None else (raw.detected or "")
        return {
            "result_id": str(result_id),
            "value": value,
            "unit": raw.unit,
            "dl": raw.detection_limit or "",
            "method": raw.method,
        }

    def _correct_form(self, code: str, values: dict, error: Exception | None) -> None:
        fields = [
            FormField("result_id", t("tasks.result_id"), "", t("tasks.result_id_hint"), required=True),
            FormField("value", t("form.value"), "", t("form.value_hint"), required=True),
            FormField("unit", t("form.unit"), "mg/L"),
            FormField("dl", t("form.dl"), ""),
            FormField("method", t("form.method"), "", t("form.method_hint")),
            FormField("reason", t("tasks.reason"), "", t("tasks.correct_reason_hint"), required=True),
        ]
        errors, top = place_error(error, fields) if error is not None else ({}, None)
        form = FormDialog(
            t("tasks.correct_title", code=code),
            fields,
            values=values,
            errors=errors,
            error=top,
            message=t("tasks.correct_help"),
            ok_label=t("tasks.correct_ok"),
        )
        self.push_screen(form, lambda v: self._correct(code, v) if v else None)

    def _correct(self, code: str, v: dict) -> None:
        from dataclasses import replace

        def job():
            from incident.core.store.tables import Result
            from incident.results import correct_result, input_from_result

            try:
                result_id = int(v["result_id"].lstrip("#"))
            except ValueError:
                raise UserError("errors.tasks.bad_result_id", field="result_id") from None
            with self._session() as s:
                old = s.get(Result, result_id)
                if old is None:
                    raise UserError("errors.tasks.no_result", field="result_id", id=result_id)
                value = v["value"]
                detected = None
                if value.lower() in ("yes", "no", "是", "否", "检出", "阳性", "阴性"):
                    detected, value = value, None
                raw = replace(
                    input_from_result(s, old),
                    value=value or None,
                    detected=detected,
                    unit=v["unit"],
                    detection_limit=v["dl"] or None,
                    method=v["method"],
                )
                view = correct_result(s, code, result_id, raw, reason=v["reason"], actor=self.settings.user)
                return view.id, view.text

        def done(out) -> None:
            self.notify(t("tasks.corrected", old=v["result_id"], id=out[0], text=out[1]))
            self._refresh_screen()

        self._run(job, done, retry=lambda exc: self.action_result_correct(v, exc))

    # ------------------------------------------------------------------ result: confirm a flag
    def action_result_confirm(self, values: dict | None = None, error: Exception | None = None) -> None:
        """A person confirms a flagged result anyway, with a reason (logged): it counts from then on."""
        code = self._need_incident()
        if code is None:
            return
        _sample, result_id = self._results_selection()
        if values is None:
            values = {"result_id": str(result_id) if result_id is not None else "", "reason": ""}
        rid = values.get("result_id", "")

        def job() -> str:
            from incident.results import result_record

            if not rid.lstrip("#").isdigit():
                return ""
            with self._session() as s:
                return result_record(s, code, int(rid.lstrip("#"))).flag_text()

        self._run(job, lambda flag: self._confirm_form(code, values, flag, error))

    def _confirm_form(self, code: str, values: dict, flag: str, error: Exception | None) -> None:
        fields = [
            FormField("result_id", t("tasks.result_id"), "", t("tasks.result_id_hint"), required=True),
            FormField("reason", t("tasks.reason"), "", t("flags.confirm_reason_hint"), required=True),
        ]
        errors, top = place_error(error, fields) if error is not None else ({}, None)
        form = FormDialog(
            t("flags.confirm_title", code=code),
            fields,
            values=values,
            errors=errors,
            error=top,
            message=t("flags.confirm_help", flag=flag or t("flags.none_shown")),
            ok_label=t("flags.confirm_ok"),
        )
        self.push_screen(form, lambda v: self._confirm(code, v) if v else None)

    def _confirm(self, code: str, v: dict) -> None:
        def job() -> int:
            from incident.results import confirm_result

            try:
                result_id = int(v["result_id"].lstrip("#"))
            except ValueError:
                raise UserError("errors.tasks.bad_result_id", field="result_id") from None
            with self._session() as s:
                return confirm_result(s, code, result_id, reason=v["reason"], actor=self.settings.user).id

        def done(result_id: int) -> None:
            self.notify(t("flags.confirmed", id=result_id))
            self._refresh_screen()

        self._run(job, done, retry=lambda exc: self._confirm_form(code, v, "", exc))

    # ------------------------------------------------------------------ qc: show
    def action_qc_show(self) -> None:
        code = self._need_incident()
        if code is None:
            return

        def job():
            from incident.results import qc_summary

            with self._session() as s:
                return qc_summary(s, code)

        self._run(
            job,
            lambda summary: self.push_screen(
                InfoDialog(t("tasks.qc_title", code=code), _qc_body(summary), t("tasks.close_hint"))
            ),
        )

    # ------------------------------------------------------------------ custody: hand off
    def action_custody_handoff(self, values: dict | None = None, error: Exception | None = None) -> None:
        code = self._need_incident()
        if code is None:
            return
        sample, _rid = self._results_selection()
        sample = (values or {}).get("sample", sample)

        def job():
            import incident.results as results

            if not sample:
                return "", []
            with self._session() as s:
                smp = results.get_sample(s, sample, where="sample")
                who, _since = results.holder(s, smp)
                return who, results.chain(s, smp)

        def show(out) -> None:
            who, steps = out
            self._custody_form(code, sample, who, steps, values, error)

        self._run(job, show, retry=lambda exc: self._custody_form(code, sample, "", [], values, exc))

    def _custody_form(self, code, sample, who, steps, values, error) -> None:
        from incident.core.clock import fmt_local

        conditions = tuple(
            (c, t(f"tasks.condition.{c}"))
            for c in ("intact", "seal_broken", "leaking", "damaged", "temperature_exceeded", "other")
        )
        fields = [
            FormField("sample", t("form.sample"), sample, "", required=True),
            FormField("from_person", t("tasks.from"), who, required=True),
            FormField("to_person", t("tasks.to"), "", t("tasks.to_hint"), required=True),
            FormField("condition", t("tasks.condition_label"), "intact", choices=conditions),
            FormField("note", t("tasks.note"), "", t("tasks.note_hint")),
        ]
        history = "\n".join(
            f"{fmt_local(st.at)}  {st.from_person} → {st.to_person} ({t(f'tasks.condition.{st.condition}')})"
            for st in steps
        )
        message = t("tasks.custody_help") + (f"\n{history}" if history else "")
        errors, top = place_error(error, fields) if error is not None else ({}, None)
        form = FormDialog(
            t("tasks.custody_title", code=code),
            fields,
            values=values,
            errors=errors,
            error=top,
            message=message,
            ok_label=t("tasks.custody_ok"),
        )
        self.push_screen(form, lambda v: self._handoff(code, v) if v else None)

    def _handoff(self, code: str, v: dict) -> None:
        def job():
            import incident.results as results

            with self._session() as s:
                steps = results.hand_off(
                    s,
                    v["sample"],
                    from_person=v["from_person"],
                    to_person=v["to_person"],
                    actor=self.settings.user,
                    condition=v["condition"],
                    note=v["note"],
                )
            return steps[-1]

        def done(step) -> None:
            self.notify(t("tasks.handed_off", sample=v["sample"], to=step.to_person))

        self._run(job, done, retry=lambda exc: self.action_custody_handoff(v, exc))

    # ------------------------------------------------------------------ rounds
    def action_rounds_show(self) -> None:
        code = self._need_incident()
        if code is None:
            return

        def job():
            from incident.sampling import list_rounds

            with self._session() as s:
                return list_rounds(s, code)

        def show(rounds) -> None:
            from incident.core.clock import fmt_when

            rows = [
                [
                    r.number,
                    fmt_when(r.at),
                    f"+{r.at_h:.1f} h",
                    t(f"tasks.purpose.{r.purpose}"),
                    t(f"tasks.round_status.{r.status}"),
                ]
                for r in rounds
            ]
            body = (
                _table(
                    [
                        t("tasks.round"),
                        t("tasks.time"),
                        t("tasks.after_release"),
                        t("tasks.purpose_label"),
                        t("tasks.status"),
                    ],
                    rows,
                )
                if rows
                else Text(t("tasks.no_rounds"))
            )
            self.push_screen(RoundsDialog(t("tasks.rounds_title", code=code), body, t("tasks.rounds_hint")))

        self._run(job, show)

    def action_rounds_regenerate(self) -> None:
        code = self._need_incident()
        if code is None:
            return

        def job():
            from incident.plume import forecast_incident
            from incident.sampling import plan_view, regenerate

            with self._session() as s:
                view = plan_view(s, code)
                extra = [(p.number, p.reach_id, p.offset_m) for p in view.points]
                forecast = forecast_incident(s, code, extra_points=extra)
                return regenerate(s, code, actor=self.settings.user, forecast=forecast)

        def done(rounds) -> None:
            self.notify(t("tasks.regenerated", n=len(rounds)))
            self.action_rounds_show()

        self.push_screen(
            ConfirmDialog(t("tasks.regenerate_title"), t("tasks.regenerate_body"), t("tasks.regenerate_ok")),
            lambda yes: self._run(job, done) if yes else None,
        )

    def action_round_mark(self, values: dict | None = None, error: Exception | None = None) -> None:
        code = self._need_incident()
        if code is None:
            return
        fields = [FormField("round", t("tasks.round"), "", "1", required=True, kind="whole", minimum=1)]
        errors, top = place_error(error, fields) if error is not None else ({}, None)

        def job(v):
            from incident.sampling import mark_sampled

            with self._session() as s:
                mark_sampled(s, code, int(fields[0].parse(v["round"])), actor=self.settings.user)

        def submitted(v: dict | None) -> None:
            if v:

                def marked(_none: object) -> None:
                    self.notify(t("tasks.marked", n=v["round"]))
                    self.action_rounds_show()

                self._run(lambda: job(v), marked, retry=lambda exc: self.action_round_mark(v, exc))

        self.push_screen(
            FormDialog(t("tasks.mark_title"), fields, values=values, errors=errors, error=top), submitted
        )

    # ------------------------------------------------------------------ plan: export GeoJSON
    def action_plan_export(self, values: dict | None = None, error: Exception | None = None) -> None:
        code = self._need_incident()
        if code is None:
            return
        fields = [
            FormField("path", t("tasks.path"), str(Path.cwd() / f"{code}-plan.geojson"), required=True),
            FormField("at_h", t("tasks.plume_at"), "6", kind="number", minimum=0, maximum=MAX_PLUME_AT_H),
        ]
        errors, top = place_error(error, fields) if error is not None else ({}, None)

        def job(v):
            import json

            from incident.core.incidents import get_incident
            from incident.core.networks import load_network
            from incident.plume import forecast_incident
            from incident.reports import plan_geojson
            from incident.sampling import plan_view

            at_h = fields[1].parse(v["at_h"]) if v["at_h"] else 6.0
            with self._session() as s:
                inc = get_incident(s, code)
                view = plan_view(s, code)
                net = load_network(s, inc.river_network_id)
                extra = [(p.number, p.reach_id, p.offset_m) for p in view.points]
                forecast = forecast_incident(s, code, extra_points=extra, horizon_h=max(72.0, at_h))
                doc = plan_geojson(
                    net,
                    view.active_points,
                    code=inc.code,
                    forecast=forecast,
                    at_h=at_h,
                    is_exercise=inc.is_exercise,
                )
            path = Path(v["path"]).expanduser()
            try:
                path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
            except OSError as exc:
                raise UserError(
                    "errors.tasks.cannot_write", field="path", path=str(path), why=str(exc.strerror or exc)
                ) from None
            return path

        def submitted(v: dict | None) -> None:
            if v:
                self._run(
                    lambda: job(v),
                    lambda path: self.notify(t("tasks.exported", path=str(path))),
                    retry=lambda exc: self.action_plan_export(v, exc),
                )

        self.push_screen(
            FormDialog(
                t("tasks.export_title", code=code),
                fields,
                values=values,
                errors=errors,
                error=top,
                message=t("tasks.export_help"),
            ),
            submitted,
        )

    # ------------------------------------------------------------------ drill: ENDEX
    def action_drill_end(self) -> None:
        code = self._need_incident()
        if code is None:
            return

        def job():
            from incident.drills import clock_line, end_drill

            with self._session() as s:
                inc = end_drill(s, code, actor=self.settings.user)
                return clock_line(inc)

        def done(line: str) -> None:
            self.notify(t("tasks.endex_done", code=code, clock=line))
            self._refresh_screen()

        self.push_screen(
            ConfirmDialog(t("tasks.endex_title", code=code), t("tasks.endex_body"), t("tasks.endex_ok")),
            lambda yes: self._run(job, done) if yes else None,
        )


def _qc_body(summary: dict):
    def ok(flag) -> Text:
        return Text(t("tasks.qc_ok") if flag else t("tasks.qc_fail"), style="green" if flag else "bold red")

    parallels = [
        [
            p["parameter"],
            p["sample"],
            p["parallel"],
            p["a"],
            p["b"],
            "—" if p["rpd_pct"] is None else f"{p['rpd_pct']:.1f}",
            p["limit_pct"],
            ok(p["ok"]),
        ]
        for p in summary["parallels"]
    ]
    blanks = [[b["sample"], b["parameter"], b["result"], ok(b["ok"])] for b in summary["blanks"]]
    flagged = [[f["id"], f["sample"], f["parameter"], str(f["flags"])] for f in summary["flagged"]]
    none = Text(t("tasks.qc_none"), style="dim")
    return Group(
        Text(t("tasks.qc_parallels"), style="bold"),
        _table(
            [
                t("form.parameter"),
                t("form.sample"),
                t("tasks.qc_parallel"),
                "a",
                "b",
                "RPD %",
                t("tasks.qc_limit"),
                "",
            ],
            parallels,
        )
        if parallels
        else none,
        Text(""),
        Text(t("tasks.qc_blanks"), style="bold"),
        _table([t("form.sample"), t("form.parameter"), t("tasks.qc_result"), ""], blanks) if blanks else none,
        Text(""),
        Text(t("tasks.qc_flagged"), style="bold"),
        _table(["#", t("form.sample"), t("form.parameter"), t("tasks.qc_flags")], flagged)
        if flagged
        else none,
    )
