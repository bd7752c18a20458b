"""Shared helpers for the TOML data files (rosters, inventories, scenarios)."""

from __future__ import annotations

import math
import re
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from incident.core.errors import UserError

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
            try:
                return today + timedelta(days=n if m.group(1) == "+" else -n)
            except OverflowError:
                raise UserError(
                    f"{value!r} is too far away", where=where, fix="use a date between years 1 and 9999"
                ) from None
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise UserError(f"{value!r} is not a date", where=where, fix="write YYYY-MM-DD, or today+N / today-N")


def require(entry: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(entry, dict):
        raise UserError(
            f"expected a table, found {entry!r}"[:200], where=where, fix="write { key = value, ... }"
        )
    if key not in entry:
        raise UserError(f"missing {key!r}", where=where, fix=f"add {key} = ...")
    value = entry[key]
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise UserError(f"{key!r} is {value!r}"[:200], where=where, fix=f"{key} must be a {names}")
    if isinstance(value, float) and not math.isfinite(value):
        raise UserError(f"{key!r} is {value!r}", where=where, fix=f"{key} must be a finite number")
    return value


def tables_of(container: Any, key: str, where: str) -> list[dict[str, Any]]:
    """``container[key]`` as a list of tables (``[[key]]``), or [] when absent."""
    if not isinstance(container, dict):
        raise UserError(f"expected a table, found {container!r}", where=where, fix="write key = value pairs")
    value = container.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise UserError(
            f"{key!r} must be a list of tables, found {value!r}"[:200],
            where=where,
            fix=f"write each one as a [[{key}]] section, or as {{ ... }} inside [ ]",
        )
    return value


def optional(
    entry: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = None
) -> Any:
    """Like :func:`require` but ``default`` when the key is absent."""
    if key not in entry:
        return default
    return require(entry, key, kind, where)


def strings_of(entry: dict[str, Any], key: str, where: str) -> list[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(
            f"{key!r} is {value!r}"[:200], where=where, fix=f'{key} must be a list of text: ["a", "b"]'
        )
    return value


def flush_new(session: Any, where: str, what: str) -> None:
    """Flush an insert; a clash with a unique column (a name or tag already used) becomes a UserError."""
    from sqlalchemy.exc import IntegrityError

    try:
        session.flush()
    except IntegrityError as exc:
        raise UserError(
            f"{what} already exists",
            where=where,
            fix="names, keys and asset tags must be unique: rename it, or leave it out if it is loaded already",
        ) from exc
