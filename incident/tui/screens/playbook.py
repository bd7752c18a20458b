"""The playbook screen: the guided response, one step at a time.

Left, the steps grouped by phase with their deadline countdown (overdue in
red); right, the selected step: role, deadline, instructions, checklist, form
and action, with Done / Skip / Undo. Only the current step can be changed;
every change is written (and logged) at once by a thread worker, so quitting
or a crash never loses more than the keystroke in flight.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, cast

from rich.text import Text
from sqlmodel import Session
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, OptionList, Select, SelectionList, Static
from textual.widgets.option_list import Option

import incident.playbook as actions
from incident.core.clock import fmt_local
from incident.core.errors import UserError
from incident.core.i18n import t
from incident.core.store.engine import session_scope
from incident.playbook import (
    FormField,
    RunView,
    StepView,
    complete_step,
    list_playbooks,
    run_step_action,
    run_view,
    save_form,
    set_check,
    skip_step,
    start_run,
    suggest_playbook_id,
    undo_step,
)
from incident.tui.base import Localised, app_state
from incident.tui.widgets.checklist import Checklist
from incident.tui.widgets.exercise_banner import ExerciseBanner
from incident.tui.widgets.plain import Plain, PlainRichTable

GLYPH = {"done": "✓", "skipped": "↷", "active": "▸", "pending": "∙"}


def fmt_left(minutes: float) -> str:
    """Countdown text: 45m, 1h05, 2d03h."""
    m = int(abs(minutes))
    if m >= 48 * 60:
        return f"{m // 1440}d{(m % 1440) // 60:02d}h"
    if m >= 60:
        return f"{m // 60}h{m % 60:02d}"
    return f"{m}m"


def display_value(spec: FormField, value: Any) -> str:
    """A stored answer as the form shows it."""
    if value is None:
        return ""
    if spec.type == "number" and isinstance(value, float):
        return f"{value:g}"
    if spec.type == "bool":
        return "yes" if value else "no"
    if spec.type == "datetime":
        try:
            return fmt_local(datetime.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)
    return str(value)


class PlaybookScreen(Localised, Screen):
    DEFAULT_CSS = """
    PlaybookScreen #phase-bar { height: 1; padding: 0 1; background: $boost; }
    PlaybookScreen #pb-body { height: 1fr; }
    PlaybookScreen #step-list {
        width: 32; height: 1fr; border: round $primary 50%; padding: 0;
        border-title-color: $accent;
    }
    PlaybookScreen #step-list:focus { border: round $accent; }
    PlaybookScreen #step-detail {
        width: 1fr; height: 1fr; border: round $primary 50%; padding: 0 1;
        border-title-color: $accent;
    }
    PlaybookScreen #step-meta { height: auto; }
    PlaybookScreen #step-instructions { height: auto; margin-top: 1; }
    PlaybookScreen .section { text-style: bold; color: $accent; margin-top: 1; height: 1; }
    PlaybookScreen #checklist { height: auto; border: none; padding: 0; background: transparent; }
    PlaybookScreen #checklist:focus { background-tint: $foreground 5%; }
    PlaybookScreen #form { height: auto; }
    PlaybookScreen .form-row { height: auto; }
    PlaybookScreen .form-row > Label { width: 19; height: auto; padding-right: 1; color: $text-muted; }
    PlaybookScreen .form-row > Input { width: 1fr; }
    PlaybookScreen .form-row > Select { width: 1fr; }
    PlaybookScreen Input.-invalid { color: $error; }
    PlaybookScreen #action-info { height: auto; }
    PlaybookScreen #step-buttons { height: auto; margin-top: 1; }
    PlaybookScreen #step-buttons Button { margin-right: 1; min-width: 8; width: auto; }
    PlaybookScreen #chooser-box { height: 1fr; border: round $primary 50%; padding: 0 1; }
    PlaybookScreen #chooser { height: 1fr; border: none; }
    """
    BINDINGS = [
        Binding("c", "done", "key.step_done", id="step-done"),
        Binding("s", "skip", "key.step_skip", id="step-skip"),
        Binding("u", "undo", "key.step_undo", id="step-undo"),
        Binding("a", "run_action", "key.step_action", id="step-action"),
        Binding("r", "reload", "key.refresh", id="playbook-refresh", show=False),
        Binding("escape", "back", "key.back", id="playbook-back"),
    ]

    def __init__(self, code: str, then: str | None = None) -> None:
        super().__init__()
        self.code = code
        self.then = then  # an action to run once the run is loaded (from the palette)
        self.view: RunView | None = None
        self.selected: str | None = None
        self._form_key: tuple | None = None
        self._checklist_key: tuple | None = None
        self._form_widgets: dict[str, Input | Select] = {}
        self._write_lock = threading.Lock()

    def rebuild(self) -> PlaybookScreen:
        screen = PlaybookScreen(self.code)
        screen.selected = self.selected
        return screen

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        yield ExerciseBanner(self.code)
        yield Plain("", id="phase-bar")
        with Horizontal(id="pb-body"):
            yield OptionList(id="step-list")
            with VerticalScroll(id="step-detail"):
                yield Plain("", id="step-meta")
                yield Plain("", id="step-instructions")
                yield Plain(t("playbook.checklist"), classes="section", id="checklist-label")
                yield Checklist(id="checklist")
                yield Plain(t("playbook.form"), classes="section", id="form-label")
                yield Vertical(id="form")
                yield Plain(t("playbook.action"), classes="section", id="action-label")
                yield Plain("", id="action-info")
                with Horizontal(id="step-buttons"):
                    yield Button(t("playbook.btn_done"), id="btn-done", variant="success", compact=True)
                    yield Button(t("playbook.btn_skip"), id="btn-skip", variant="warning", compact=True)
                    yield Button(t("playbook.btn_undo"), id="btn-undo", compact=True)
                    yield Button(t("playbook.btn_action"), id="btn-action", variant="primary", compact=True)
        with Vertical(id="chooser-box"):
            yield Plain("", id="chooser-text")
            yield OptionList(id="chooser")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#step-list").border_title = t("playbook.steps")
        self.query_one("#pb-body").display = False
        self.query_one("#chooser-box").display = False
        self.query_one("#phase-bar", Static).update(t("app.loading"))
        self.load()
        self.set_interval(15, self._tick)
        self.set_interval(30, self.load)

    # ------------------------------------------------------------ loading
    @work(thread=True, exclusive=True, exit_on_error=False, group="playbook-load")
    def load(self) -> None:
        with session_scope(app_state(self).engine) as session:
            view = run_view(session, self.code)
            choices = None
            if view is None:
                from incident.core.incidents import get_incident

                inc = get_incident(session, self.code)
                choices = (
                    [(pb.id, pb.title) for pb in list_playbooks()],
                    suggest_playbook_id(inc.pollutant_class),
                )
        self.app.call_from_thread(self.show, view, choices)

    def action_reload(self) -> None:
        self.load()

    def show(self, view: RunView | None, choices=None) -> None:
        if view is None:
            self._show_chooser(choices)
            return
        self.query_one("#chooser-box").display = False
        self.query_one("#pb-body").display = True
        first = self.view is None
        self.view = view
        if self.selected is None or first and self.selected not in {s.id for s in view.steps}:
            self.selected = view.current_step or view.last_finished or view.playbook.start
        self.sub_title = f"{view.code} · {view.playbook.title}"
        self._render_all()
        if first:
            self.query_one("#step-list").focus()
            if self.then:
                then, self.then = self.then, None
                getattr(self, f"action_{then}")()

    def _show_chooser(self, choices) -> None:
        self.query_one("#pb-body").display = False
        box = self.query_one("#chooser-box")
        box.display = True
        box.border_title = t("playbook.title")
        self.query_one("#phase-bar", Static).update("")
        self.query_one("#chooser-text", Static).update(t("playbook.no_run", code=self.code))
        chooser = self.query_one("#chooser", OptionList)
        chooser.clear_options()
        playbooks, suggested = choices or ([], None)
        ordered = sorted(playbooks, key=lambda p: p[0] != suggested)
        for pid, title in ordered:
            label = Text(str(title))
            if pid == suggested:
                label.append(f"  ({t('playbook.suggested')})", style="bold green")
            chooser.add_option(Option(label, id=pid))
        chooser.highlighted = 0 if ordered else None
        chooser.focus()

    # ------------------------------------------------------------ rendering
    def _tick(self) -> None:
        if self.view is not None:
            self._render_list()
            self._render_meta()

    def _render_all(self) -> None:
        self._render_phases()
        self._render_list()
        self._render_detail()

    def _render_phases(self) -> None:
        assert self.view is not None
        bar = Text()
        for i, (phase, state) in enumerate(self.view.phase_states()):
            if i:
                bar.append(" › ", style="dim")
            style = {
                "current": "bold reverse",
                "done": "green",
                "skipped": "dim strike",
                "pending": "",
            }[state]
            bar.append(("✓ " if state == "done" else "") + str(phase.title), style=style)
        done, total = self.view.progress
        self.query_one("#phase-bar", Static).update(bar)
        self.query_one("#step-list").border_subtitle = t("playbook.progress", done=done, total=total)

    def _step_prompt(self, sv: StepView, now: datetime) -> PlainRichTable:
        grid = cast(PlainRichTable, PlainRichTable.grid(expand=True, padding=(0, 0)))  # grid() makes a cls
        grid.add_column(width=2, no_wrap=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(justify="right", no_wrap=True)
        glyph_style = {"done": "green", "skipped": "dim", "active": "bold yellow", "pending": "dim"}[
            sv.status
        ]
        title_style = (
            "bold" if sv.status == "active" else ("dim" if not sv.on_path and not sv.finished else "")
        )
        if sv.status == "skipped":
            title_style = "dim strike"
        right = Text("")
        if sv.finished and sv.changed_at:
            right = Text(fmt_local(sv.changed_at, with_date=False), style="dim")
        elif sv.due_at is not None and (sv.on_path or sv.status == "active"):
            left = sv.minutes_left(now) or 0.0
            if left < 0:
                right = Text(f"-{fmt_left(left)}", style="bold red")
            else:
                right = Text(fmt_left(left), style="yellow" if left < 15 else "")
        grid.add_row(
            Text(GLYPH[sv.status], style=glyph_style), Text(str(sv.step.title), style=title_style), right
        )
        return grid

    def _render_list(self) -> None:
        assert self.view is not None
        now = self.view.now()
        options: list[Option] = []
        for phase in self.view.playbook.phases:
            steps = [sv for sv in self.view.steps if sv.step.phase == phase.id]
            if not steps:
                continue
            options.append(
                Option(Text(str(phase.title), style="bold underline"), id=f"phase:{phase.id}", disabled=True)
            )
            options.extend(Option(self._step_prompt(sv, now), id=sv.id) for sv in steps)
        step_list = self.query_one("#step-list", OptionList)
        step_list.set_options(options)
        if self.selected:
            try:
                step_list.highlighted = step_list.get_option_index(self.selected)
            except Exception:  # noqa: BLE001 - the step vanished: keep the list usable
                pass

    def _meta(self, sv: StepView) -> Text:
        assert self.view is not None
        now = self.view.now()
        text = Text()
        status_style = {"done": "green", "skipped": "yellow", "active": "bold yellow", "pending": "dim"}
        status = t(f"playbook.status_{sv.status}")
        if not sv.on_path and not sv.finished:
            status = t("playbook.off_path")
        text.append(status, style=status_style[sv.status])
        role = self.view.playbook.role(sv.step.role)
        if role:
            text.append(f" · {t('playbook.role')}: {role.title}")
        text.append("\n")
        if sv.due_at is not None:
            text.append(f"{t('playbook.due')} {fmt_local(sv.due_at, with_date=False)} (+{sv.step.deadline}) ")
            left = sv.minutes_left(now) or 0.0
            if not sv.finished:
                if left < 0:
                    text.append(t("playbook.overdue", left=fmt_left(left)), style="bold red")
                else:
                    text.append(t("playbook.in", left=fmt_left(left)), style="yellow" if left < 15 else "")
        else:
            text.append(t("playbook.no_deadline"), style="dim")
        if sv.finished and sv.changed_at:
            at = fmt_local(sv.changed_at, with_date=False)
            text.append("\n")
            if sv.status == "done":
                text.append(t("playbook.done_by", who=sv.changed_by or "?", at=at), style="green")
            else:
                text.append(
                    t("playbook.skipped_by", who=sv.changed_by or "?", at=at, reason=sv.reason or ""),
                    style="yellow",
                )
        if self.view.current_step is None:
            text.append("\n" + t("playbook.finished"), style="bold green")
        return text

    def _render_meta(self) -> None:
        sv = self._selected_view()
        if sv is not None:
            self.query_one("#step-meta", Static).update(self._meta(sv))

    def _selected_view(self) -> StepView | None:
        if self.view is None or self.selected is None:
            return None
        try:
            return self.view.step(self.selected)
        except KeyError:
            return None

    def _render_detail(self) -> None:
        sv = self._selected_view()
        if sv is None or self.view is None:
            return
        editable = sv.status == "active"
        detail = self.query_one("#step-detail", VerticalScroll)
        detail.border_title = str(sv.step.title)
        self._render_meta()
        self.query_one("#step-instructions", Static).update(str(sv.step.instructions))
        # checklist
        checklist = self.query_one("#checklist", SelectionList)
        has_checklist = bool(sv.step.checklist)
        self.query_one("#checklist-label").display = has_checklist
        checklist.display = has_checklist
        key = (sv.id, editable, self.view.run_id)
        if key != self._checklist_key:
            self._checklist_key = key
            checklist.clear_options()
            checklist.add_options(
                [(str(item.text), item.id, item.id in sv.checked) for item in sv.step.checklist]
            )
            checklist.highlighted = 0 if sv.step.checklist else None
        else:  # same step: update the ticks in place, keeping the cursor where the user is
            for item in sv.step.checklist:
                if (item.id in sv.checked) != (item.id in checklist.selected):
                    (checklist.select if item.id in sv.checked else checklist.deselect)(item.id)
        checklist.disabled = not editable
        # form
        has_form = bool(sv.step.form)
        self.query_one("#form-label").display = has_form
        form = self.query_one("#form", Vertical)
        form.display = has_form
        if key != self._form_key:
            self._form_key = key
            self._build_form(sv, editable)
        else:
            self._sync_form(sv)
        # action
        action = sv.step.action
        self.query_one("#action-label").display = action is not None
        info = self.query_one("#action-info", Static)
        info.display = action is not None
        if action is not None:
            line = Text(actions.action_label(action.name), style="bold")
            line.append("  ")
            if sv.action:
                at = sv.action.get("at", "")
                try:
                    at = fmt_local(datetime.fromisoformat(at), with_date=False)
                except (TypeError, ValueError):
                    pass
                line.append(
                    t(
                        "playbook.action_ran",
                        summary=actions.outcome_text(sv.action),
                        by=sv.action.get("by", ""),
                        at=at,
                    )
                )
            elif not actions.is_available(action.name):
                line.append(t("playbook.action_unavailable"), style="dim")
            else:
                line.append(t("playbook.action_not_run"), style="dim")
            info.update(line)
        # buttons
        self.query_one("#btn-done", Button).disabled = not editable
        self.query_one("#btn-skip", Button).disabled = not editable
        self.query_one("#btn-action", Button).display = action is not None
        self.query_one("#btn-action", Button).disabled = not editable
        self.query_one("#btn-undo", Button).disabled = not self.view.history

    def _build_form(self, sv: StepView, editable: bool) -> None:
        form = self.query_one("#form", Vertical)
        form.remove_children()
        self._form_widgets = {}
        rows = []
        for spec in sv.step.form:
            value = display_value(spec, sv.answers.get(spec.id))
            label = str(spec.label) + (" *" if spec.required else "")
            widget: Input | Select
            if spec.type in ("choice", "bool"):
                options = (
                    [(str(c.text), c.value) for c in spec.choices]
                    if spec.type == "choice"
                    else [(t("playbook.yes"), "yes"), (t("playbook.no"), "no")]
                )
                widget = Select(
                    options,
                    value=value if value else Select.NULL,
                    allow_blank=True,
                    prompt="—",
                    compact=True,
                    name=f"form:{spec.id}",
                    disabled=not editable,
                )
            else:
                placeholder = str(spec.help) if spec.help else ""
                widget = Input(
                    value=value,
                    placeholder=placeholder,
                    compact=True,
                    name=f"form:{spec.id}",
                    disabled=not editable,
                    select_on_focus=False,
                )
            widget.tooltip = str(spec.help) if spec.help else None
            self._form_widgets[spec.id] = widget
            rows.append(Horizontal(Label(label), widget, classes="form-row"))
        if rows:
            form.mount(*rows)

    def _sync_form(self, sv: StepView) -> None:
        """Show stored answers (e.g. typed in another terminal) without touching the field being edited."""
        specs = {f.id: f for f in sv.step.form}
        for fid, widget in self._form_widgets.items():
            if widget.has_focus or fid not in specs:
                continue
            value = display_value(specs[fid], sv.answers.get(fid))
            if isinstance(widget, Input):
                if widget.value != value:
                    widget.value = value
                    widget.remove_class("-invalid")
            elif (widget.value if widget.value != Select.NULL else "") != value:
                widget.value = value if value else Select.NULL

    # ------------------------------------------------------------ events
    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id != "step-list" or event.option.id is None:
            return
        if event.option.id != self.selected:
            self.selected = event.option.id
            self._render_detail()
            self.query_one("#step-detail", VerticalScroll).scroll_home(animate=False)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "chooser" and event.option.id:
            playbook_id = event.option.id
            self._write(lambda s: start_run(s, self.code, playbook_id, actor=self._actor()), None)
        elif event.option_list.id == "step-list":
            # Enter on a step moves into its detail: checklist, then the form
            target = self.query_one("#checklist") if self.query_one("#checklist").display else None
            if target is None and self._form_widgets:
                target = next(iter(self._form_widgets.values()))
            if target is not None and not target.disabled:
                target.focus()

    def on_selection_list_selection_toggled(self, event: SelectionList.SelectionToggled) -> None:
        event.stop()
        sv = self._selected_view()
        if sv is None:
            return
        item = event.selection.value
        checked = item in event.selection_list.selected
        self._write(lambda s: set_check(s, self.code, sv.id, item, checked, actor=self._actor()), None)

    def _field_of(self, widget) -> str | None:
        name = widget.name or ""
        return name.removeprefix("form:") if name.startswith("form:") else None

    def _save_field(self, widget: Input | Select) -> None:
        fid = self._field_of(widget)
        sv = self._selected_view()
        if fid is None or sv is None or sv.status != "active":
            return
        spec = next((f for f in sv.step.form if f.id == fid), None)
        if spec is None:
            return
        raw = self._raw(widget)
        if raw == display_value(spec, sv.answers.get(fid)):
            return
        step_id = sv.id
        self._write(lambda s: save_form(s, self.code, step_id, {fid: raw}, actor=self._actor()), None, widget)

    @staticmethod
    def _raw(widget: Input | Select) -> str:
        if isinstance(widget, Input):
            return widget.value
        return "" if widget.value in (Select.NULL, None) else str(widget.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self._field_of(event.input):
            event.stop()
            self._save_field(event.input)
            self.focus_next()

    def on_input_blurred(self, event: Input.Blurred) -> None:
        if self._field_of(event.input):
            self._save_field(event.input)

    def on_select_changed(self, event: Select.Changed) -> None:
        if self._field_of(event.select):
            event.stop()
            self._save_field(event.select)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions_by_button = {
            "btn-done": "done",
            "btn-skip": "skip",
            "btn-undo": "undo",
            "btn-action": "run_action",
        }
        name = actions_by_button.get(event.button.id or "")
        if name:
            event.stop()
            getattr(self, f"action_{name}")()

    # ------------------------------------------------------------ writing
    def _actor(self) -> str:
        return app_state(self).settings.user

    def _write(self, fn: Callable[[Session], Any], ok: str | None, widget=None) -> None:
        self.run_worker(
            partial(self._write_thread, fn, ok, widget),
            thread=True,
            group="playbook-write",
            exit_on_error=False,
        )

    def _write_thread(self, fn: Callable[[Session], Any], ok: str | None, widget) -> None:
        with self._write_lock:
            try:
                with session_scope(app_state(self).engine) as session:
                    result = fn(session)
            except UserError as exc:
                self.app.call_from_thread(self._failed, exc, widget)
                return
        outcome = None
        if isinstance(result, tuple):
            result, outcome = result
        self.app.call_from_thread(self._written, result, ok, outcome, widget)

    def _failed(self, exc: UserError, widget) -> None:
        if isinstance(widget, Input):
            widget.add_class("-invalid")
        message = exc.problem + (f"\n→ {exc.fix}" if exc.fix else "")
        self.notify(message, severity="error", timeout=10)

    def _written(self, view: RunView, ok: str | None, outcome, widget) -> None:
        if isinstance(widget, Input):
            widget.remove_class("-invalid")
        moved = self.view is None or view.current_step != self.view.current_step
        if moved:
            # follow the run: show the step that is now current
            self.selected = view.current_step or view.last_finished
        self.show(view)
        if moved:
            self.query_one("#step-list").focus()
            self.query_one("#step-detail", VerticalScroll).scroll_home(animate=False)
        if outcome is not None:
            self.notify(outcome.text(), title=t("playbook.action"))
        if ok:
            self.notify(ok)

    # ------------------------------------------------------------ actions (keys, buttons, palette)
    def _current_or_warn(self) -> StepView | None:
        if self.view is None:
            return None
        current = self.view.current
        if current is None:
            self.notify(t("playbook.finished"), severity="warning")
            return None
        if self.selected != current.id:
            self.notify(t("playbook.not_current", title=str(current.step.title)), severity="warning")
            return None
        return current

    def _pending_answers(self, sv: StepView) -> dict[str, str]:
        specs = {f.id: f for f in sv.step.form}
        out = {}
        for fid, widget in self._form_widgets.items():
            if fid in specs and self._raw(widget) != display_value(specs[fid], sv.answers.get(fid)):
                out[fid] = self._raw(widget)
        return out

    def action_done(self) -> None:
        sv = self._current_or_warn()
        if sv is None:
            return
        answers = self._pending_answers(sv)
        merged = {**{f.id: sv.answers.get(f.id) for f in sv.step.form}, **answers}
        missing = [str(f.label) for f in sv.step.form if f.required and merged.get(f.id) in (None, "")]
        if missing:
            self.notify(
                t("playbook.required_missing", fields=", ".join(missing)), severity="warning", timeout=8
            )
            return
        open_items = [c for c in sv.step.checklist if c.id not in sv.checked]
        title = str(sv.step.title)

        def go(confirmed: bool | None = True) -> None:
            if confirmed:
                self._write(
                    lambda s: complete_step(s, self.code, sv.id, actor=self._actor(), answers=answers),
                    t("playbook.done_ok", title=title),
                )

        if open_items:
            from incident.tui.dialogs.playbook_dialogs import ConfirmDialog

            self.app.push_screen(
                ConfirmDialog(title, t("playbook.checklist_open", n=len(open_items)), t("playbook.btn_done")),
                go,
            )
        else:
            go()

    def action_skip(self) -> None:
        sv = self._current_or_warn()
        if sv is None:
            return
        from incident.tui.dialogs.playbook_dialogs import SkipReasonDialog

        title = str(sv.step.title)

        def go(reason: str | None) -> None:
            if reason:
                self._write(
                    lambda s: skip_step(s, self.code, sv.id, reason, actor=self._actor()),
                    t("playbook.skipped_ok", title=title),
                )

        self.app.push_screen(SkipReasonDialog(title), go)

    def action_undo(self) -> None:
        if self.view is None:
            return
        last = self.view.last_finished
        if last is None:
            self.notify(t("playbook.nothing_to_undo"), severity="warning")
            return
        from incident.tui.dialogs.playbook_dialogs import ConfirmDialog

        title = str(self.view.step(last).step.title)

        def go(confirmed: bool | None) -> None:
            if confirmed:
                self.selected = last
                self._write(
                    lambda s: undo_step(s, self.code, last, actor=self._actor()),
                    t("playbook.undone_ok", title=title),
                )

        self.app.push_screen(
            ConfirmDialog(
                t("playbook.undo_title"), t("playbook.undo_prompt", title=title), t("playbook.undo_ok")
            ),
            go,
        )

    def action_run_action(self) -> None:
        sv = self._current_or_warn()
        if sv is None or sv.step.action is None:
            return
        name = actions.action_label(sv.step.action.name)
        self.notify(t("playbook.action_running", name=name))
        self._write(lambda s: run_step_action(s, self.code, sv.id, actor=self._actor()), None)

    def action_back(self) -> None:
        focused = self.focused
        if isinstance(focused, Input | Select | SelectionList | Button):
            self.query_one("#step-list").focus()
            return
        from incident.tui.screens.dashboard import DashboardScreen

        if len(self.app.screen_stack) > 1 and isinstance(self.app.screen_stack[-2], DashboardScreen):
            self.app.pop_screen()
        else:
            app_state(self).action_dashboard()
