"""Every table of the mission, so later work extends rather than rewrites.

Conventions:
- times are timezone-aware UTC ``datetime`` (SQLModel's UTCDateTime; screens show local time);
- concentrations are stored as entered (value + unit) *and* normalised to mg/L;
- free-form structured data (form answers, geometry) is canonical JSON text;
- rows that are evidence (log entries, samples, results, custody, released
  reports) are append-only: corrections are new rows that reference the old.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

# ---------------------------------------------------------------- incidents


class Incident(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True)  # e.g. INC-2026-0001 / EX-2026-0001
    title: str
    title_zh: str | None = None
    medium: str = "water"  # water | air | soil | other (HJ 589 §10 termination rule depends on it)
    is_exercise: bool = Field(default=False, index=True)
    status: str = "active"  # active | termination_proposed | terminated | closed
    alert_at: datetime
    created_at: datetime
    created_by: str
    river_network_id: int | None = Field(default=None, foreign_key="rivernetwork.id")
    # source as reported; snapped position filled from the river network
    source_lat: float | None = None
    source_lon: float | None = None
    source_datum: str = "WGS84"
    source_reach: str | None = None
    source_km: float | None = None
    source_offset_m: float | None = None  # distance of the reported point from the river line
    substance: str | None = None  # parameter key in the standards table, e.g. "cadmium"
    pollutant_class: str | None = None  # heavy_metal | organic | oil | other
    mass_kg: float | None = None
    release_start: datetime | None = None
    release_duration_h: float | None = None
    decay_per_day: float | None = None
    description: str = ""
    exercise_scenario_json: str | None = None  # hidden truth (drills); never shown to players
    # exercise clock (drills): wall-clock start, current speed and the clock's segments
    # [{"wall": iso, "ex": iso, "speed": x}] so any wall time maps to exercise time
    exercise_started_at: datetime | None = None
    exercise_speed: float | None = None
    exercise_clock_json: str | None = None


# ---------------------------------------------------------------- rivers


class RiverNetwork(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    name_zh: str | None = None
    source_file: str
    sha256: str = Field(index=True)
    geojson: str  # the file as imported, so the incident is self-contained
    imported_at: datetime


class Reach(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("network_id", "reach_id"),)
    id: int | None = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="rivernetwork.id", index=True)
    reach_id: str
    name: str = ""
    downstream_reach_id: str | None = None
    length_m: float
    km_start: float  # chainage of the upstream end along its branch
    to_outlet_m: float  # distance from the upstream end to the network outlet
    discharge_m3s: float
    width_m: float
    depth_m: float
    area_m2: float | None = None
    velocity_ms: float | None = None
    slope: float | None = None
    manning_n: float | None = None
    lateral_inflow_m2s: float | None = None
    storage_area_m2: float | None = None
    exchange_rate_per_s: float | None = None
    dispersion_m2s: float | None = None
    geometry_json: str


class Receptor(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("network_id", "receptor_id"),)
    id: int | None = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="rivernetwork.id", index=True)
    receptor_id: str
    name: str
    name_zh: str | None = None
    kind: str  # drinking_water_intake | automatic_station | boundary_section | other
    lat: float
    lon: float
    reach_id: str
    km: float
    offset_m: float  # distance from the receptor point to the river line
    population_served: int | None = None


# ---------------------------------------------------------------- playbooks


class PlaybookRun(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    playbook_id: str
    playbook_sha256: str
    started_at: datetime
    started_by: str
    current_step: str | None = None
    finished_at: datetime | None = None
    variables_json: str = "{}"  # branch conditions (pollutant class, intake threatened...)
    # finished steps in order, each {"step", "status", "variables_before"}: what undo walks back
    history_json: str = "[]"
    # the playbook text the run was started with, so a later edit of the file never moves a run
    source_toml: str = ""
    source_name: str = ""


class StepState(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("run_id", "step_id"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="playbookrun.id", index=True)
    step_id: str
    status: str = "pending"  # pending | active | done | skipped
    changed_at: datetime | None = None
    changed_by: str | None = None
    reason: str | None = None
    checklist_json: str = "{}"
    form_json: str = "{}"
    action_json: str = "{}"  # outcome of the step's action: name, summary, data, at, by


# ---------------------------------------------------------------- sampling plan


class PlanRevision(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("incident_id", "revision"),)
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    revision: int
    created_at: datetime
    created_by: str
    reason: str
    forecast_json: str = "{}"  # the forecast summary the revision was based on


class SamplingPoint(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("revision_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="planrevision.id", index=True)
    number: str  # S1, S2, S3-1 ... never renumbered
    role: str  # upstream_control | downstream_control | attenuation | receptor | boundary | station | intermediate
    name: str = ""
    reach_id: str
    km: float
    lat: float
    lon: float
    distance_from_source_m: float
    receptor_id: str | None = None
    mandatory: bool = False
    arrival_h: float | None = None  # forecast leading edge after release
    peak_h: float | None = None
    required_qualification: str | None = None
    removed_reason: str | None = None
    offset_m: float = 0.0  # from the reach's upstream end
    trailing_h: float | None = None  # forecast trailing edge after release
    verticals: int = 1  # HJ/T 91: by river width
    points_per_vertical: int = 1  # HJ/T 91: by depth
    note: str = ""


class SamplingRound(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("incident_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    revision_id: int = Field(foreign_key="planrevision.id")
    number: int
    planned_at: datetime
    purpose: str = ""  # baseline | leading_edge | peak | tail | tracking
    status: str = "planned"  # planned | sampled | cancelled


# ---------------------------------------------------------------- people and crews


class Responder(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    name_zh: str | None = None
    phone: str = ""
    home_unit: str = ""
    role: str = ""  # team_lead | sampler | analyst | driver | safety


class Qualification(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    responder_id: int = Field(foreign_key="responder.id", index=True)
    kind: str  # e.g. water_sampling, heavy_metal_field_test, boat_operation, hazmat_ppe
    certificate_no: str = ""
    expires_on: date | None = None


class Crew(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    leader_id: int | None = Field(default=None, foreign_key="responder.id")
    base_name: str = ""
    base_lat: float
    base_lon: float
    vehicle_id: int | None = Field(default=None, foreign_key="equipment.id")
    kit_id: int | None = Field(default=None, foreign_key="kit.id")
    status: str = "available"  # available | assigned | out_of_service
    status_changed_at: datetime | None = None
    # set: the crew belongs to this exercise's own roster (drills never touch real crews)
    exercise_id: int | None = Field(default=None, foreign_key="incident.id", index=True)


class CrewMember(SQLModel, table=True):
    crew_id: int = Field(foreign_key="crew.id", primary_key=True)
    responder_id: int = Field(foreign_key="responder.id", primary_key=True)


class CrewStatusChange(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    crew_id: int = Field(foreign_key="crew.id", index=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id")
    status: str
    at: datetime
    by: str
    note: str = ""


class CheckIn(SQLModel, table=True):
    """ICS 211."""

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    crew_id: int = Field(foreign_key="crew.id")
    at: datetime
    leader: str
    headcount: int
    home_unit: str = ""
    departure_point: str = ""
    travel_method: str = ""
    assignment: str = ""
    qualifications: str = ""
    lat: float | None = None  # where the crew checked in (WGS84): its routes start here
    lon: float | None = None


class Assignment(SQLModel, table=True):
    """ICS 204 line: a crew sent to a point for a round."""

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    crew_id: int = Field(foreign_key="crew.id")
    point_id: int = Field(foreign_key="samplingpoint.id")
    round_id: int | None = Field(default=None, foreign_key="samplinground.id")
    created_at: datetime
    created_by: str
    eta: datetime
    required_by: datetime
    slack_min: float
    status: str = "assigned"  # assigned | on_site | done | cancelled
    stop: int = 1  # order of the point on the crew's route
    window_open: datetime | None = None  # the crew may arrive from this time (until required_by)
    override_reason: str | None = None  # a team lead dispatched past a readiness refusal


# ---------------------------------------------------------------- samples and results


class Sample(SQLModel, table=True):
    # issue 19: a point's series, a round's table and QC's batch and parallel look-ups go by index
    __table_args__ = (
        Index("ix_sample_point_id_sampled_at", "point_id", "sampled_at"),
        Index("ix_sample_round_id", "round_id"),
        Index("ix_sample_round_id_sample_type", "round_id", "sample_type"),  # rounds with results (perf_2)
        Index("ix_sample_parallel_of", "parallel_of"),
    )
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)  # label ID (HJ 589 §7.1.3.2)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    point_id: int | None = Field(default=None, foreign_key="samplingpoint.id")
    round_id: int | None = Field(default=None, foreign_key="samplinground.id")
    sampled_at: datetime
    sampler: str
    checker: str = ""
    sample_type: str = "normal"  # normal | field_blank | parallel
    parallel_of: int | None = Field(default=None, foreign_key="sample.id")
    created_at: datetime
    parameters: str = ""  # parameter keys on the label, comma-separated (HJ 589 §7.1.3.2)
    log_seq: int | None = None  # seq of the log entry that commits to this row


class Result(SQLModel, table=True):
    """Append-only. A correction is a new row with ``corrects_id`` set."""

    # issue 19: results by parameter within an incident, and a sample's result for one parameter
    __table_args__ = (
        Index("ix_result_incident_id_parameter", "incident_id", "parameter"),
        Index("ix_result_sample_id_parameter", "sample_id", "parameter"),
    )
    id: int | None = Field(default=None, primary_key=True)
    sample_id: int = Field(foreign_key="sample.id", index=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    parameter: str  # key in the standards table
    method: str = ""  # e.g. "GB 7475 AAS", "test strip"
    method_kind: str = "lab"  # lab | rapid | online
    principle: str = ""  # analytical principle, for confirmation of rapid positives
    instrument_id: int | None = Field(default=None, foreign_key="equipment.id")
    instrument_desc: str = ""  # name, model, serial, calibration status at the time
    kind: str = "quantitative"  # qualitative | semi_quantitative | quantitative
    detected: bool | None = None
    value: float | None = None  # as entered
    value_high: float | None = None  # semi-quantitative range upper bound
    unit: str = "mg/L"
    detection_limit: float | None = None
    value_mg_l: float | None = None
    detection_limit_mg_l: float | None = None
    status: str = "final"  # suspected | confirmed | final
    qc_flag: str | None = None
    entered_at: datetime
    entered_by: str
    corrects_id: int | None = Field(default=None, foreign_key="result.id", index=True)
    correction_reason: str | None = None
    log_seq: int | None = None  # seq of the log entry that commits to this row


def result_is_current() -> ColumnElement[bool]:
    """SQL: the result is the latest of its correction chain (no other result corrects it).

    The one statement of "the latest correction wins", over the indexed ``corrects_id``;
    :mod:`incident.results.record` and the plume's calibration both filter with it.
    Built once: SQL expressions are immutable, and a fresh ``aliased`` per call cost
    milliseconds to build and, with a new anonymous alias name each time, defeated
    SQLAlchemy's statement cache (issue 19).
    """
    global _RESULT_IS_CURRENT
    if _RESULT_IS_CURRENT is None:
        _RESULT_IS_CURRENT = _build_result_is_current()
    return _RESULT_IS_CURRENT


_RESULT_IS_CURRENT: ColumnElement[bool] | None = None


def _build_result_is_current() -> ColumnElement[bool]:
    from sqlalchemy import exists, select
    from sqlalchemy.orm import aliased
    from sqlmodel import col

    newer = aliased(Result)
    return ~exists(select(col(newer.id)).where(col(newer.corrects_id) == col(Result.id)))


class QcFlag(SQLModel, table=True):
    """Append-only QC finding on a result (a blank above its detection limit, a parallel pair
    outside its RPD limit, an instrument past calibration). Results are evidence and are never
    updated, so flags found after a result was logged live here. ``basis_result_id`` is the
    other result the finding rests on (the blank, the parallel partner); a flag whose basis
    has since been corrected no longer applies and views drop it."""

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    result_id: int = Field(foreign_key="result.id", index=True)
    kind: str  # blank_contaminated | rpd_exceeded | parallel_mismatch | instrument_calibration
    detail: str = ""
    basis_result_id: int | None = Field(default=None, foreign_key="result.id")
    created_at: datetime
    created_by: str
    log_seq: int | None = None


class ResultHold(SQLModel, table=True):
    """Append-only plausibility flag on a result (issue 16): before the plume could arrive, far
    above what the forecast or the released mass allows, a 100x jump against its neighbours
    (a unit slip), above background at the upstream control. A held result stays out of
    exceedance counts and released reports until a person confirms it (``HoldReview``) or
    corrects it (the correction is checked afresh)."""

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    result_id: int = Field(foreign_key="result.id", index=True)
    kind: str  # before_arrival | above_forecast | above_mass | unit_jump | upstream_above_background
    reason: str
    forecast_id: int | None = Field(default=None, foreign_key="forecastrecord.id")
    created_at: datetime
    created_by: str
    log_seq: int | None = None


class HoldReview(SQLModel, table=True):
    """Append-only: a person confirmed a held result anyway, with the reason."""

    id: int | None = Field(default=None, primary_key=True)
    hold_id: int = Field(foreign_key="resulthold.id", index=True)
    result_id: int = Field(foreign_key="result.id", index=True)
    reviewed_by: str
    reason: str
    at: datetime
    log_seq: int | None = None


class CustodyTransfer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    sample_id: int = Field(foreign_key="sample.id", index=True)
    at: datetime
    from_person: str
    to_person: str
    condition: str = "intact"
    note: str = ""


# ---------------------------------------------------------------- equipment and readiness


class Equipment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    asset_tag: str = Field(unique=True, index=True)
    category: str  # instrument | vehicle | ppe | sampler | other
    type: str  # e.g. "portable heavy-metal analyser"
    model: str = ""
    serial: str = ""
    location: str = ""
    holder: str = ""
    condition: str = "working"  # working | degraded | broken | lost
    in_service: bool = True
    notes: str = ""


class CalibrationSchedule(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    equipment_id: int = Field(foreign_key="equipment.id", index=True)
    name: str  # e.g. "pH 3-point", "metrological verification"
    interval_days: int
    last_done: date | None = None
    next_due: date | None = None


class CalibrationRecord(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="calibrationschedule.id", index=True)
    done_on: date
    by: str
    passed: bool = True
    certificate: str = ""
    notes: str = ""


class MaintenanceRecord(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    equipment_id: int = Field(foreign_key="equipment.id", index=True)
    done_on: date
    by: str
    kind: str = "service"  # service | repair | inspection
    notes: str = ""
    condition_after: str | None = None


class Consumable(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    item: str = Field(index=True)  # e.g. "cadmium test strips"
    lot: str = ""
    quantity: float
    unit: str = "pcs"
    expires_on: date | None = None
    min_stock: float = 0
    location: str = ""


class StockMovement(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    consumable_id: int = Field(foreign_key="consumable.id", index=True)
    at: datetime
    delta: float
    reason: str
    by: str


class KitTemplate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    name_zh: str | None = None


class KitTemplateItem(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="kittemplate.id", index=True)
    item_kind: str  # equipment | consumable
    item_type: str  # equipment.type or consumable.item
    quantity: float = 1


class Kit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    template_id: int = Field(foreign_key="kittemplate.id")
    location: str = ""


class KitItem(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kit_id: int = Field(foreign_key="kit.id", index=True)
    equipment_id: int | None = Field(default=None, foreign_key="equipment.id")
    consumable_id: int | None = Field(default=None, foreign_key="consumable.id")
    quantity: float = 1


class Checkout(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id")
    crew_id: int = Field(foreign_key="crew.id")
    equipment_id: int | None = Field(default=None, foreign_key="equipment.id")
    kit_id: int | None = Field(default=None, foreign_key="kit.id")
    out_at: datetime
    out_by: str
    in_at: datetime | None = None
    in_by: str | None = None
    override_reason: str | None = None


# ---------------------------------------------------------------- reports


class Report(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("incident_id", "kind", "number", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    kind: str  # flash | monitoring | summary | termination_proposal | aar
    number: int = 1  # n-th report of that kind
    version: int = 1
    lang: str = "en"
    state: str = "draft"  # draft | reviewed | released
    title: str
    body_markdown: str
    body_html: str = ""
    created_at: datetime
    created_by: str
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    released_by: str | None = None
    released_at: datetime | None = None
    content_sha256: str | None = None  # fixed at release
    # author's own text per section (conclusions, recommendations, lessons, next_steps, notes, termination)
    inputs_json: str = "{}"
    as_of: datetime | None = None  # the data the body was rendered from is as of this time
    supersedes_id: int | None = Field(
        default=None, foreign_key="report.id"
    )  # the released version it revises


# ---------------------------------------------------------------- drills


class DrillInject(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    at_minutes: float  # exercise clock minutes after the alert
    title: str
    message: str
    delivered_at: datetime | None = None
    sender: str = ""  # who the message is from (an intake operator, the hydrology bureau...)
    kind: str = "message"  # message | call | flow_change | media | other
    delivered_ex_at: datetime | None = None  # exercise time at delivery


class DrillMetric(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("incident_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    name: str  # alert | depart | on_site | first_sample | first_data | first_flash_report | ...
    at: datetime | None = None
    value: float | None = None
    note: str = ""


class DrillEvaluation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    capability: str
    suggested_rating: str | None = None  # P | S | M | U
    rating: str | None = None
    evaluator: str | None = None
    strengths: str = ""
    improvements: str = ""
    metric: str = ""  # the timeline metric the target is measured on
    target_json: str = "{}"  # the capability target as written in the scenario
    basis: str = ""  # why the suggested rating (metric vs target)
    rated_at: datetime | None = None


class DrillObservation(SQLModel, table=True):
    """A synthetic laboratory or field result drawn from the hidden truth for a drill sample.

    Hidden from the players until ``available_ex_at`` (exercise clock); then it is
    entered as an ordinary Result through the results service and ``result_id`` set.
    """

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    sample_id: int = Field(foreign_key="sample.id", index=True)
    parameter: str
    method: str
    truth_mg_l: float  # the truth model's concentration at the point and time
    measured_mg_l: float  # the noisy draw
    sampled_ex_at: datetime
    available_ex_at: datetime
    input_json: str = "{}"  # the ResultInput fields the lab will report
    created_at: datetime
    delivered_at: datetime | None = None
    result_id: int | None = Field(default=None, foreign_key="result.id")


class CorrectiveAction(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    capability: str
    action: str
    owner: str
    due_on: date
    status: str = "open"
    created_at: datetime | None = None
    created_by: str = ""


# ---------------------------------------------------------------- model calibration


class ModelCalibration(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    created_at: datetime
    created_by: str
    params_json: str
    fit_json: str
    decision: str = "pending"  # pending | accepted | rejected
    decided_by: str | None = None
    decided_at: datetime | None = None


class ForecastRecord(SQLModel, table=True):
    """Append-only: every forecast made for an incident, as it was run (issue 14).

    The dashboard, the plan, the rounds, the reports and the plausibility check read
    it; ``content_sha256`` (of everything below but the id and log_seq) goes into the
    incident's log, and a report cites the forecast by id and hash. Times are hours
    after ``release_start``; JSON columns are canonical JSON.
    """

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    made_at: datetime
    made_by: str
    release_start: datetime
    horizon_h: float
    substance: str | None = None
    standard_mg_l: float | None = None
    detection_mg_l: float
    method: str = ""
    ensemble_members: int | None = None  # bands present when an ensemble ran
    inputs_json: str = "{}"  # spill, river, calibration applied
    parameters_json: str = "{}"  # dispersion per reach (used and the published spread)
    grid_json: str = "{}"
    mass_budget_json: str = "{}"
    points_json: str = "[]"  # per receptor/point: arrival, peak, time above the standard, bands
    curves_json: str = "{}"  # {"times_h": [...], "mg_l": [[...], ...]} per point
    warnings_json: str = "[]"
    content_sha256: str
    log_seq: int | None = None


# ---------------------------------------------------------------- the log


class LogEntry(SQLModel, table=True):
    """Append-only, hash-chained activity log (ICS 214 and the evidence trail).

    ``hash = sha256(prev_hash + canonical(entry fields))``; ``seq`` is unique
    per chain, so two writers racing for the same place cannot both win.
    """

    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        Index("ix_logentry_incident_id_kind", "incident_id", "kind"),  # e.g. "was this file imported?"
    )
    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(index=True)  # "incident:<code>" or "centre"
    seq: int
    at: datetime
    actor: str
    position: str = ""  # ICS 214 position / role
    kind: str  # e.g. incident.created, step.done, result.logged, crew.status
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    summary: str
    payload_json: str = "{}"
    prev_hash: str
    hash: str = Field(unique=True)
    # Ed25519 signature of the author over ``hash`` (incident.core.signing); NULL on
    # entries written before signing was enabled (legacy) and on system entries.
    signer: str | None = None
    key_id: str | None = None
    signature: str | None = None


# ---------------------------------------------------------------- field survey and photos


class FieldSurvey(SQLModel, table=True):
    """HJ 589 Appendix A field survey record; a new row per revision (the latest one is used)."""

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    recorded_at: datetime
    recorded_by: str
    fields_json: str = "{}"  # the form's fields as entered (weather, flow, appearance, odour...)


class Attachment(SQLModel, table=True):
    """A file kept with the incident (a photo): stored in the data folder, its SHA-256 in the log."""

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    kind: str = "photo"
    stored_name: str  # file name under <data dir>/attachments/<incident code>/
    original_name: str = ""
    sha256: str
    size_bytes: int
    caption: str = ""
    point_number: str | None = None
    taken_at: datetime | None = None
    added_at: datetime
    added_by: str


# ---------------------------------------------------------------- pre-plans (issue 21)


class PreplanEntry(SQLModel, table=True):
    """The current register: risk sources, intakes and interception points (``role``), one row each.

    Changes are written by ``incident preplan build`` and logged on the centre chain (kind
    ``preplan.register``) with the entry's canonical JSON digest before and after."""

    __table_args__ = (UniqueConstraint("role", "entry_id"),)
    id: int | None = Field(default=None, primary_key=True)
    role: str = Field(index=True)  # source | intake | interception
    entry_id: str = Field(index=True)
    name: str
    name_zh: str | None = None
    kind: str = ""
    reach_id: str
    km: float
    lat: float
    lon: float
    data_json: str  # the entry as imported (canonical JSON)
    digest: str  # sha256 of data_json
    updated_at: datetime
    updated_by: str


