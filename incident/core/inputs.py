"""The one input layer: files and forms are parsed into pydantic models, and refused in the user's words.

Every input model derives from :class:`InputModel` (extra keys refused, NaN and infinity refused, text
stripped). A room's parser turns what it read (a CSV row, a TOML table, a GeoJSON feature) into a dict,
calls :func:`parse` with where the dict came from, and gets the model or a refusal: a
:class:`~incident.core.errors.UserError` (one problem) or :class:`~incident.core.errors.ValidationErrors`
(several), each naming the file and line (``where``), the field, and a catalog key (``errors.input.*``,
in en and zh). A rule of the room's own raises ``PydanticCustomError(<catalog key>, <English text>,
{params})`` inside a validator; the key is kept, so the message is the room's own.

tests/core/test_input_models.py throws hypothesis at every InputModel (huge numbers, NaN, wrong types,
odd Unicode) and fails when a new one is not covered.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError

from incident.core.errors import UserError, ValidationErrors, is_message_key

M = TypeVar("M", bound=BaseModel)

#: where a problem is: the same for the whole input, or by the field's pydantic location
Where = str | Callable[[tuple[Any, ...]], str | None]


def _day(value: object) -> object:
    """An ISO date, a TOML date or ``today±N`` (demo files stay current): ``datafiles.parse_day``."""
    from incident.core.datafiles import parse_day

    try:
        return parse_day(value, where="")
    except UserError as exc:
        raise refuse(exc.key or "errors.core.not_date", exc.message("en"), **exc.params) from None


#: a day in a data file: ``2026-07-01``, a TOML date, ``today+30``; empty is None
Day = Annotated[date | None, BeforeValidator(_day)]


def _local_time(value: object) -> object:
    """Text as ``clock.parse_local`` reads it (local ``YYYY-MM-DD HH:MM`` or ISO with an offset)."""
    if not isinstance(value, str):
        return value
    from incident.core.clock import parse_local

    try:
        return parse_local(value, where="")
    except UserError as exc:
        raise refuse(exc.key or "errors.core.cannot_read_time", exc.message("en"), **exc.params) from None


#: a time in a file or form: local ``2026-07-01 10:00`` (UTC+8) or ISO 8601 with an offset, as aware UTC
LocalTime = Annotated[datetime, BeforeValidator(_local_time)]


class InputModel(BaseModel):
    """The base of every model a file or form is parsed into."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)


def refuse(key: str, english: str, **params: Any) -> PydanticCustomError:
    """A room's own rule, raised inside a validator: the catalog key and its values travel to the refusal."""
    return PydanticCustomError(key, english, params)


