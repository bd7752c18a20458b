"""The risk-source register, intakes and interception points: pydantic models and their files.

Two file types, each refused whole when anything is wrong (every problem names the file, the line or
feature, and the field, in the user's language):

* GeoJSON (RFC 7946, WGS84): one ``Point`` feature per entry (the point is the place), or a null
  geometry with ``reach`` and ``km`` in the properties. A risk source lists its substances as a list
  of objects; its contact is an object ``{"name": ..., "phone": ...}`` or ``contact_name``/
  ``contact_phone``.
* CSV (UTF-8, header row): a risk source takes one row per substance (rows with the same id are one
  source; its name, kind, place and contact may be left empty after the first row).

The intakes file holds both intakes (``role = intake``) and interception points
(``role = interception``). An intake's place may also be the id of a receptor of the river file.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from incident.core.errors import UserError, ValidationErrors

SOURCE_KINDS = ("enterprise", "outfall", "bridge", "road_crossing", "pipeline", "tank_farm", "wharf")
INTERCEPTION_KINDS = ("gate", "dam", "reservoir", "tributary_mouth", "weir_site", "boom_site")
ROLES = ("intake", "interception")

SourceKind = Literal["enterprise", "outfall", "bridge", "road_crossing", "pipeline", "tank_farm", "wharf"]
InterceptionKind = Literal["gate", "dam", "reservoir", "tributary_mouth", "weir_site", "boom_site"]

SOURCE_CSV_COLUMNS = (
    "id",
    "name",
    "name_zh",
    "kind",
    "reach",
    "km",
    "lon",
    "lat",
    "substance",
    "max_release_kg",
    "release_duration_h",
    "standard_mg_l",
    "decay_per_day",
    "contact_name",
    "contact_phone",
    "notes",
)
SOURCE_LEVEL = (
    "name",
    "name_zh",
    "kind",
    "reach",
    "km",
    "lon",
    "lat",
    "contact_name",
    "contact_phone",
    "notes",
)
SUBSTANCE_COLUMNS = ("substance", "max_release_kg", "release_duration_h", "standard_mg_l", "decay_per_day")
INTAKE_CSV_COLUMNS = (
    "role",
    "id",
    "name",
    "name_zh",
    "kind",
    "reach",
    "km",
    "lon",
    "lat",
    "receptor",
    "population_served",
    "reserve_h",
    "response_h",
    "notes",
)


# ---------------------------------------------------------------- models


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise PydanticCustomError("preplan_finite", "must be a finite number")
    return value


class Place(_Model):
    """Where on the network: ``reach`` + ``km`` (chainage along its branch) or ``lon`` + ``lat``."""

    reach: str | None = None
    km: float | None = None
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)

    _finite_km = field_validator("km", "lon", "lat")(_finite)

    @model_validator(mode="after")
    def _one_way(self) -> Place:
        river = (self.reach is not None, self.km is not None)
        world = (self.lon is not None, self.lat is not None)
        if not ((all(river) and not any(world)) or (all(world) and not any(river))):
            raise PydanticCustomError("preplan_place", "give reach and km, or lon and lat")
        return self

    @property
    def on_river(self) -> bool:
        return self.reach is not None


class Substance(_Model):
    """A substance held at a source and its maximum credible release."""

    substance: str = Field(min_length=1)
    max_release_kg: float = Field(gt=0)
    release_duration_h: float = Field(default=0.0, ge=0)
    standard_mg_l: float | None = Field(default=None, gt=0)  # else GB 3838-2002 (Class III / Table 3)
    decay_per_day: float = Field(default=0.0, ge=0)  # first-order decay; 0 (conservative) by default

    _finite = field_validator("max_release_kg", "release_duration_h", "standard_mg_l", "decay_per_day")(
        _finite
    )


class Contact(_Model):
    name: str | None = None
    phone: str | None = None


class RiskSource(_Model):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    name_zh: str | None = None
    kind: SourceKind
    place: Place
    substances: tuple[Substance, ...]
    contact: Contact = Contact()
    notes: str | None = None

    @field_validator("substances")
    @classmethod
    def _some(cls, value: tuple[Substance, ...]) -> tuple[Substance, ...]:
        if not value:
            raise PydanticCustomError("preplan_substances", "no substance")
        return value


class Intake(_Model):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    name_zh: str | None = None
    place: Place | None = None
    receptor: str | None = None  # a receptor id of the river file, instead of a place
    population_served: int = Field(default=0, ge=0)
    reserve_h: float = Field(ge=0)  # hours of supply the works can run on with the intake shut
    notes: str | None = None

    _finite = field_validator("reserve_h")(_finite)

    @model_validator(mode="after")
    def _placed(self) -> Intake:
        if (self.place is None) == (self.receptor is None):
            raise PydanticCustomError("preplan_intake_place", "place or receptor")
        return self


class InterceptionPoint(_Model):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    name_zh: str | None = None
    kind: InterceptionKind
    place: Place
    response_h: float = Field(ge=0)  # time a response needs there (mobilise, close, build)
    notes: str | None = None

    _finite = field_validator("response_h")(_finite)


@dataclass
class Register:
    """What one file held, with where each entry came from (for messages and the change log)."""

    source: str
    risk_sources: list[RiskSource] = field(default_factory=list)
    intakes: list[Intake] = field(default_factory=list)
    interception_points: list[InterceptionPoint] = field(default_factory=list)
    where: dict[str, str] = field(default_factory=dict)  # entry id -> "file, line N"


# ---------------------------------------------------------------- problems


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[UserError] = []

    def add(self, where: str, key: str, *, field: str = "", **params: Any) -> None:
        message_key = f"preplan.err.{key}"
        self.items.append(UserError(message_key, where=where, field=field or None, **params))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationErrors(self.source, self.items, outcome="preplan.err.problems")


def _field_name(loc: tuple[Any, ...], prefix: dict[str, str]) -> str:
    """A pydantic location as the user wrote it: place.km -> km, substances.1.max_release_kg ->
    substances[2].max_release_kg (or the CSV column), contact.phone -> contact_phone."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "place" and len(parts) > 1:
        return parts[1]
    if parts and parts[0] == "contact" and len(parts) > 1:
        return f"contact_{parts[1]}"
    if parts and parts[0] == "substances" and len(parts) > 2:
        return prefix.get(parts[1], f"substances[{int(parts[1]) + 1}].") + parts[2]
    return ".".join(parts) if parts else ""


