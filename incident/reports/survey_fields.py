"""The fields of the HJ 589-2021 Appendix A field-survey record (light: the CLI parser reads them)."""

from __future__ import annotations

#: Appendix A's fields, in the form's order (their labels: ``survey.f_<name>`` in the catalogs)
FIELDS: tuple[str, ...] = (
    "reporting_unit",
    "location",
    "water_body",
    "coordinates",
    "arrival_time",
    "wind",
    "temperature_c",
    "pressure_hpa",
    "precipitation",
    "flow_direction",
    "velocity_ms",
    "discharge_m3s",
    "protective_measures",
    "surveyor",
    "recorder",
    "incident_time",
    "cause",
    "media",
    "pollutants",
    "properties",
    "amount_lost",
    "appearance",
    "odour",
    "sensitive_receptors",
    "by_products",
    "initial_judgement",
    "site_sketch",
    "photos",
)
#: fields only the store fills (a photo is attached with ``incident photo add``)
FILLED_ONLY = frozenset({"photos"})
#: fields entered as numbers
NUMERIC = frozenset({"temperature_c", "pressure_hpa", "velocity_ms", "discharge_m3s"})
#: the fields a person enters
SURVEY_ENTERED_FIELDS = ENTERED_FIELDS = tuple(f for f in FIELDS if f not in FILLED_ONLY)
SURVEY_FIELDS = FIELDS