def shown(value: Any, limit: int = 40) -> str:
    """A value as a refusal quotes it: short (a 5000-digit number is not repeated back) and never raising."""
    try:
        text = repr(value)
    except (ValueError, TypeError, RecursionError):  # ints past sys.get_int_max_str_digits()
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def field_path(loc: tuple[Any, ...]) -> str:
    """A pydantic location as a person reads it: ``steps.2.title`` -> ``steps[3].title``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _limit(ctx: Mapping[str, Any], name: str) -> str:
    value = ctx.get(name)
    return f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else shown(value)


#: pydantic error type -> (catalog key under errors.input, whether the value is quoted)
_KEYS = {
    "missing": "missing",
    "float_parsing": "number",
    "float_type": "number",
    "int_parsing": "integer",
    "int_type": "integer",
    "int_from_float": "integer",
    "int_parsing_size": "integer",
    "finite_number": "finite",
    "greater_than": "greater_than",
    "greater_than_equal": "greater_equal",
    "less_than": "less_than",
    "less_than_equal": "less_equal",
    "literal_error": "choice",
    "enum": "choice",
    "string_too_short": "empty",
    "string_too_long": "too_long",
    "string_type": "text",
    "string_unicode": "text",
    "extra_forbidden": "extra",
    "list_type": "list",
    "tuple_type": "list",
    "too_short": "too_few",
    "too_long": "too_many",
    "dict_type": "table",
    "model_type": "table",
    "model_attributes_type": "table",
    "bool_type": "yes_no",
    "bool_parsing": "yes_no",
    "datetime_type": "time",
    "datetime_parsing": "time",
    "datetime_from_date_parsing": "time",
    "date_type": "date",
    "date_parsing": "date",
    "date_from_datetime_parsing": "date",
}


def refusals(
    exc: ValidationError,
    *,
    where: Where,
    field_name: Callable[[tuple[Any, ...]], str] = field_path,
) -> list[UserError]:
    """Each problem pydantic found, as a refusal naming where, the field and a catalog key."""
    out: list[UserError] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        kind = str(err.get("type", ""))
        ctx = dict(err.get("ctx") or {})
        at = where if isinstance(where, str) else where(loc)
        name = field_name(loc) or None
        value = shown(err.get("input"))
        if is_message_key(kind):  # a room's own rule (refuse()): its key and values
            named = ctx.pop("field", None)  # a rule over several fields names the one to fix
            if isinstance(named, str):
                loc = (*loc, named)
                at = where if isinstance(where, str) else where(loc)
                name = field_name(loc) or None
            message_key = kind
            out.append(UserError(message_key, where=at, field=name, **{k: _safe(v) for k, v in ctx.items()}))
            continue
        key = _KEYS.get(kind)
        if key is None:  # anything else pydantic finds: its own words, still located
            out.append(
                UserError("errors.input.invalid", where=at, field=name, value=value, reason=err["msg"])
            )
            continue
        params: dict[str, Any] = {"value": value, "name": name or ""}
        if key in ("greater_than", "greater_equal", "less_than", "less_equal"):
            params["limit"] = _limit(ctx, _BOUND[kind])
            params["value"] = _plain(err.get("input"))
        elif key == "choice":
            params["choices"] = str(ctx.get("expected", ""))
        elif key in ("too_long", "too_few", "too_many"):
            params["limit"] = _limit(ctx, "max_length" if key != "too_few" else "min_length")
        message_key = f"errors.input.{key}"
        out.append(UserError(message_key, where=at, field=name, **params))
    return out


_BOUND = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}


def _plain(value: Any) -> str:
    """A number as written (``-3``, not ``'-3'`` when it came from a CSV cell)."""
    if isinstance(value, str):
        return value if len(value) <= 40 else value[:39] + "…"
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:g}"
    return shown(value)


def _safe(value: Any) -> Any:
    """A rule's value as a refusal shows it: a long text is cut (the input may be 5000 digits)."""
    if isinstance(value, str):
        return value if len(value) <= 60 else value[:59] + "…"
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, int) and abs(value) < 10**15:
        return value
    return shown(value)


