"""Results of the current incident: one round, every point, exceedances in red.

Keys: a add a result (form), m import a CSV, p plot the selected point over
time, [ and ] previous/next round, c cycle the GB 3838 class, t termination
check, r refresh, Esc back. Data is read in a thread worker as plain data; the views one key
away ([ ] and c) are read ahead, shown at once and read again (issue 19).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

import incident.results as results
from incident.core import standards
from incident.core.i18n import t
from incident.core.incidents import get_incident
from incident.core.store.engine import session_scope
from incident.tui.base import Localised, app_state, when_given
from incident.tui.widgets.exercise_banner import ExerciseBanner
from incident.tui.widgets.plain import Plain, QuickTable


def incident_now_for(engine, code: str):
    """'Now' on the incident's clock (the exercise clock in a drill)."""
    from incident.core.clock import incident_now

    with session_scope(engine) as s:
        return incident_now(get_incident(s, code))


def parameter_label(key: str) -> str:
    """A parameter's name in the reader's language (its key when the standards do not know it)."""
    from incident.core.errors import UserError
    from incident.core.i18n import bilingual

    try:
        p = standards.resolve_parameter(key)
    except UserError:
        return key
    return bilingual(p.name, p.name_zh)


def _mark(cell: Any) -> Text:
    """A cell as the table shows it: red over the limit, yellow on black a held result, yellow a
    suspected one, a dim dash no result."""
    if cell is None:
        return Text("—", style="dim")
    held = any(r.held for r in cell.records)
    style = (
        "bold red" if cell.exceeds else ("black on yellow" if held else ("yellow" if cell.suspected else ""))
    )
    return Text(cell.text, style=style)


#: a round table as the screen shows it: the table, the newest sample at each point, the
#: incident's substance and medium
View = tuple[results.RoundTable, dict[str, str], str | None, str, "Grid"]


@dataclass
class Grid:
    """A round table's cells as the table shows them, and each column's widest cell: made
    where the round is read, off the screen's thread (issue 19)."""

    rows: list[list[str | Text]]
    widths: list[int]

    @classmethod
    def of(cls, rt: results.RoundTable) -> Grid:
        from rich.cells import cell_len

        rows: list[list[str | Text]] = [
            [pt, *(_mark(rt.cells.get((pt, p))) for p in rt.parameters)] for pt in rt.points
        ]
        widths = [
            max(cell_len(cell.plain if isinstance(cell, Text) else cell) for cell in column)
            for column in zip(*rows, strict=True)
        ]
        return cls(rows, widths)