class PreplanRow(SQLModel, table=True):
    """One source × intake × flow scenario; ``input_hash`` decides whether a build recomputes it."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True)  # source|intake|flow
    source_id: str = Field(index=True)
    intake_id: str = Field(index=True)
    flow: str
    input_hash: str
    model_version: str
    row_json: str
    computed_at: datetime


# ---------------------------------------------------------------- automatic stations (HJ 212-2017)


class Station(SQLModel, table=True):
    """An automatic water-quality station: its HJ 212 MN code and its place on a river network."""

    id: int | None = Field(default=None, primary_key=True)
    mn: str = Field(index=True, unique=True)
    name: str = ""
    river_network_id: int | None = Field(default=None, foreign_key="rivernetwork.id")
    reach_id: str | None = None
    km: float | None = None
    parameters_json: str = "[]"  # the project's parameter keys the station measures
    water_class: str = "III"  # GB 3838 class of the section
    created_at: datetime
    created_by: str


class StationReading(SQLModel, table=True):
    """One value of one parameter at one station and time, as received (flag kept; only N is valid).

    The unique index (station, time, parameter, interval) makes replays idempotent and serves a
    station's day as one index range scan."""

    __table_args__ = (
        Index("ux_stationreading_station_at", "station_id", "at", "parameter", "interval", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id")
    at: datetime  # DataTime, UTC
    parameter: str
    interval: str  # realtime | minute | hourly | daily
    value: float | None = None
    flag: str = "N"
    received_at: datetime


class StationRejection(SQLModel, table=True):
    """A packet refused (bad CRC, malformed, unknown station, time far from now): counted, never data."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    source: str  # file:line or peer address
    mn: str | None = None
    reason: str  # the refusal's problem text
    packet: str = ""  # the first 200 characters, for the log reader


class StationAlert(SQLModel, table=True):
    """An early warning from station data, one per event (deduplicated across parameters and stations)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True)  # e.g. ALR-2026-0001
    status: str = "open"  # open | acknowledged | closed | promoted
    first_abnormal_at: datetime
    detected_at: datetime  # time of the reading that raised the alarm
    opened_at: datetime  # wall clock
    station_mn: str
    parameter: str
    value: float
    baseline: float
    evidence_json: str = "[]"  # one entry per (station, parameter) that saw the event
    candidates_json: str = "[]"  # source trace: reach, km, release time, weight
    risk_sources_json: str = "[]"
    incident_id: int | None = Field(default=None, foreign_key="incident.id")
    updated_at: datetime


class _HasId(Protocol):
    id: int | None


def row_id(row: _HasId) -> int:
    """The primary key of a stored row, typed ``int``: a row read from the store or flushed to it has one."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has not been stored yet: it has no id")
    return row.id
