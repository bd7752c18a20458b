"""Widgets that show user text as typed: never parsed as Rich/Textual markup.

Crew names, notes, titles and error messages come from people and files. Parsed
as markup, ``[red]Alpha[/red]`` would restyle the screen and ``Team [/b]`` would
crash it (MarkupError). Every table and text panel of the app shows such text,
so the screens use these instead of ``DataTable`` and ``Static``; the
``markup()`` helper escapes user text placed inside the app's own markup.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
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