def parse(
    model: type[M],
    data: Any,
    *,
    where: Where,
    source: str | None = None,
    field_name: Callable[[tuple[Any, ...]], str] = field_path,
) -> M:
    """``data`` as ``model``, or a refusal: one UserError, or ValidationErrors listing all (under ``source``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = refusals(exc, where=where, field_name=field_name)
    except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:  # a validator of ours slipped
        at = where if isinstance(where, str) else where(())
        problems = [UserError("errors.input.invalid", where=at, value=shown(data), reason=str(exc)[:200])]
    if len(problems) == 1:
        raise problems[0]
    fallback = where if isinstance(where, str) else (where(()) or "")
    raise ValidationErrors(source or fallback, problems)


# ---------------------------------------------------------------- where in a TOML file

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\- ]+?)\s*\]\]?\s*(#.*)?$")
_ID_LINE = re.compile(r'^\s*id\s*=\s*["\']([^"\']*)["\']')


@dataclass
class Block:
    """One table of the source: ``[[step]]``, ``[[step.form]]``... with its lines (1-based)."""

    name: str
    start: int
    end: int  # last line
    id: str | None = None
    children: list[Block] = field(default_factory=list)


class SourceMap:
    """Finds the line of a table, a key or a value in a TOML text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.root = Block("", 1, max(1, len(self.lines)))
        self.blocks: list[Block] = []  # top-level tables in order
        current: Block | None = None
        for no, line in enumerate(self.lines, start=1):
            m = _HEADER.match(line)
            if m and not line.lstrip().startswith("#"):
                name = m.group(2).replace(" ", "")
                if "." in name and current is not None and name.split(".")[0] == current.name:
                    child = Block(name.split(".", 1)[1], no, no)
                    current.children.append(child)
                else:
                    current = Block(name, no, no)
                    self.blocks.append(current)
        # close the ranges
        for i, block in enumerate(self.blocks):
            block.end = self.blocks[i + 1].start - 1 if i + 1 < len(self.blocks) else len(self.lines)
            for j, child in enumerate(block.children):
                child.end = block.children[j + 1].start - 1 if j + 1 < len(block.children) else block.end
            own_end = block.children[0].start - 1 if block.children else block.end
            block.id = self._first_id(block.start, own_end)
            for child in block.children:
                child.id = self._first_id(child.start, child.end)
        if self.blocks:
            self.root.end = self.blocks[0].start - 1

    def _first_id(self, start: int, end: int) -> str | None:
        for no in range(start, end + 1):
            m = _ID_LINE.match(self.lines[no - 1])
            if m:
                return m.group(1)
        return None

    def table(self, name: str, ident: str | None = None, index: int | None = None) -> Block | None:
        found = [b for b in self.blocks if b.name == name]
        if ident is not None:
            found = [b for b in found if b.id == ident]
        if index is not None:
            return found[index] if index < len(found) else None
        return found[0] if found else None

    def own_range(self, block: Block) -> tuple[int, int]:
        end = block.children[0].start - 1 if block.children else block.end
        return block.start, end

    def key_line(self, block: Block | None, key: str) -> int | None:
        """Line of ``key = ...`` or ``key.sub = ...`` (dotted path allowed) in a block's own lines."""
        start, end = self.own_range(block) if block else (1, self.root.end)
        end = min(end, len(self.lines))  # an empty file has no line 1 to look at
        parts = key.split(".")
        candidates = [r"\s*\.\s*".join(re.escape(p) for p in parts[:n]) for n in range(len(parts), 0, -1)]
        for pattern in candidates:
            rx = re.compile(rf"^\s*{pattern}\s*(=|\.)")
            for no in range(start, end + 1):
                if rx.match(self.lines[no - 1]):
                    return no
        return None

    def text_line(self, block: Block | None, needle: str) -> int | None:
        start, end = (block.start, block.end) if block else (1, len(self.lines))
        for no in range(start, min(end, len(self.lines)) + 1):
            if needle in self.lines[no - 1]:
                return no
        return None


def toml_where(smap: SourceMap, source: str) -> Callable[[tuple[Any, ...]], str]:
    """``file, line N`` for a pydantic location in a TOML document: ``("spill", 1, "mass_kg")`` is the
    line of ``mass_kg`` in the second ``[[spill]]`` (or the table's header line when the key is absent)."""

    def where(loc: tuple[Any, ...]) -> str:
        if not loc or not isinstance(loc[0], str):
            return source
        names = [str(p) for p in loc]
        block: Block | None = None
        if len(loc) > 2 and isinstance(loc[1], str) and isinstance(loc[2], int):  # [[lab.method]] #n
            parent = smap.table(loc[0])
            children = [c for c in parent.children if c.name == loc[1]] if parent else []
            block = (
                children[loc[2]] if loc[2] < len(children) else smap.table(f"{loc[0]}.{loc[1]}", index=loc[2])
            )
            names = names[3:]
        elif len(loc) > 1 and isinstance(loc[1], int):  # [[spill]] #n
            block = smap.table(loc[0], index=loc[1])
            names = names[2:]
        else:
            block = smap.table(loc[0])
            names = names[1:]
        if block is None:
            line = smap.key_line(None, loc[0])
            return f"{source}, line {line}" if line else source
        line = (smap.key_line(block, names[0]) if names else None) or block.start
        return f"{source}, line {line}"

    return where


