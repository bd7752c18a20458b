"""Shared helpers for the TOML data files (rosters, inventories, scenarios)."""

from __future__ import annotations

import re
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from incident.errors import UserError

_RELATIVE = re.compile(r"^today\s*([+-])\s*(\d+)$")


def read_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise UserError(
            f"cannot read the file: {exc.strerror}", where=str(path), fix="check the path"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line L, column C)"
        raise UserError(
            f"not valid TOML: {exc}",
            where=str(path),
            fix="fix the syntax at the line given (quotes around text, = between key and value)",
        ) from exc


def parse_day(value: Any, *, where: str, today: date | None = None) -> date | None:
    """An ISO date, a TOML date, or ``today±N`` (demo files stay current)."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    today = today or date.today()
    if isinstance(value, str):
        m = _RELATIVE.match(value.strip())
        if m:
            n = int(m.group(2))
            return today + timedelta(days=n if m.group(1) == "+" else -n)
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise UserError(f"{value!r} is not a date", where=where, fix="write YYYY-MM-DD, or today+N / today-N")


def require(entry: dict, key: str, kind: type | tuple, where: str) -> Any:
    if key not in entry:
        raise UserError(f"missing {key!r}", where=where, fix=f"add {key} = ...")
    value = entry[key]
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise UserError(f"{key!r} is {value!r}", where=where, fix=f"{key} must be a {names}")
    return value