_KNOWN_FIELDS = {
    "source": ", ".join(SOURCE_CSV_COLUMNS),
    "intake": ", ".join(c for c in INTAKE_CSV_COLUMNS if c not in ("kind", "response_h")),
    "interception": ", ".join(
        c for c in INTAKE_CSV_COLUMNS if c not in ("receptor", "population_served", "reserve_h")
    ),
}


def _g(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _report(
    problems: _Problems, where: str, exc: ValidationError, role: str, prefix: dict[str, str], where_of
) -> None:
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        kind = err["type"]
        name = _field_name(loc, prefix)
        at = where_of(loc) or where
        value = err.get("input")
        ctx = err.get("ctx") or {}
        if kind == "missing":
            problems.add(at, "missing", field=name)
        elif kind in ("float_parsing", "float_type"):
            problems.add(at, "number", field=name, value=value)
        elif kind in ("int_parsing", "int_type", "int_from_float"):
            problems.add(at, "integer", field=name, value=value)
        elif kind in ("finite_number", "preplan_finite"):
            problems.add(at, "finite", field=name)
        elif kind == "greater_than":
            problems.add(at, "greater_than", field=name, value=value, limit=_g(ctx.get("gt")))
        elif kind == "greater_than_equal":
            problems.add(at, "greater_equal", field=name, value=value, limit=_g(ctx.get("ge")))
        elif kind == "less_than_equal":
            problems.add(at, "less_equal", field=name, value=value, limit=_g(ctx.get("le")))
        elif kind == "literal_error":
            choices = SOURCE_KINDS if role == "source" else INTERCEPTION_KINDS
            problems.add(at, "choice", field=name, value=value, choices=", ".join(choices))
        elif kind == "string_too_short":
            problems.add(at, "empty", field=name)
        elif kind == "string_type":
            problems.add(at, "text", field=name)
        elif kind == "extra_forbidden":
            problems.add(at, "extra", field=name, fields=_KNOWN_FIELDS[role])
        elif kind in ("tuple_type", "list_type"):
            problems.add(at, "list", field=name)
        elif kind == "preplan_place":
            problems.add(at, "place", field="reach/km/lon/lat")
        elif kind == "preplan_intake_place":
            problems.add(at, "intake_place", field="reach/km/lon/lat/receptor")
        elif kind == "preplan_substances":
            problems.add(at, "substances", field="substances")
        else:  # anything else pydantic finds: its own words beat silence
            problems.add(at, "other", field=name, detail=err["msg"])


# ---------------------------------------------------------------- files


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError("preplan.err.read", where=str(path), reason=exc.strerror or str(exc)) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError("preplan.err.utf8", where=str(path)) from exc


def _features_with_lines(text: str, source: str) -> list[tuple[int, Any]]:
    """The features of a FeatureCollection with the line each starts on (json keeps no positions, so
    the array is walked with raw_decode)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError("preplan.err.json", where=f"{source}, line {exc.lineno}", reason=exc.msg) from exc
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        raise UserError("preplan.err.collection", where=source)
    decoder = json.JSONDecoder()
    lines: list[int] = []
    key = text.find('"features"')
    pos = text.find("[", key) + 1 if key >= 0 else -1
    while pos > 0 and len(lines) < len(doc["features"]):
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        try:
            _, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            break
        lines.append(text.count("\n", 0, pos) + 1)
        pos = end
    if len(lines) != len(doc["features"]):  # "features" appeared earlier in a string: no lines then
        lines = [0] * len(doc["features"])
    return list(zip(lines, doc["features"], strict=True))


def _feature_where(source: str, line: int, index: int, props: dict) -> str:
    fid = props.get("id") if isinstance(props, dict) else None
    label = f"feature {index + 1}" + (f" (id {fid})" if fid not in (None, "") else "")
    return f"{source}, line {line}, {label}" if line else f"{source}, {label}"


def _geojson_records(text: str, source: str, problems: _Problems) -> list[tuple[str, dict]]:
    """(where, properties with the point as lon/lat) per feature."""
    out = []
    for index, (line, feat) in enumerate(_features_with_lines(text, source)):
        props = feat.get("properties") if isinstance(feat, dict) else None
        where = _feature_where(source, line, index, props or {})
        if not isinstance(feat, dict) or feat.get("type") != "Feature" or not isinstance(props or {}, dict):
            problems.add(where, "feature")
            continue
        data = dict(props or {})
        geom = feat.get("geometry")
        if geom is not None:
            coords = geom.get("coordinates") if isinstance(geom, dict) else None
            if (
                not isinstance(geom, dict)
                or geom.get("type") != "Point"
                or not isinstance(coords, list)
                or len(coords) < 2
            ):
                problems.add(where, "geometry", field="geometry")
                continue
            data["lon"], data["lat"] = coords[0], coords[1]
        out.append((where, data))
    return out


def _csv_records(
    text: str, source: str, columns: tuple[str, ...], problems: _Problems
) -> list[tuple[str, dict]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        problems.add(source, "csv_empty", columns=", ".join(columns))
        return []
    names = [h.strip() for h in header]
    for name in names:
        if name and name not in columns:
            problems.add(
                f"{source}, line 1", "csv_columns", field=name, column=name, columns=", ".join(columns)
            )
    out = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        data = {
            name: cell.strip()
            for name, cell in zip(names, row, strict=False)
            if name in columns and cell.strip() != ""
        }
        out.append((f"{source}, line {reader.line_num}", data))
    return out


def _nowhere(loc: tuple[Any, ...]) -> str | None:
    return None


def _place_of(data: dict) -> dict | None:
    place = {k: data.pop(k) for k in ("reach", "km", "lon", "lat") if k in data}
    return place or None


def _contact_of(data: dict) -> dict:
    contact = data.pop("contact", None)
    flat = {k[len("contact_") :]: data.pop(k) for k in ("contact_name", "contact_phone") if k in data}
    if isinstance(contact, dict):
        return {**contact, **flat}
    if contact is not None:
        data["contact"] = contact  # let pydantic refuse it
    return flat


def _kind_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        return "geojson"
    if suffix == ".csv":
        return "csv"
    raise UserError("preplan.err.format", where=str(path), suffix=path.suffix)


def _check_unique(problems: _Problems, seen: dict[str, str], entry_id: str, where: str) -> bool:
    if not entry_id:
        return False  # pydantic reports the missing id
    if entry_id in seen:
        problems.add(where, "duplicate", field="id", id=entry_id, first=seen[entry_id])
        return False
    seen[entry_id] = where
    return True


def load_sources(path: str | Path) -> Register:
    """Read a risk-source register (GeoJSON or CSV); raise ValidationErrors listing every problem."""
    path = Path(path)
    kind = _kind_of(path)
    return parse_sources(_read_text(path), str(path), kind)


def parse_sources(text: str, source: str, kind: str = "geojson") -> Register:
    problems = _Problems(source)
    reg = Register(source)
    if kind == "csv":
        entries = _merge_csv_sources(_csv_records(text, source, SOURCE_CSV_COLUMNS, problems), problems)
    else:
        entries = [(where, data, {}, _nowhere) for where, data in _geojson_records(text, source, problems)]
    for where, data, prefix, where_of in entries:
        place = _place_of(data)
        contact = _contact_of(data)
        record = {**data, "contact": contact}
        if place is not None:
            record["place"] = place
        unique = _check_unique(problems, reg.where, str(record.get("id", "")).strip(), where)
        try:
            model = RiskSource.model_validate(record)
        except ValidationError as exc:
            _report(problems, where, exc, "source", prefix, where_of)
            continue
        if unique:
            reg.risk_sources.append(model)
    problems.raise_if_any()
    return reg


def _merge_csv_sources(
    rows: list[tuple[str, dict]], problems: _Problems
) -> list[tuple[str, dict, dict, Any]]:
    """One entry per source id; each row adds a substance. Returns (where, record, field prefix per
    substance index, a function giving the row of a substance error)."""
    merged: dict[str, tuple[str, dict, list[str], dict[str, str]]] = {}
    order: list[str] = []
    for where, data in rows:
        sid = data.get("id", "")
        sub = {k: data[k] for k in SUBSTANCE_COLUMNS if k in data}
        if sid not in merged:
            base = {k: v for k, v in data.items() if k not in SUBSTANCE_COLUMNS}
            merged[sid] = (where, base, [], {})
            order.append(sid)
        first_where, base, sub_wheres, origin = merged[sid]
        for key in SOURCE_LEVEL:
            if key in data and key in base and base[key] != data[key]:
                problems.add(
                    where,
                    "conflict",
                    field=key,
                    value=data[key],
                    other=base[key],
                    first=origin.get(key, first_where),
                )
            elif key in data and key not in base:
                base[key] = data[key]
                origin[key] = where
        if sub:
            base.setdefault("substances", []).append(sub)
            sub_wheres.append(where)
    out = []
    for sid in order:
        where, base, sub_wheres, _ = merged[sid]
        prefix = {str(i): "" for i in range(len(sub_wheres))}  # the CSV column name alone

        def where_of(loc, sub_wheres=sub_wheres):
            if (
                len(loc) > 1
                and loc[0] == "substances"
                and str(loc[1]).isdigit()
                and int(loc[1]) < len(sub_wheres)
            ):
                return sub_wheres[int(loc[1])]
            return None

        base.setdefault("substances", [])
        out.append((where, base, prefix, where_of))
    return out


def load_intakes(path: str | Path) -> Register:
    """Read intakes and interception points (GeoJSON or CSV, ``role`` per entry)."""
    path = Path(path)
    kind = _kind_of(path)
    return parse_intakes(_read_text(path), str(path), kind)


def parse_intakes(text: str, source: str, kind: str = "geojson") -> Register:
    problems = _Problems(source)
    reg = Register(source)
    if kind == "csv":
        records = _csv_records(text, source, INTAKE_CSV_COLUMNS, problems)
    else:
        records = _geojson_records(text, source, problems)
    for where, data in records:
        role = str(data.pop("role", "intake")).strip().lower()
        if role not in ROLES:
            problems.add(where, "role", field="role", value=role)
            continue
        place = _place_of(data)
        record = dict(data)
        if place is not None:
            record["place"] = place
        unique = _check_unique(problems, reg.where, str(record.get("id", "")).strip(), where)
        model_cls = Intake if role == "intake" else InterceptionPoint
        try:
            model = model_cls.model_validate(record)
        except ValidationError as exc:
            _report(problems, where, exc, role, {}, _nowhere)
            continue
        if unique and role == "intake" and isinstance(model, Intake):
            reg.intakes.append(model)
        elif unique and isinstance(model, InterceptionPoint):
            reg.interception_points.append(model)
    if not problems.items and not reg.intakes:
        problems.add(source, "no_intakes")
    problems.raise_if_any()
    return reg
