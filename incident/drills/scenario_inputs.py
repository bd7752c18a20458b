"""A drill scenario file (TOML) as pydantic models.

The river the file names is read first and handed to validation as its context (``{"net": ...}``), so
the reach, km and lat/lon checks and the forecast targets' receptors are refused in the same pass as
every other problem: all of them are reported at once, each with the file, line and field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, Strict, ValidationInfo, field_validator, model_validator

from incident.core.errors import UserError
from incident.core.inputs import InputModel, refuse

Number = Annotated[float, Strict()]
Text = Annotated[str, Strict()]

TIMELINE_METRICS = (
    "alert",
    "depart",
    "on_site",
    "first_sample",
    "first_data",
    "flash_drafted",
    "first_flash_report",
)
ERROR_METRICS = ("forecast_arrival_error", "forecast_peak_error")
DEFAULT_CV = 0.15
DEFAULT_TURNAROUND_MIN = 120.0
DEFAULT_SPEED = 1.0
MAX_SPEED = 600.0
MAX_SEED = 2**63 - 1


def _net(info: ValidationInfo) -> Any:
    return (info.context or {}).get("net")


class DrillTable(InputModel):
    name: Text = Field(min_length=1)
    name_zh: Text | None = None
    river: Text = Field(min_length=1)
    playbook: Text = "river_chemical_spill"
    speed: Number = Field(default=DEFAULT_SPEED, gt=0)
    horizon_h: Number = Field(default=48.0, gt=0)
    seed: Annotated[int, Strict()] = Field(
        default=1, ge=0, le=MAX_SEED
    )  # the generator takes whole numbers ≥ 0

    @field_validator("speed")
    @classmethod
    def _playable(cls, value: float) -> float:
        if value > MAX_SPEED:
            raise refuse("errors.drills.speed_too_fast_play", "too fast", speed=value, max_speed=MAX_SPEED)
        return value


class _Placed(InputModel):
    """Where: ``reach`` + ``km``, or ``lat`` + ``lon`` (WGS84); on the river when the river is known."""

    reach: Text | None = None
    km: Number | None = None
    lat: Number | None = Field(default=None, ge=-90, le=90)
    lon: Number | None = Field(default=None, ge=-180, le=180)

    @field_validator("reach")
    @classmethod
    def _known_reach(cls, value: str | None, info: ValidationInfo) -> str | None:
        net = _net(info)
        ids = [x.reach_id for x in net.reaches] if net is not None else None
        if value is not None and ids is not None and value not in ids:
            raise refuse(
                "errors.drills.unknown_reach", "unknown reach", reach=repr(value), value=", ".join(ids)
            )
        return value

    @field_validator("km")
    @classmethod
    def _on_reach(cls, value: float | None, info: ValidationInfo) -> float | None:
        net, reach_id = _net(info), info.data.get("reach")
        if value is None or net is None or reach_id not in [x.reach_id for x in net.reaches]:
            return value
        reach = net.reach(reach_id)
        lo, hi = reach.km_start, reach.km_start + reach.length_m / 1000
        if not lo - 1e-6 <= value <= hi + 1e-6:
            raise refuse(
                "errors.drills.km_outside_reach", "outside the reach", km=value, reach=reach_id, lo=lo, hi=hi
            )
        return value

    @field_validator("lon")
    @classmethod
    def _near_river(cls, value: float | None, info: ValidationInfo) -> float | None:
        net, lat = _net(info), info.data.get("lat")
        if value is None or lat is None or net is None or info.data.get("reach") is not None:
            return value
        snap = net.snap(lat, value)
        if snap.distance_off_m > 2000:
            raise refuse(
                "errors.drills.point_km_river_nearest",
                "far from the river",
                value=snap.distance_off_m / 1000,
                reach_id=snap.reach_id,
            )
        return value

    @model_validator(mode="after")
    def _placed(self) -> Any:
        if self.reach is not None:
            if self.km is None:
                raise refuse(
                    "errors.drills.missing_3", "missing", field="km", key_name="'km'", key_name2="km"
                )
        elif self.lat is None or self.lon is None:
            raise refuse("errors.drills.no_position", "no position", field="reach")
        return self


class ReportedTable(_Placed):
    """What the caller reports (all the players see at the start)."""

    title: Text = Field(min_length=1)
    title_zh: Text | None = None
    substance: Text | None = None
    pollutant_class: Literal["heavy_metal", "organic", "oil", "other"] | None = None
    mass_kg: Number | None = Field(default=None, ge=0)
    release_duration_h: Number | None = Field(default=None, ge=0)
    description: Text = ""
    caller: Text = ""


class TruthTable(_Placed):
    """What really happened (hidden from the players)."""

    offset_min: Number = 0.0
    substance: Text = Field(min_length=1)
    mass_kg: Number = Field(gt=0)
    duration_h: Number = Field(default=0.0, ge=0)
    decay_per_day: Number = Field(default=0.0, ge=0)
    half_life_h: Number | None = Field(default=None, gt=0)
    background_mg_l: Number = Field(default=0.0, ge=0)
    velocity_factor: Number = Field(default=1.0, gt=0)
    dispersion_factor: Number = Field(default=1.0, gt=0)

    @field_validator("substance")
    @classmethod
    def _known(cls, value: str) -> str:
        from incident.core import standards

        try:
            return standards.resolve_parameter(value, where="").key
        except UserError as exc:
            raise refuse(exc.key or "errors.input.invalid", exc.message("en"), **exc.params) from None


class InjectTable(InputModel):
    at_min: Number = Field(ge=0)
    title: Text = Field(min_length=1)
    message: Text = Field(min_length=1)
    sender: Text = Field(default="", alias="from")
    kind: Literal["message", "call", "flow_change", "media", "other"] = "message"


class TargetTable(InputModel):
    capability: Text = Field(min_length=1)
    capability_zh: Text | None = None
    metric: Text = Field(min_length=1)
    within_min: Number | None = Field(default=None, gt=0)
    max_error_pct: Number | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _measurable(self, info: ValidationInfo) -> Any:
        base, _, receptor = self.metric.partition(":")
        if self.metric in TIMELINE_METRICS:
            if self.within_min is None:
                raise refuse(
                    "errors.drills.timeline_target_needs_within", "needs within_min", field="within_min"
                )
        elif base in ERROR_METRICS:
            net = _net(info)
            receptors = {x.receptor_id for x in net.receptors} if net is not None else None
            if receptors is not None and receptor not in receptors:
                raise refuse(
                    "errors.drills.unknown_receptor",
                    "unknown receptor",
                    field="metric",
                    receptor=repr(receptor),
                    metric=repr(self.metric),
                    base=base,
                    value=", ".join(sorted(receptors)),
                )
            if self.max_error_pct is None:
                raise refuse(
                    "errors.drills.forecast_target_needs_max", "needs max_error_pct", field="max_error_pct"
                )
        else:
            raise refuse(
                "errors.drills.unknown_metric",
                "unknown metric",
                field="metric",
                metric=repr(self.metric),
                value=", ".join(TIMELINE_METRICS),
            )
        return self


class MethodTable(InputModel):
    key: Text = Field(min_length=1)
    detection_limit_mg_l: Number = Field(gt=0)
    turnaround_min: Number = Field(default=DEFAULT_TURNAROUND_MIN, ge=0)
    cv: Number | None = Field(default=None, ge=0)  # else the lab's
    style: Literal["value", "range", "qualitative"] = "value"
    ranges_mg_l: list[Number] = []
    instrument: Text = ""
    lab: Text = ""

    @field_validator("key")
    @classmethod
    def _known(cls, value: str) -> str:
        from incident.core import standards

        key, known = value.lower(), standards.methods()
        if key not in known:
            raise refuse(
                "errors.drills.unknown_method", "unknown method", key_name=repr(key), value=", ".join(known)
            )
        return key

    @model_validator(mode="after")
    def _complete(self) -> MethodTable:
        from incident.core import standards

        edges = self.ranges_mg_l
        if self.style == "range" and (
            len(edges) < 2
            or any(x <= 0 for x in edges)
            or any(b <= a for a, b in zip(edges, edges[1:], strict=False))
        ):
            raise refuse("errors.drills.range_method_needs_ranges", "needs ranges", field="ranges_mg_l")
        if standards.methods()[self.key].kind == "rapid" and not self.instrument:
            raise refuse(
                "errors.drills.rapid_method_field_results",
                "needs its instrument",
                field="instrument",
                key_name=self.key,
            )
        return self


class LabTable(InputModel):
    cv: Number = Field(default=DEFAULT_CV, ge=0)
    default_method: Text | None = None
    method: list[MethodTable] = []


class DrillFile(InputModel):
    """The whole file: ``[drill]``, ``[reported]``, ``[truth]``, ``[[inject]]``, ``[[target]]``, ``[lab]``
    with its ``[[lab.method]]``."""

    drill: DrillTable
    reported: ReportedTable
    truth: TruthTable
    inject: list[InjectTable] = []
    target: list[TargetTable] = []
    lab: LabTable = Field(default_factory=LabTable, validate_default=True)

    @field_validator("target")
    @classmethod
    def _distinct(cls, value: list[TargetTable]) -> list[TargetTable]:
        names = [t.capability for t in value]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            raise refuse("errors.drills.capability_listed_twice", "listed twice", dup=repr(dup))
        return value

    @field_validator("lab")
    @classmethod
    def _methods(cls, value: LabTable) -> LabTable:
        if not value.method:
            raise refuse("errors.drills.drill_s_lab_has_2", "no method", field="method")
        keys = [m.key for m in value.method]
        if value.default_method is not None and value.default_method.lower() not in keys:
            raise refuse(
                "errors.drills.default_method_not_one",
                "not one of the methods",
                field="default_method",
                default_method=repr(value.default_method.lower()),
                value=", ".join(keys),
            )
        return value
