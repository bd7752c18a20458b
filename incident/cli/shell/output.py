"""Printing for the CLI: aligned tables for people, JSON for machines."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any


def _width(text: str) -> int:
    # CJK characters take two terminal cells.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return (
            f"{value:.4g}"
            if abs(value) < 1e-2 or abs(value) >= 1e5
            else f"{value:,.3f}".rstrip("0").rstrip(".")
        )
    if isinstance(value, datetime):
        from incident.core.clock import fmt_local

        return fmt_local(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str] | None = None,
    headers: Sequence[str] | None = None,
    file=None,
) -> None:
    file = file or sys.stdout
    if not rows:
        print("(none)", file=file)
        return
    columns = list(columns or rows[0].keys())
    headers = list(headers or columns)
    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    numeric = [
        all(
            isinstance(r.get(c), int | float) and not isinstance(r.get(c), bool) or r.get(c) is None
            for r in rows
        )
        for c in columns
    ]
    widths = [max(_width(h), *(_width(row[i]) for row in cells)) for i, h in enumerate(headers)]
    print("  ".join(_pad(h, widths[i], numeric[i]) for i, h in enumerate(headers)).rstrip(), file=file)
    print("  ".join("-" * w for w in widths), file=file)
    for row in cells:
        print("  ".join(_pad(v, widths[i], numeric[i]) for i, v in enumerate(row)).rstrip(), file=file)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(type(value).__name__)


def as_json(data: Any, file=None) -> None:
    json.dump(data, file or sys.stdout, ensure_ascii=False, indent=2, default=_default)
    print(file=file or sys.stdout)


def emit(
    args,
    rows: Iterable[dict[str, Any]] | dict[str, Any],
    columns: Sequence[str] | None = None,
    headers: Sequence[str] | None = None,
) -> None:
    """Table or JSON according to ``args.json``."""
    if getattr(args, "json", False):
        as_json(rows if isinstance(rows, dict) else list(rows))
    elif isinstance(rows, dict):
        table([{"field": k, "value": v} for k, v in rows.items()])
    else:
        table(list(rows), columns, headers)


class Progress:
    """``label:  NN %`` on stderr, in steps of ten percent, for work that takes seconds (a forecast, a
    long import). Silent when stderr is not a terminal: a pipe or a script reads only the result.
    Call it with the fraction done; :meth:`done` wipes the line before the result is printed."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.last = -1
        self.shown = False

    def __call__(self, fraction: float) -> None:
        pct = int(max(0.0, min(1.0, fraction)) * 100)
        if pct // 10 != self.last // 10 and sys.stderr.isatty():
            print(f"\r{self.label}: {pct:3d} %", end="", file=sys.stderr, flush=True)
            self.shown = True
        self.last = pct

    def done(self) -> None:
        if self.shown:
            print("\r" + " " * (len(self.label) + 8) + "\r", end="", file=sys.stderr, flush=True)
            self.shown = False