# ---------------------------------------------------------------- where in a GeoJSON file


def feature_lines(text: str, count: int) -> list[int]:
    """The line each of the ``count`` features of a FeatureCollection starts on (json keeps no positions,
    so the array is walked with raw_decode); zeros when it cannot tell."""
    import json

    decoder = json.JSONDecoder()
    lines: list[int] = []
    key = text.find('"features"')
    pos = text.find("[", key) + 1 if key >= 0 else -1
    while pos > 0 and len(lines) < count:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        try:
            _, end = decoder.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError):
            break
        lines.append(text.count("\n", 0, pos) + 1)
        pos = end
    return lines if len(lines) == count else [0] * count  # "features" appeared earlier in a string


# ---------------------------------------------------------------- a number typed by a person

#: a number in a form field or on the command line: ASCII digits, one optional sign, point and exponent
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?\Z")
_PLAIN_WHOLE = re.compile(r"[+-]?[0-9]+\Z")
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?\Z")  # 12,500.5
#: past this, a typed number is a slip of the finger (a river is not 10¹² km long, no spill 10¹² kg)
MAX_TYPED = 1e12
#: the largest whole number a form takes (a round, a headcount)
MAX_TYPED_WHOLE = 10**9


def _typed(pattern: re.Pattern[str], key: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise refuse(key, "not a number", value=shown(value))
        if isinstance(value, str):
            text = value.strip()
            if _GROUPED.match(text):  # thousands separators, as people write 12,500
                text = text.replace(",", "")
            if not pattern.match(text):  # "1²", "１２", "1_000", "nan", "inf", "0x10", "1 000"
                raise refuse(key, "not a number", value=shown(value))
            return text
        return value

    return check


def _within(value: Any, info: ValidationInfo) -> Any:
    """The caller's bounds (``minimum``/``maximum`` in the validation context), checked in the model."""
    ctx = info.context or {}
    low, high = ctx.get("minimum"), ctx.get("maximum")
    if low is not None and value < low:
        raise refuse(
            "errors.input.greater_equal", "too small", value=_plain(value), limit=_limit(ctx, "minimum")
        )
    if high is not None and value > high:
        raise refuse(
            "errors.input.less_equal", "too large", value=_plain(value), limit=_limit(ctx, "maximum")
        )
    return value


class NumberText(InputModel):
    """A number as a person types it (a form field, a CLI flag): ASCII digits only, finite, |x| ≤ 10¹²."""

    value: Annotated[
        float,
        BeforeValidator(_typed(_PLAIN_NUMBER, "errors.input.typed_number")),
        Field(ge=-MAX_TYPED, le=MAX_TYPED),
        AfterValidator(_within),
    ]


class WholeNumberText(InputModel):
    """A whole number as a person types it (a round, a headcount): ASCII digits only, |n| ≤ 10⁹."""

    value: Annotated[
        int,
        BeforeValidator(_typed(_PLAIN_WHOLE, "errors.input.typed_whole")),
        Field(ge=-MAX_TYPED_WHOLE, le=MAX_TYPED_WHOLE),
        AfterValidator(_within),
    ]


def parse_number(
    text: str | float,
    *,
    field: str,
    label: str | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    whole: bool = False,
) -> float:
    """A typed number, or a refusal naming ``field`` (the form field or flag; ``label`` is how the
    reader knows it, in their language). The one rule for numbers people type, in forms and the CLI."""
    model: type[NumberText | WholeNumberText] = WholeNumberText if whole else NumberText
    try:
        parsed = model.model_validate({"value": text}, context={"minimum": minimum, "maximum": maximum})
    except ValidationError as exc:
        problem = refusals(exc, where="", field_name=lambda loc: label or field)[0]
        problem.field = field
        problem.params["name"] = label or field
        raise problem.relocated(None) from None
    return parsed.value
