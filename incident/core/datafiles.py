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
        raise UserError("errors.core.cannot_read_file", where=str(path), strerror=exc.strerror) from exc
    except UnicodeDecodeError as exc:  # tomllib decodes the bytes as UTF-8 first
        raise UserError("errors.core.toml_not_utf8", where=str(path), start=exc.start) from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line L, column C)"
        raise UserError("errors.core.not_valid_toml", where=str(path), exc=exc) from exc


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
                raise UserError("errors.core.too_far_away", where=where, value=repr(value)) from None
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise UserError("errors.core.not_date", where=where, value=repr(value))


def require(entry: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(entry, dict):
        raise UserError("errors.core.expected_table", where=where, found=repr(entry)[:150])
    if key not in entry:
        raise UserError("errors.core.missing", where=where, key_name=repr(key), key_name2=key)
    value = entry[key]
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise UserError(
            "errors.core.wrong_type",
            where=where,
            key_name=repr(key),
            value=repr(value)[:150],
            key_name2=key,
            kinds=names,
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise UserError("errors.core.bad", where=where, key_name=repr(key), value=repr(value), key_name2=key)
    return value


def tables_of(container: Any, key: str, where: str) -> list[dict[str, Any]]:
    """``container[key]`` as a list of tables (``[[key]]``), or [] when absent."""
    if not isinstance(container, dict):
        raise UserError("errors.core.expected_table_found", where=where, container=repr(container))
    value = container.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise UserError(
            "errors.core.not_list_of_tables",
            where=where,
            key_name=repr(key),
            value=repr(value)[:150],
            key_name2=key,
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
            "errors.core.not_list_of_text",
            where=where,
            key_name=repr(key),
            value=repr(value)[:150],
            key_name2=key,
        )
    return value


def flush_new(session: Any, where: str, what: str) -> None:
    """Flush an insert; a clash with a unique column (a name or tag already used) becomes a UserError."""
    from sqlalchemy.exc import IntegrityError

    try:
        session.flush()
    except IntegrityError as exc:
        raise UserError("errors.core.already_exists", where=where, what=what) from exc