class ResultsScreen(Localised, Screen):
    DEFAULT_CSS = """
    ResultsScreen #results-head { height: auto; padding: 0 1; background: $boost; }
    ResultsScreen #results-table { height: 1fr; }
    ResultsScreen #results-legend { height: auto; padding: 0 1; color: $text-muted; }
    ResultsScreen #results-flag { height: auto; max-height: 6; overflow-y: auto; padding: 0 1; color: $warning; }
    """
    #: read the views one key away after each read ([ ] c then show at once; issue 19)
    read_ahead = True
    BINDINGS = [
        Binding("escape", "app.pop_screen", "key.back", id="results-back"),
        Binding("s", "new_sample", "key.new_sample", id="results-new-sample"),
        Binding("a", "add", "key.add_result", id="results-add"),
        Binding("m", "import", "key.import_results", id="results-import"),
        Binding("p", "plot", "key.plot", id="results-plot"),
        Binding("left_square_bracket", "round(-1)", "key.prev_round", id="results-prev", show=False),
        Binding("right_square_bracket", "round(1)", "key.next_round", id="results-next", show=False),
        Binding("c", "cycle_class", "key.water_class", id="results-class", show=False),
        # shown in F1 help and the palette ("termination: check"); the footer has no room at 80 columns
        Binding("t", "terminate", "key.terminate", id="results-terminate", show=False),
        Binding("r", "refresh", "key.refresh", id="results-refresh", show=False),
        # issue 16: every task by keyboard (also in the palette; F1 lists them)
        Binding("e", "app.result_correct", "key.result_correct", id="results-correct", show=False),
        Binding("k", "app.result_confirm", "flags.key_confirm", id="results-confirm", show=False),
        Binding("Q", "app.qc_show", "key.qc", id="results-qc", show=False),
        Binding("h", "app.custody_handoff", "key.custody", id="results-custody", show=False),
        Binding("o", "app.rounds_show", "key.rounds", id="results-rounds", show=False),
    ]

    def __init__(
        self, code: str, *, forecast=None, round_number: int | None = None, water_class: str = "III"
    ) -> None:
        super().__init__()
        self.code = code
        self.forecast = forecast
        self.round_number = round_number
        self.water_class = water_class
        self.table_data: results.RoundTable | None = None
        self.samples: dict[str, str] = {}
        self.substance: str | None = None
        self.medium = "water"
        self._flag_shown: tuple[str, bool] | None = None  # what the flag box shows
        #: (round, class) -> the view, read ahead for the next [ ] or c (issue 19)
        self._read_ahead: dict[tuple[int | None, str], View] = {}
        self._gc_was_enabled: bool | None = None  # the collector is paused for a key's answer

    def rebuild(self) -> ResultsScreen:
        return ResultsScreen(
            self.code, forecast=self.forecast, round_number=self.round_number, water_class=self.water_class
        )

    def compose(self) -> ComposeResult:
        yield Header()
        yield ExerciseBanner(self.code)
        yield Plain(t("app.loading"), id="results-head")
        yield QuickTable(id="results-table", cursor_type="row", zebra_stripes=True)
        yield Plain("", id="results-flag")
        yield Plain(t("results.legend"), id="results-legend")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.code} · {t('results.title')}"
        self.load()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="results")
    def load(self, *, again: bool = False) -> None:
        """Read the round and class asked for and show it.

        ``again``: the view is on screen already (shown from the read-ahead): read it again and
        show what changed since, keeping the cursor where it is."""
        from textual.worker import get_current_worker

        view = self._read(self.round_number, self.water_class)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_read, view, again)

    def _show_read(self, view: View, again: bool) -> None:
        self.show(*view, keep_cursor=again)
        self._when_drawn(self._drawn, view[0])

    def _drawn(self, rt: results.RoundTable) -> None:
        self._resume_gc()
        if self.read_ahead:
            self._look_ahead(rt)

    def _when_drawn(self, callback: Callable[..., object], *args: object, **kwargs: object) -> None:
        """Call back once the screen is drawn: after this refresh and the one it may cause, so
        that a read in a thread does not hold up the frames that show the key's answer."""
        self.call_after_refresh(self.call_after_refresh, callback, *args, **kwargs)

    @work(thread=True, exclusive=True, exit_on_error=False, group="results-ahead")
    def _look_ahead(self, rt: results.RoundTable) -> None:
        """Read the views one key away ([ and ] at this class, c on this round), for the next
        key to show at once."""
        from textual.worker import get_current_worker

        worker = get_current_worker()
        ahead = {}
        for round_number, water_class in self._next_views(rt):
            if worker.is_cancelled:
                return
            ahead[(round_number, water_class)] = self._read(round_number, water_class)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._keep_ahead, ahead)

    def _keep_ahead(self, views: dict[tuple[int | None, str], View]) -> None:
        self._read_ahead.update(views)

    def _read(self, round_number: int | None, water_class: str) -> View:
        with session_scope(app_state(self).engine) as session:
            inc = get_incident(session, self.code)
            rt = results.round_table(session, self.code, round_number, water_class=water_class)
            samples = results.latest_sample_by_point(session, self.code, rt.round)
            return rt, samples, inc.substance, inc.medium, Grid.of(rt)

    @staticmethod
    def _next_views(rt: results.RoundTable) -> list[tuple[int | None, str]]:
        """The views one key away from ``rt``: the rounds before and after it, the next class."""
        classes = standards.CLASSES
        views = [(rt.round, classes[(classes.index(rt.water_class) + 1) % len(classes)])]
        if rt.round is not None and rt.round in rt.rounds:
            i = rt.rounds.index(rt.round)
            views += [(rt.rounds[j], rt.water_class) for j in (i - 1, i + 1) if 0 <= j < len(rt.rounds)]
        return views

    def _go(self, round_number: int | None, water_class: str) -> None:
        """Show this round and class: at once when read ahead (then read again, for what changed
        since), else once read."""
        self.round_number, self.water_class = round_number, water_class
        view = self._read_ahead.get((round_number, water_class))
        self._read_ahead.clear()
        self.workers.cancel_group(self, "results-ahead")
        self._pause_gc()
        if view is None:
            self.load()  # shown once read, then the collector resumes
            return
        self.show(*view)
        self._when_drawn(self._answered)

    def _answered(self) -> None:
        """The key's answer is drawn: the collector resumes, and the view is read again."""
        self._resume_gc()
        self.load(again=True)

    def _pause_gc(self) -> None:
        """No cyclic garbage collection from a key until its answer is drawn (as Textual's
        PAUSE_GC_ON_SCROLL does while scrolling): a full collection of a big heap takes 0.1–0.4 s
        and the reads make one likely (issue 19). It resumes once drawn, or after 2 s whatever
        happens to the read."""
        import gc

        if self._gc_was_enabled is None:
            self._gc_was_enabled = gc.isenabled()
            gc.disable()
            self.set_timer(2.0, self._resume_gc)

    def _resume_gc(self) -> None:
        import gc

        if self._gc_was_enabled is not None:
            if self._gc_was_enabled:
                gc.enable()
            self._gc_was_enabled = None

    def on_unmount(self) -> None:
        self._resume_gc()

    def show(
        self,
        rt: results.RoundTable,
        samples: dict[str, str],
        substance: str | None,
        medium: str,
        grid: Grid | None = None,
        *,
        keep_cursor: bool = False,
    ) -> None:
        self.table_data, self.samples, self.substance, self.medium = rt, samples, substance, medium
        self.round_number = rt.round
        if rt.round is None and rt.parameters:
            # results exist, but none of them belongs to a numbered round
            self._show_head(f"{t('tui.results_no_round')} · {t('results.class', c=rt.water_class)}")
        elif rt.round is None:
            self._show_head(t("results.no_results"))
        else:
            others = " ".join(f"[{n}]" if n == rt.round else str(n) for n in rt.rounds)
            self._show_head(
                f"{t('results.round', n=rt.round)} · {t('results.class', c=rt.water_class)} · {others}"
            )
        table = self.query_one("#results-table", QuickTable)
        grid = grid if grid is not None else Grid.of(rt)
        rows = grid.rows
        if not self._update_in_place(table, rt, grid, keep_cursor=keep_cursor):
            table.clear(columns=True)
            table.add_column(t("results.point"), key="point")
            for p in rt.parameters:
                table.add_column(parameter_label(p), key=p)
            for pt, row in zip(rt.points, rows, strict=True):
                table.add_row(*row, key=pt)
        if not table.has_focus:
            table.focus()
        self.show_flag()

    def _show_head(self, text: str) -> None:
        """The head line; laid out again only if its height may change (a layout also resizes
        the table below it and redraws its scrollbars: another frame, later)."""
        from rich.cells import cell_len

        head = self.query_one("#results-head", Static)
        if str(head.content) == text:
            return  # unchanged: nothing to draw
        width = head.content_size.width
        one_line = 0 < width and all(cell_len(x) <= width for x in (str(head.content), text))
        head.update(text, layout=not one_line)

    def _update_in_place(
        self, table: QuickTable, rt: results.RoundTable, grid: Grid, *, keep_cursor: bool
    ) -> bool:
        """Another round or class over the same points and parameters: only the cells that differ
        change, and the columns take the width a fresh table would give them (issue 19: a new
        table lays out, measures and draws every cell again). False: the table is rebuilt."""
        from rich.cells import cell_len

        columns = ["point", *rt.parameters]
        if (
            [c.value for c in table.columns] != columns
            or [r.value for r in table.rows] != rt.points
            or not table.row_count
        ):
            return False
        changes = []
        for point, row in zip(rt.points, grid.rows, strict=True):
            for key, old, cell in zip(columns[1:], table.get_row(point)[1:], row[1:], strict=True):
                if not isinstance(cell, Text) or old.plain != cell.plain or old.style != cell.style:
                    changes.append((point, key, cell))
        table.update_cells(changes)
        table.fit_columns(
            [
                max(width, cell_len(c.label.plain))
                for c, width in zip(table.ordered_columns, grid.widths, strict=True)
            ]
        )
        if not keep_cursor:  # as a new table would: the first row selected, scrolled to the top
            table.move_cursor(row=0, column=0, animate=False)
            table.scroll_to(0, 0, animate=False, immediate=True)
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_flag()

    def show_flag(self) -> None:
        """The plausibility flags of the selected row, with their reasons and what to do."""
        rt, point = self.table_data, self.selected_point()
        lines = []
        if rt is not None and point is not None:
            for p in rt.parameters:
                cell = rt.cells.get((point, p))
                for rec in cell.records if cell is not None else []:
                    if rec.held:
                        lines.append(t("flags.line", id=rec.id, text=rec.text, reason=rec.flag_text()))
        text = "\n".join([t("flags.keys"), *lines]) if lines else ""
        if (text, bool(lines)) == self._flag_shown:
            return  # unchanged: no new layout (the next round's first row is often the same)
        self._flag_shown = (text, bool(lines))
        box = self.query_one("#results-flag", Plain)
        box.update(text)
        box.display = bool(lines)

    def selected_result_id(self) -> int | None:
        """The latest result in the selected cell (the incident's pollutant when the cursor is on
        the point column)."""
        rt = self.table_data
        point = self.selected_point()
        if rt is None or point is None or not rt.parameters:
            return None
        table = self.query_one(DataTable)
        column = table.cursor_coordinate.column
        if 1 <= column <= len(rt.parameters):
            parameter = rt.parameters[column - 1]
        else:
            parameter = self.substance if self.substance in rt.parameters else rt.parameters[0]
        cell = rt.cells.get((point, parameter))
        return cell.result_ids[-1] if cell is not None and cell.result_ids else None

    def selected_point(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    # -- actions --------------------------------------------------------------
    def action_round(self, step: int) -> None:
        rt = self.table_data
        if rt is None or not rt.rounds or rt.round is None:
            return
        i = rt.rounds.index(rt.round) + step
        if 0 <= i < len(rt.rounds):
            self._go(rt.rounds[i], self.water_class)

    def action_cycle_class(self) -> None:
        classes = standards.CLASSES
        self._go(self.round_number, classes[(classes.index(self.water_class) + 1) % len(classes)])

    def action_add(self) -> None:
        from incident.tui.dialogs.result_form import ResultForm

        point = self.selected_point()
        form = ResultForm(
            self.code,
            sample=self.samples.get(point or "", ""),
            parameter=self.substance or "",
            medium=self.medium,
        )
        self.app.push_screen(form, when_given(lambda rid: self.load()))

    def action_new_sample(self, values: dict | None = None, error: str | Exception | None = None) -> None:
        """Register a sample (label ID, HJ 589 §7.1.3.2), then enter its result."""
        from incident.core.clock import fmt_local
        from incident.tui.dialogs.form import FormDialog, FormField, place_error

        now = fmt_local(incident_now_for(app_state(self).engine, self.code))
        types = tuple((k, t(f"formui.sample_type.{k}")) for k in ("normal", "field_blank", "parallel"))
        fields = [
            FormField("point", t("sample_form.point"), self.selected_point() or "", "S4", required=True),
            FormField(
                "round",
                t("sample_form.round"),
                "",
                t("sample_form.round_hint"),
                kind="whole",
                minimum=1,
            ),
            FormField(
                "sampled_at", t("sample_form.time"), now, "YYYY-MM-DD HH:MM", required=True, kind="time"
            ),
            FormField("sampler", t("sample_form.sampler"), app_state(self).settings.user, required=True),
            FormField("checker", t("sample_form.checker"), ""),
            FormField("sample_type", t("sample_form.type"), "normal", choices=types),
            FormField("parallel_of", t("sample_form.parallel_of"), "", t("sample_form.parallel_hint")),
            FormField(
                "parameters", t("sample_form.parameters"), self.substance or "", "cadmium, nitrobenzene"
            ),
        ]

        def done(result: dict | None) -> None:
            if result is not None:
                self._create_sample(result)

        errors: dict[str, str] = {}
        if isinstance(error, Exception):
            errors, error = place_error(error, fields)
        self.app.push_screen(
            FormDialog(t("sample_form.title"), fields, values=values, error=error, errors=errors), done
        )

    @work(thread=True, exit_on_error=False, group="sample")
    def _create_sample(self, values: dict) -> None:
        from incident.core.clock import parse_local
        from incident.core.errors import UserError
        from incident.core.inputs import parse_number
        from incident.results import NewSample, create_sample

        try:
            round_no = (
                int(parse_number(values["round"], field="round", label=t("sample_form.round"), whole=True))
                if values["round"]
                else None
            )
            spec = NewSample(
                point=values["point"],
                sampled_at=parse_local(values["sampled_at"]),
                sampler=values["sampler"],
                round=round_no,
                checker=values["checker"],
                sample_type=values["sample_type"] or "normal",
                parallel_of=values["parallel_of"] or None,
                parameters=[p.strip() for p in values["parameters"].split(",") if p.strip()],
            )
            with session_scope(app_state(self).engine) as s:
                info = create_sample(s, self.code, spec, actor=app_state(self).settings.user)
        except UserError as exc:
            self.app.call_from_thread(self.action_new_sample, values, exc)
            return
        self.app.call_from_thread(self._sample_created, info.code)

    def _sample_created(self, sample_code: str) -> None:
        from incident.tui.dialogs.result_form import ResultForm

        self.notify(t("sample_form.created", code=sample_code))
        self.load()
        form = ResultForm(self.code, sample=sample_code, parameter=self.substance or "", medium=self.medium)
        self.app.push_screen(form, when_given(lambda rid: self.load()))

    def action_import(self) -> None:
        from incident.tui.dialogs.import_results import ImportResultsDialog

        self.app.push_screen(ImportResultsDialog(self.code), when_given(lambda done: self.load()))

    def action_plot(self) -> None:
        from incident.tui.screens.point_plot import PointPlotScreen

        point = self.selected_point()
        if point is None:
            self.notify(t("results.pick_point"), severity="warning")
            return
        rt = self.table_data
        param = self.substance or (rt.parameters[0] if rt and rt.parameters else None)
        self.app.push_screen(
            PointPlotScreen(self.code, point, param, forecast=self.forecast, water_class=self.water_class)
        )

    def action_terminate(self) -> None:
        from incident.tui.dialogs.termination import TerminationDialog

        self.app.push_screen(TerminationDialog(self.code, water_class=self.water_class))
