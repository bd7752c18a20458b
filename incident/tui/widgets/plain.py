"""Widgets that show user text as typed: never parsed as Rich/Textual markup.

Crew names, notes, titles and error messages come from people and files. Parsed
as markup, ``[red]Alpha[/red]`` would restyle the screen and ``Team [/b]`` would
crash it (MarkupError). Every table and text panel of the app shows such text,
so the screens use these instead of ``DataTable`` and ``Static``; the
``markup()`` helper escapes user text placed inside the app's own markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.markup import escape
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import DataTable, Static


def _plain(cell: Any) -> Any:
    """A string cell escaped so Textual's markup parser gives back exactly the string.

    Escaped rather than wrapped in ``Text`` so the table still holds strings
    (``get_cell`` reads back the same value for ordinary text); a string ending
    in a backslash, which Rich's escape cannot round-trip, becomes ``Text``.
    """
    if not isinstance(cell, str):
        return cell
    if cell.endswith("\\"):
        return Text(cell)
    return escape(cell)


class _RichCells:
    @staticmethod
    def cell(cell: Any) -> Any:
        return Text(cell) if isinstance(cell, str) else cell


class PlainTable(DataTable):
    """A DataTable whose string cells are literal text (styled cells stay ``Text``)."""

    def add_row(self, *cells: Any, **kwargs: Any):
        return super().add_row(*(_plain(c) for c in cells), **kwargs)

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **kwargs: Any) -> None:
        super().update_cell(row_key, column_key, _plain(value), **kwargs)

    def update_cell_at(self, coordinate: Any, value: Any, **kwargs: Any) -> None:
        super().update_cell_at(coordinate, _plain(value), **kwargs)


class PlainRichTable(Table):
    """A Rich Table (inside a panel) whose string cells are literal text."""

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        super().add_row(*(_RichCells.cell(c) for c in renderables), **kwargs)


class Plain(Static):
    """A Static that shows strings literally (``markup=False`` by default)."""

    def __init__(self, content: Any = "", *, markup: bool = False, **kwargs: Any) -> None:
        super().__init__(content, markup=markup, **kwargs)


def markup(text: object) -> str:
    """User text made safe to place inside the app's own markup (``[red]{markup(msg)}[/]``)."""
    return escape(str(text))


class QuickTable(PlainTable):
    """A PlainTable that draws a one-line cell of plain styled text itself (issue 19).

    Textual draws every cell through Rich (padding, wrapping, cropping: about 0.1 ms a
    cell), and a table whose rows all change at once (the results screen's next round)
    redraws every visible cell. A cell whose text is one line without spans that fits its
    column is drawn here as the same segments Rich would give (left padding, the text,
    the fill and right padding, under the same row, column, cursor and CSS styles);
    any other cell (headers, wrapped or cropped text, spans, other renderables) is drawn
    by Textual. tests/tui/test_quick_table.py compares the two, cell by cell.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._quick_styles: dict[tuple[Any, ...], tuple[Style | None, Style | None]] = {}

    def update_cells(self, cells: Iterable[tuple[str, str, Any]]) -> None:
        """Set many cells at once, (row key, column key, value) each, with one refresh
        (``update_cell`` refreshes the table once a cell). Column widths stay as they are."""
        from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey

        changed = False
        for row, column, value in cells:
            row_key, column_key = RowKey(row), ColumnKey(column)
            if row_key not in self._row_locations or column_key not in self._column_locations:
                raise CellDoesNotExist(f"No cell exists for row_key={row!r}, column_key={column!r}.")
            self._data[row_key][column_key] = _plain(value)
            changed = True
        if changed:
            self._update_count += 1
            self.refresh()

    def fit_columns(self, widths: list[int]) -> None:
        """Give the columns these content widths (their widest cell or label) and resize the
        table in this frame: its virtual size and scrollbars now. (A width left to Textual is
        measured cell by cell when idle, and the new virtual size lays the screen out again and
        redraws the scrollbars a frame later.) A scrollbar that appears or goes still lays out."""
        from textual.geometry import Size
        from textual.widget import Widget

        changed = False
        for column, width in zip(self.ordered_columns, widths, strict=True):
            if column.content_width != width:
                column.content_width, changed = width, True
        if not changed:
            return
        size = Size(
            sum(column.get_render_width(self) for column in self.columns.values())
            + self._row_label_column_width,
            self._total_row_height + (self.header_height if self.show_header else 0),
        )
        self.set_reactive(Widget.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Any:
        lines = self._quick_cell(row_index, column_index, base_style, width, cursor, hover)
        if lines is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        return lines

    def _quick_cell(
        self, row_index: int, column_index: int, base_style: Style, width: int, cursor: bool, hover: bool
    ) -> list[list[Segment]] | None:
        """The cell's lines, drawn here and cached under Textual's key; None: Textual draws it."""
        if row_index < 0 or column_index < 0:
            return None  # the header row and row labels
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return None
        key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cache = self._cell_render_cache
        if key in cache:
            return cache[key]
        row = self.rows.get(row_key)
        if row is None or row.height != 1 or row.auto_height:
            return None
        cells = self._get_row_renderables(row_index).cells
        cell = cells[column_index] if column_index < len(cells) else None
        pad = self.cell_padding
        if (
            not isinstance(cell, Text)
            or cell._spans
            or cell.justify not in (None, "default")
            or not cell.plain
            or "\n" in cell.plain
            or "\t" in cell.plain
        ):
            return None
        fill = width - 2 * pad - cell.cell_len
        if fill < 0:
            return None  # cropped: Rich decides how
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            row_index < self.fixed_rows or column_index < self.fixed_columns,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        # the styles of a cell's blanks and text: the same for the same place, row style and
        # text style whatever the text (kept across updates; a key's next round reuses them)
        style_key = (row_index, column_index, base_style, component_style, post_style, cell.style)
        styles = self._quick_styles.get(style_key)
        if styles is None:
            pre = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
            text_style = self.app.console.get_style(cell.style) if cell.style else None

            def styled(style: Style | None) -> Style | None:  # as textual's Styled applies them
                if pre:
                    style = pre + style
                if post_style:
                    style = style + post_style if style else post_style
                return style

            if len(self._quick_styles) > 20_000:
                self._quick_styles.clear()
            styles = self._quick_styles[style_key] = (styled(Style.null()), styled(text_style))
        blank, text = styles
        line = [Segment(" " * pad, blank)] if pad else []
        line.append(Segment(cell.plain, text))
        if fill:
            line.append(Segment(" " * fill, blank))
        if pad:
            line.append(Segment(" " * pad, blank))
        lines = [line]
        cache[key] = lines
        return lines
