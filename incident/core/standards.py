"""Evaluation standards and analytical methods, shipped as data.

``incident/data/standards/gb3838_2002.toml`` holds GB 3838-2002 limits (the file
cites its source and which values to double-check); ``methods.toml`` holds the
analytical principles used to confirm rapid results. Plain dataclasses, cached.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from incident.core.datafiles import read_toml
from incident.core.errors import UserError

STANDARDS_DIR = Path(__file__).resolve().parent.parent / "data" / "standards"
GB3838_FILE = STANDARDS_DIR / "gb3838_2002.toml"
METHODS_FILE = STANDARDS_DIR / "methods.toml"
CLASSES = ("I", "II", "III", "IV", "V")
DEFAULT_CLASS = "III"
DEFAULT_RPD_LIMIT_PCT = 20.0


@dataclass(frozen=True)
class Parameter:
    key: str
    name: str
    name_zh: str
    table: int  # GB 3838 table: 1 basic, 2 supplementary, 3 specific (drinking-water sources)
    limits: dict[str, float] = field(default_factory=dict)  # class -> mg/L (Table 1)
    limit: float | None = None  # single limit (Tables 2 and 3)
    aliases: tuple[str, ...] = ()
    rpd_limit_pct: float = DEFAULT_RPD_LIMIT_PCT
    verify: bool = False

    def limit_for(self, water_class: str = DEFAULT_CLASS) -> float:
        if self.limits:
            return self.limits[water_class]
        assert self.limit is not None
        return self.limit

    def limit_note(self, water_class: str = DEFAULT_CLASS) -> str:
        if self.limits:
            return f"GB 3838-2002 Table 1, Class {water_class}"
        return f"GB 3838-2002 Table {self.table} (centralised drinking-water sources)"


@dataclass(frozen=True)
class Principle:
    key: str
    name: str
    name_zh: str


@dataclass(frozen=True)
class Method:
    key: str
    name: str
    name_zh: str
    principle: str
    kind: str  # lab | rapid | online


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "").replace("_", "")


@cache
def parameters() -> dict[str, Parameter]:
    data = read_toml(GB3838_FILE)
    out: dict[str, Parameter] = {}
    for i, p in enumerate(data["parameter"]):
        where = f"{GB3838_FILE.name}: parameter #{i + 1}"
        limits = {k: float(v) for k, v in p.get("limits", {}).items()}
        if limits and set(limits) != set(CLASSES):
            raise UserError("errors.core.limits_must_give_classes", where=where, classes=CLASSES)
        if not limits and "limit" not in p:
            raise UserError("errors.core.no_limit", where=where)
        out[p["key"]] = Parameter(
            key=p["key"],
            name=p["name"],
            name_zh=p["name_zh"],
            table=int(p["table"]),
            limits=limits,
            limit=float(p["limit"]) if "limit" in p else None,
            aliases=tuple(p.get("aliases", ())),
            rpd_limit_pct=float(p.get("rpd_limit_pct", DEFAULT_RPD_LIMIT_PCT)),
            verify=bool(p.get("verify", False)),
        )
    return out


@cache
def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for p in parameters().values():
        for spelling in (p.key, p.name, p.name_zh, *p.aliases):
            index[_fold(spelling)] = p.key
    return index


def resolve_parameter(text: str, *, where: str = "parameter") -> Parameter:
    """A parameter by key, English or Chinese name, or alias (Cd, 镉, Cr(VI), NH3-N ...)."""
    if text is None or not str(text).strip():
        raise UserError("errors.core.empty", where=where)
    key = _alias_index().get(_fold(str(text)))
    if key is None:
        close = difflib.get_close_matches(_fold(str(text)), list(_alias_index()), n=3, cutoff=0.6)
        suggestions = sorted({_alias_index()[c] for c in close})
        fix = (
            f"did you mean {', '.join(suggestions)}?"
            if suggestions
            else "run `incident standards` to list parameter keys"
        )
        raise UserError("errors.core.unknown_parameter", where=where, fix=fix, text=repr(text))
    return parameters()[key]


def check_class(water_class: str, *, where: str = "--class") -> str:
    wc = str(water_class).strip().upper()
    roman = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V"}
    wc = roman.get(wc, wc)
    if wc not in CLASSES:
        raise UserError("errors.core.unknown_water_quality_class", where=where, water_class=repr(water_class))
    return wc


def exceedance_multiple(value_mg_l: float, limit_mg_l: float) -> float:
    """(C − limit) / limit: 0.595 mg/L nitrobenzene against 0.017 is 34 "times over".

    Negative when the value meets the standard; callers show only positive values.
    """
    if limit_mg_l <= 0:
        raise ValueError("limit must be positive")
    return (value_mg_l - limit_mg_l) / limit_mg_l


@cache
def principles() -> dict[str, Principle]:
    data = read_toml(METHODS_FILE)
    return {p["key"]: Principle(p["key"], p["name"], p["name_zh"]) for p in data["principle"]}


@cache
def methods() -> dict[str, Method]:
    data = read_toml(METHODS_FILE)
    out = {}
    for m in data["method"]:
        if m["principle"] not in principles():
            raise UserError(
                "errors.core.method_unknown_principle",
                where=METHODS_FILE.name,
                key_name=m["key"],
                principle=repr(m["principle"]),
            )
        out[m["key"]] = Method(m["key"], m["name"], m["name_zh"], m["principle"], m["kind"])
    return out


def check_principle(key: str, *, where: str = "--principle") -> str:
    k = str(key or "").strip().lower()
    if k not in principles():
        if not k:
            raise UserError("errors.core.no_principle", where=where, known=", ".join(principles()))
        raise UserError(
            "errors.core.unknown_principle", where=where, key_name=repr(key), known=", ".join(principles())
        )
    return k


def standards_rows(water_class: str | None = None) -> list[dict[str, Any]]:
    """One row per parameter: key, names, limit(s) in mg/L, table, notes."""
    rows = []
    for p in parameters().values():
        row: dict[str, Any] = {"key": p.key, "name": p.name, "name_zh": p.name_zh, "table": p.table}
        if water_class:
            row["limit_mg_l"] = p.limit_for(water_class)
            row["source"] = p.limit_note(water_class)
        else:
            for c in CLASSES:
                row[c] = p.limits.get(c, p.limit)
        row["rpd_limit_pct"] = p.rpd_limit_pct
        row["verify"] = p.verify
        rows.append(row)
    return rows
