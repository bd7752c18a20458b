"""A row of the source-tracing CSV (docs/formats/trace-csv.md) as a pydantic model.

The row's shape and numbers are checked here; what needs the river network (a station that is a
receptor of the river file, a km on the named reach) is checked by ``uncertainty._trace_rows``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, ValidationError, ValidatorFunctionWrapHandler, WrapValidator, model_validator

from incident.core.inputs import InputModel, LocalTime, refuse, shown

#: what a laboratory writes for "not detected" (compared in lower case); an empty cell is one too
NON_DETECT = frozenset({"nd", "n.d.", "<dl", "not detected", "未检出"})
#: a concentration above a million mg/L (pure substance) is a typo, not a measurement
MAX_MG_L = 1e6
#: a river longer than 10,000 km does not exist
MAX_KM = 10_000.0


def _concentration(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """``ND`` (and its spellings, or nothing) is None; anything else a number of mg/L, 0 ≤ v ≤ 10⁶."""
    if value is None or (
        isinstance(value, str) and (not value.strip() or value.strip().lower() in NON_DETECT)
    ):
        return None
    try:
        return handler(value)
    except ValidationError:
        raise refuse(
            "errors.plume.value_not_concentration", "not a concentration", value_text=shown(value)
        ) from None


def _detection_limit(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        raise refuse(
            "errors.plume.detection_limit_not_number", "not a number > 0", detection_limit_mg_l=shown(value)
        ) from None


def _km(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return handler(value)
    except ValidationError:
        raise refuse("errors.plume.km_not_number", "not a number", km=shown(value)) from None


class TraceRow(InputModel):
    """One observation: a station, when, the value in mg/L (None = not detected) and the detection limit."""

    station: str = Field(min_length=1)
    reach: str = ""
    km: Annotated[float | None, Field(ge=-MAX_KM, le=MAX_KM), WrapValidator(_km)] = None
    time: LocalTime
    value_mg_l: Annotated[float | None, Field(ge=0, le=MAX_MG_L), WrapValidator(_concentration)] = None
    detection_limit_mg_l: Annotated[float, Field(gt=0, le=MAX_MG_L), WrapValidator(_detection_limit)]

    @model_validator(mode="before")
    @classmethod
    def _station_named(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("station"), str) and not data["station"].strip():
            raise refuse("errors.plume.station_empty", "station is empty", field="station")
        return data

    @property
    def censored(self) -> bool:
        """Not detected, or below the detection limit."""
        return self.value_mg_l is None or self.value_mg_l < self.detection_limit_mg_l
