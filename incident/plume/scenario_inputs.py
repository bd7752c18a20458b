"""A plume scenario file (TOML) as pydantic models: the shape of every table and number.

What needs the river network (a reach that exists, a km on it, a spill within 2 km of the river) is
checked by ``forecast.load_scenario`` once the river file is read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field, Strict, model_validator

from incident.core.inputs import InputModel, refuse

#: a number in a TOML file: an integer or a float, never text or true/false
Number = Annotated[float, Strict()]
Text = Annotated[str, Strict()]


def _one_table_is_a_list(value: object) -> object:
    return [value] if isinstance(value, dict) else value  # [spill] written for [[spill]]


class ScenarioTable(InputModel):
    river: Text = Field(min_length=1)
    name: Text | None = None
    start: Text | datetime | None = None  # local time text, or a TOML date-time
    horizon_h: Number | None = Field(default=None, gt=0)
    dispersion: Text | None = None
    velocity: Text | None = None


class SpillTable(InputModel):
    reach: Text | None = None
    km: Number | None = None
    offset_m: Number | None = Field(default=None, ge=0)
    lat: Number | None = Field(default=None, ge=-90, le=90)
    lon: Number | None = Field(default=None, ge=-180, le=180)
    mass_kg: Number | None = Field(default=None, ge=0)
    rate_kg_s: Number | None = Field(default=None, ge=0)
    conc_mg_l: Number | None = Field(default=None, ge=0)
    duration_h: Number = Field(default=0.0, ge=0)
    start_h: Number = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _placed(self) -> SpillTable:
        if self.reach is None and (self.lat is None or self.lon is None):
            raise refuse("errors.plume.spill_has_no_position", "no position", field="reach")
        return self


class InletTable(InputModel):
    reach: Text | None = None  # else the first reach
    times_h: list[Number] = Field(min_length=1)
    conc_mg_l: list[Number] = Field(min_length=1)

    @model_validator(mode="after")
    def _paired(self) -> InletTable:
        if len(self.times_h) != len(self.conc_mg_l):
            raise refuse(
                "errors.plume.inlet_series_lengths",
                "times_h and conc_mg_l differ in length",
                field="conc_mg_l",
                times=len(self.times_h),
                values=len(self.conc_mg_l),
            )
        return self


class PointTable(InputModel):
    reach: Text
    km: Number | None = None
    offset_m: Number | None = Field(default=None, ge=0)
    label: Text | None = None
    name: Text | None = None

    @model_validator(mode="after")
    def _placed(self) -> PointTable:
        if self.km is None and self.offset_m is None:
            raise refuse("errors.plume.missing", "missing", field="km", key_name="'km'", key_name2="km")
        return self


class SubstanceTable(InputModel):
    name: Text | None = None
    decay_per_day: Number = Field(default=0.0, ge=0)
    half_life_h: Number | None = Field(default=None, gt=0)
    standard_mg_l: Number | None = Field(default=None, gt=0)
    detection_mg_l: Number | None = Field(default=None, ge=0)
    background_mg_l: Number = Field(default=0.0, ge=0)


class GridTable(InputModel):
    dx_m: Number | None = Field(default=None, gt=0)
    dt_s: Number | None = Field(default=None, gt=0)


class ScenarioFile(InputModel):
    """A whole scenario file: ``[scenario]``, ``[[spill]]``, ``[[inlet]]``, ``[[point]]``,
    ``[substance]``, ``[grid]``."""

    scenario: ScenarioTable
    spill: Annotated[list[SpillTable], BeforeValidator(_one_table_is_a_list)] = []
    inlet: Annotated[list[InletTable], BeforeValidator(_one_table_is_a_list)] = []
    point: Annotated[list[PointTable], BeforeValidator(_one_table_is_a_list)] = []
    substance: SubstanceTable = SubstanceTable()
    grid: GridTable = GridTable()
