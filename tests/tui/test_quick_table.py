"""QuickTable draws a one-line cell itself (issue 19): the same segments as Textual's DataTable
draws through Rich, for every cell, cursor and hover state, and the same screen."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from incident.tui.widgets.plain import QuickTable

CELLS = [
    "S1",
    "[red]not markup[/red]",
    "back\\",
    Text("0.012 mg/L"),
    Text("0.03 mg/L (2.0×)", style="bold red"),
    Text("—", style="dim"),
    Text("<0.001 mg/L", style="black on yellow"),
    Text("0.5 mg/L?", style="yellow"),
    Text(""),
    Text("cropped: longer than its column", style="italic"),
    Text("two\nlines"),
    Text.assemble(("spans ", "bold"), ("here", "red")),
    Text("水质 III 类", style="bold"),
    3.5,
    None,
]


class _Table(App):
    def compose(self) -> ComposeResult:
        table = QuickTable(cursor_type="row", zebra_stripes=True)
        table.add_column("Point", key="point")
        for i in range(1, len(CELLS)):
            table.add_column(f"c{i}", key=f"c{i}", width=12 if i == 9 else None)
        for r in range(4):
            table.add_row(*CELLS[r:], *CELLS[:r], key=f"r{r}")
        table.fixed_columns = 1
        yield table


def _forget(table: QuickTable) -> None:
    for cache in (table._cell_render_cache, table._row_render_cache, table._line_cache):
        cache.clear()


async def test_quick_cells_are_the_cells_textual_draws():
    app = _Table()
    async with app.run_test(size=(200, 20)) as pilot:
        await pilot.pause()
        table = app.query_one(QuickTable)
        drawn_here = 0
        for cursor in (False, True):
            for hover in (False, True):
                for row in range(4):
                    for col, column in enumerate(table.ordered_columns):
                        width = column.get_render_width(table)
                        base = table.rich_style
                        _forget(table)
                        theirs = DataTable._render_cell(table, row, col, base, width, cursor, hover)
                        _forget(table)
                        ours = table._render_cell(row, col, base, width, cursor, hover)
                        assert ours == theirs, (row, col, cursor, hover)
                        _forget(table)
                        drawn_here += table._quick_cell(row, col, base, width, cursor, hover) is not None
        assert 4 * 4 * 8 <= drawn_here < 4 * 4 * len(CELLS)  # most cells are drawn here, not all
        # and the table looks the same on screen either way, line by line, focused or not
        for focus in (True, False):
            table.can_focus = focus
            if not focus:
                table.blur()
            await pilot.press("down")
            await pilot.pause()
            _forget(table)
            ours = [list(table.render_line(y)) for y in range(table.size.height)]
            _forget(table)
            table._quick_cell = lambda *args: None  # Textual draws every cell
            theirs = [list(table.render_line(y)) for y in range(table.size.height)]
            del table._quick_cell
            assert ours == theirs
