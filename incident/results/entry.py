"""Samples and results (HJ 589 §7.1–7.4): entry, correction, evaluation, views.

Evidence rules:
- samples and results go in with :func:`incident.core.log.record`, which
  commits each row's digest into the incident's hash chain;
- they are never updated or deleted: a correction is a new Result with
  ``corrects_id`` and a reason;
- a result's stored status is fixed when written: ``suspected`` for a positive
  from a rapid method, ``final`` otherwise. Everything read back (confirmation,
  exceedance multiple, latest correction, flags) comes from the one result
  record, :mod:`incident.results.record`;
- QC findings found later live in the append-only ``QcFlag`` table (qc.py).

Services take a Session and hand back plain dataclasses, never ORM rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from incident.core import accounts, log, standards
from incident.core.clock import FUTURE_TOLERANCE, fmt_local, incident_now, refuse_future, utcnow
from incident.core.errors import UserError, ValidationErrors
from incident.core.incidents import get_incident, refuse_if_ended
from incident.core.store.tables import (
    CalibrationSchedule,
    Equipment,
    Incident,
    PlanRevision,
    Result,
    Sample,
    SamplingPoint,
    SamplingRound,
    row_id,
)
from incident.results.plausibility import LATEST
from incident.results.record import (
    ResultRecord,
    current_version,
    describe_value,
    point_values,
    result_record,
    result_records,
)
from incident.results.units import (
    BASE_UNIT,
    check_plausible,
    parse_number,
    parse_result_value,
    unit_display,
    unit_factor,
)

if TYPE_CHECKING:
    from incident.plume import IncidentForecast

SAMPLE_TYPES = ("normal", "field_blank", "parallel")
METHOD_KINDS = ("lab", "rapid", "online")
_TYPE_SUFFIX = {"normal": "", "field_blank": "B", "parallel": "P"}
_T = TypeVar("_T")
_YES = {"yes", "y", "true", "1", "+", "detected", "positive", "是", "检出", "阳性"}
_NO = {"no", "n", "false", "0", "-", "not detected", "nd", "negative", "否", "未检出", "阴性"}
#: samples may precede the alert (a spill found in the morning), but not by more than this
PRE_INCIDENT_MARGIN = timedelta(hours=24)


# ---------------------------------------------------------------- points and rounds


def find_point(session: Session, inc: Incident, number: str, *, where: str = "point") -> SamplingPoint:
    """The point with this number in the newest plan revision that has it (numbers never change)."""
    revs = list(
        session.exec(
            select(PlanRevision)
            .where(PlanRevision.incident_id == inc.id)
            .order_by(col(PlanRevision.revision).desc())
        )
    )
    if not revs:
        raise UserError(
            "errors.results.incident_has_no_sampling", where=where, code=inc.code, number=repr(number)
        )
    wanted = str(number or "").strip().upper()
    if not wanted:
        raise UserError("errors.results.empty_3", where=where)
    for rev in revs:
        pt = session.exec(
            select(SamplingPoint).where(SamplingPoint.revision_id == rev.id, SamplingPoint.number == wanted)
        ).first()
        if pt is not None:
            return pt
    known = sorted(
        {
            p.number
            for p in session.exec(
                select(SamplingPoint).where(col(SamplingPoint.revision_id).in_([r.id for r in revs]))
            )
        }
    )
    raise UserError(
        "errors.results.no_point_sampling_plan",
        where=where,
        fix=f"use one of {', '.join(known)}" if known else "add points to the plan first",
        number=repr(number),
    )


def latest_plan_points(session: Session, inc: Incident) -> list[SamplingPoint]:
    """Points of the latest plan revision that are still in use, upstream first."""
    rev = session.exec(
        select(PlanRevision)
        .where(PlanRevision.incident_id == inc.id)
        .order_by(col(PlanRevision.revision).desc())
    ).first()
    if rev is None:
        return []
    pts = session.exec(select(SamplingPoint).where(SamplingPoint.revision_id == rev.id)).all()
    return sorted((p for p in pts if not p.removed_reason), key=lambda p: p.distance_from_source_m)


def find_round(session: Session, inc: Incident, number: int, *, where: str = "round") -> SamplingRound:
    # rounds are numbered from 1; a number beyond the database's integers (typed 99999999999999999999)
    # cannot be a round, and the database would refuse the query itself
    in_range = isinstance(number, int) and not isinstance(number, bool) and 0 < number < 2**63
    rnd = (
        session.exec(
            select(SamplingRound).where(SamplingRound.incident_id == inc.id, SamplingRound.number == number)
        ).first()
        if in_range
        else None
    )
    if rnd is None:
        known = [
            r.number
            for r in session.exec(
                select(SamplingRound)
                .where(SamplingRound.incident_id == inc.id)
                .order_by(col(SamplingRound.number))
            )
        ]
        raise UserError(
            "errors.results.incident_has_no_round",
            where=where,
            fix=f"use one of rounds {', '.join(map(str, known))}" if known else "plan the round first",
            code=inc.code,
            number=number,
        )
    return rnd


# ---------------------------------------------------------------- samples


@dataclass
class NewSample:
    point: str
    sampled_at: datetime
    sampler: str
    round: int | None = None
    checker: str = ""
    sample_type: str = "normal"
    parallel_of: str | None = None  # code of the sample this one duplicates
    parameters: list[str] = field(default_factory=list)


@dataclass
class SampleInfo:
    id: int
    code: str
    incident_code: str
    point: str | None
    round: int | None
    sampled_at: datetime
    sampler: str
    checker: str
    sample_type: str
    parallel_of: str | None
    parameters: list[str]

    def label(self) -> dict[str, str]:
        """What the label carries (HJ 589 §7.1.3.2): ID, point, parameter, time, sampler."""
        return {
            "id": self.code,
            "point": self.point or "—",
            "parameters": ", ".join(self.parameters) or "—",
            "time": fmt_local(self.sampled_at),
            "sampler": self.sampler,
        }


def _sample_info(session: Session, s: Sample, inc_code: str) -> SampleInfo:
    point = session.get(SamplingPoint, s.point_id) if s.point_id else None
    rnd = session.get(SamplingRound, s.round_id) if s.round_id else None
    parent = session.get(Sample, s.parallel_of) if s.parallel_of else None
    return SampleInfo(
        id=row_id(s),
        code=s.code,
        incident_code=inc_code,
        point=point.number if point else None,
        round=rnd.number if rnd else None,
        sampled_at=s.sampled_at,
        sampler=s.sampler,
        checker=s.checker,
        sample_type=s.sample_type,
        parallel_of=parent.code if parent else None,
        parameters=[p for p in s.parameters.split(",") if p],
    )


def _next_sample_code(session: Session, prefix: str) -> str:
    # codes under ``prefix-`` are the range [prefix-, prefix.) of the unique index on code (a LIKE
    # would scan every sample in SQLite, whose LIKE ignores case and so cannot use the index)
    n = session.exec(
        select(func.count()).where(col(Sample.code) >= f"{prefix}-", col(Sample.code) < f"{prefix}.")
    ).one()
    while True:
        n += 1
        code = f"{prefix}-{n:02d}"
        if session.exec(select(Sample.id).where(Sample.code.startswith(code))).first() is None:
            return code


def create_sample(session: Session, code: str, spec: NewSample, *, actor: str) -> SampleInfo:
    """Register a sample and give it its label ID; all problems are reported at once."""
    inc = get_incident(session, code)
    refuse_if_ended(inc, "a sample")
    problems: list[UserError] = []
    point = rnd = parent = None
    try:
        point = find_point(session, inc, spec.point)
    except UserError as exc:
        problems.append(exc)
    if spec.round is not None:
        try:
            rnd = find_round(session, inc, spec.round)
        except UserError as exc:
            problems.append(exc)
    if spec.sample_type not in SAMPLE_TYPES:
        problems.append(
            UserError(
                "errors.results.unknown_sample_type",
                where="type",
                sample_type=repr(spec.sample_type),
                value=", ".join(SAMPLE_TYPES),
            )
        )
    if not spec.sampler.strip():
        problems.append(UserError("errors.results.empty_5", where="sampler"))
    if spec.checker.strip() and spec.checker.strip() == spec.sampler.strip():
        problems.append(UserError("errors.results.checker_sampler", where="checker"))
    if spec.sampled_at > incident_now(inc) + FUTURE_TOLERANCE:
        problems.append(
            UserError(
                "errors.results.sampling_time_future",
                where="time",
                fmt_local_sampled_at=fmt_local(spec.sampled_at),
            )
        )
    earliest = min(x for x in (inc.alert_at, inc.release_start) if x is not None) - PRE_INCIDENT_MARGIN
    if spec.sampled_at < earliest:
        problems.append(
            UserError(
                "errors.results.sampling_time_more_than",
                where="time",
                fmt_local_sampled_at=fmt_local(spec.sampled_at),
                fmt_local_alert_at=fmt_local(inc.alert_at),
            )
        )
    if spec.sample_type == "parallel":
        if not spec.parallel_of:
            problems.append(UserError("errors.results.parallel_sample_needs_partner", where="parallel-of"))
        else:
            parent = session.exec(
                select(Sample).where(Sample.code == spec.parallel_of.strip(), Sample.incident_id == inc.id)
            ).first()
            if parent is None:
                problems.append(
                    UserError(
                        "errors.results.no_sample_2",
                        where="parallel-of",
                        parallel_of=repr(spec.parallel_of),
                        code=inc.code,
                    )
                )
            elif point is not None and parent.point_id != point.id:
                problems.append(
                    UserError("errors.results.was_taken_another_point", where="parallel-of", code=parent.code)
                )
    elif spec.parallel_of:
        problems.append(UserError("errors.results.only_parallel_sample_has", field="parallel_of"))
    params: list[str] = []
    for p in spec.parameters:
        try:
            params.append(standards.resolve_parameter(p, where="parameters").key)
        except UserError as exc:
            problems.append(exc)
    if problems:
        raise (
            ValidationErrors("sample", problems, outcome="errors.outcome.nothing_saved")
            if len(problems) > 1
            else problems[0]
        )
    assert point is not None
    prefix = f"{inc.code}-{point.number}-R{rnd.number if rnd else 0}"
    row = Sample(
        code=_next_sample_code(session, prefix) + _TYPE_SUFFIX[spec.sample_type],
        incident_id=row_id(inc),
        point_id=point.id,
        round_id=rnd.id if rnd else None,
        sampled_at=spec.sampled_at,
        sampler=spec.sampler.strip(),
        checker=spec.checker.strip(),
        sample_type=spec.sample_type,
        parallel_of=parent.id if parent else None,
        created_at=utcnow(),
        parameters=",".join(params),
    )
    log.record(
        session,
        row,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="sample.logged",
        incident_id=inc.id,
        summary=f"Sample {row.code} at {point.number}"
        + (f" round {rnd.number}" if rnd else "")
        + f", {fmt_local(spec.sampled_at)}, by {row.sampler}"
        + ("" if spec.sample_type == "normal" else f" ({spec.sample_type})"),
    )
    return _sample_info(session, row, inc.code)


def get_sample(session: Session, sample_code: str, *, where: str = "sample") -> Sample:
    code = str(sample_code or "").strip()
    if not code:
        raise UserError("errors.results.empty_4", where=where)
    row = session.exec(select(Sample).where(Sample.code == code)).first()
    if row is None:
        raise UserError("errors.results.no_sample", where=where, sample_code=repr(sample_code))
    return row


def list_samples(session: Session, code: str) -> list[SampleInfo]:
    inc = get_incident(session, code)
    rows = session.exec(
        select(Sample).where(Sample.incident_id == inc.id).order_by(col(Sample.sampled_at), col(Sample.id))
    )
    return [_sample_info(session, s, inc.code) for s in rows]


# ---------------------------------------------------------------- result input and validation


@dataclass
class ResultInput:
    """A result as typed or imported: every field is text and is checked strictly."""

    sample: str
    parameter: str
    value: str | None = None  # number, "<0.01" / "0.01L" (not detected), "ND"
    value_high: str | None = None  # semi-quantitative: upper end of the range
    unit: str | None = "mg/L"
    detection_limit: str | None = None
    detected: str | None = None  # qualitative: yes / no
    method: str = ""  # a key from methods.toml or free text
    principle: str = ""  # analytical principle key (needed for free-text methods)
    rapid: bool = False
    online: bool = False
    instrument: str = ""  # equipment asset tag
    measured_at: datetime | None = None  # default: now


@dataclass
class CheckedResult:
    sample: Sample
    parameter: standards.Parameter
    kind: str
    detected: bool | None
    value: float | None
    value_high: float | None
    unit: str
    detection_limit: float | None
    factor: float
    method: str
    method_kind: str
    principle: str
    instrument: Equipment | None
    instrument_desc: str
    instrument_overdue: str | None
    status: str


def _yes_no(text: str, where: str) -> bool:
    t = str(text).strip().lower()
    if t in _YES:
        return True
    if t in _NO:
        return False
    raise UserError("errors.results.neither_yes_nor_no", where=where, text=repr(text))


def instrument_status(session: Session, eq: Equipment, at: datetime) -> tuple[str, str | None]:
    """Description (name, model, serial, calibration at ``at``) and the overdue note if any."""
    day = at.date()
    parts = []
    overdue = []
    for cal in session.exec(select(CalibrationSchedule).where(CalibrationSchedule.equipment_id == eq.id)):
        if cal.next_due is None:
            parts.append(f"{cal.name}: never calibrated")
            overdue.append(f"{cal.name} never calibrated")
        elif cal.next_due < day:
            parts.append(f"{cal.name}: OVERDUE since {cal.next_due.isoformat()}")
            overdue.append(f"{cal.name} due {cal.next_due.isoformat()}")
        else:
            parts.append(f"{cal.name}: valid until {cal.next_due.isoformat()}")
    cal_text = "; ".join(parts) if parts else "no calibration schedule on record"
    state = (
        ""
        if eq.condition == "working" and eq.in_service
        else f" [{eq.condition}, in service: {eq.in_service}]"
    )
    desc = f"{eq.type} {eq.model} s/n {eq.serial} ({eq.asset_tag}){state} — calibration: {cal_text}"
    return desc, ("; ".join(overdue) if overdue else None)


def check_result(
    session: Session, inc: Incident, raw: ResultInput, *, samples: dict[str, Sample] | None = None
) -> CheckedResult:
    """Validate every field; raise one ValidationErrors naming each bad field (``where`` = field).

    ``samples``: samples already read, by code (the bulk import reads each once).
    """
    problems: list[UserError] = []

    def attempt(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T | None:
        try:
            return fn(*args, **kwargs)
        except ValidationErrors as exc:
            problems.extend(exc.problems)
        except UserError as exc:
            problems.append(exc)
        return None

    known_sample = samples.get(str(raw.sample or "").strip()) if samples is not None else None
    sample = known_sample or attempt(get_sample, session, raw.sample)
    if samples is not None and sample is not None:
        samples[sample.code] = sample
    if sample is not None and sample.incident_id != inc.id:
        problems.append(
            UserError("errors.results.sample_belongs_another_incident", where="sample", code=sample.code)
        )
    param = attempt(standards.resolve_parameter, raw.parameter)
    medium = inc.medium if inc.medium in BASE_UNIT else "water"

    # --- method and principle
    method_text = (raw.method or "").strip()
    principle = (raw.principle or "").strip().lower()
    method_kind = "online" if raw.online else ("rapid" if raw.rapid else "lab")
    known = standards.methods().get(method_text.lower()) if method_text else None
    if not method_text:
        problems.append(UserError("errors.results.empty_6", where="method"))
    elif known is not None:
        if principle and principle != known.principle:
            problems.append(
                UserError(
                    "errors.results.method_not",
                    where="principle",
                    key_name=known.key,
                    principle=known.principle,
                    principle2=principle,
                )
            )
        if raw.rapid and known.kind == "lab":
            problems.append(UserError("errors.results.laboratory_method", field="rapid", key_name=known.key))
        method_text = known.name
        principle = known.principle
        method_kind = "online" if raw.online else known.kind
    else:
        got = attempt(standards.check_principle, principle, where="principle")
        if got is not None:
            principle = got

    # --- value, unit, detection limit
    unit_text = (raw.unit or "").strip()
    factor = attempt(unit_factor, unit_text, medium=medium, where="unit")
    dl = None
    if raw.detection_limit is not None and str(raw.detection_limit).strip():
        dl = attempt(parse_number, raw.detection_limit, "detection limit", allow_zero=False)
    value = value_high = None
    detected: bool | None = None
    has_value = raw.value is not None and str(raw.value).strip() != ""
    has_high = raw.value_high is not None and str(raw.value_high).strip() != ""
    if raw.detected is not None and str(raw.detected).strip() and not has_value:
        kind = "qualitative"
        detected = attempt(_yes_no, raw.detected, "detected")
    elif has_high:
        kind = "semi_quantitative"
        value = attempt(parse_number, raw.value, "value")
        value_high = attempt(parse_number, raw.value_high, "value high")
        detected = True
        if value is not None and value_high is not None and value_high <= value:
            problems.append(
                UserError(
                    "errors.results.range_empty_reversed",
                    where="value high",
                    value=value,
                    value_high=value_high,
                )
            )
    else:
        kind = "quantitative"
        parsed = attempt(parse_result_value, raw.value, "value")
        if parsed is not None:
            detected = parsed.detected
            value = parsed.value
            if parsed.detection_limit is not None:
                if dl is not None and abs(dl - parsed.detection_limit) > 1e-12 * max(dl, 1):
                    problems.append(
                        UserError(
                            "errors.results.value_says_below_but",
                            where="detection limit",
                            detection_limit=parsed.detection_limit,
                            dl=dl,
                        )
                    )
                dl = parsed.detection_limit
        if raw.detected is not None and str(raw.detected).strip() and parsed is not None:
            said = attempt(_yes_no, raw.detected, "detected")
            if said is not None and said != parsed.detected:
                problems.append(UserError("errors.results.detected_contradicts_value", where="detected"))
        if dl is None and not any(p.where in ("detection limit",) for p in problems):
            problems.append(
                UserError("errors.results.quantitative_result_needs_detection", where="detection limit")
            )
        if detected and value is not None and dl is not None and value < dl:
            problems.append(
                UserError("errors.results.value_below_detection_limit", where="value", value=value, dl=dl)
            )

    if factor is not None:
        for label, number in (("value", value), ("value high", value_high), ("detection limit", dl)):
            if number is not None:
                attempt(check_plausible, number, unit_text, medium=medium, where=label)

    # --- instrument
    eq = None
    desc = ""
    overdue = None
    at = raw.measured_at or utcnow()
    if raw.measured_at is not None:
        attempt(
            refuse_future,
            raw.measured_at,
            now=incident_now(inc),
            where="measured at",
            what="measurement time",
        )
    if raw.instrument and raw.instrument.strip():
        eq = session.exec(select(Equipment).where(Equipment.asset_tag == raw.instrument.strip())).first()
        if eq is None:
            problems.append(
                UserError("errors.results.no_equipment", where="instrument", instrument=repr(raw.instrument))
            )
        else:
            desc, overdue = instrument_status(session, eq, at)
    elif method_kind == "rapid":
        problems.append(UserError("errors.results.field_rapid_measurement_names", where="instrument"))
    if problems:
        raise ValidationErrors("result", problems, outcome="errors.outcome.nothing_saved")
    assert sample is not None and param is not None and factor is not None
    positive = bool(detected)
    status = "suspected" if method_kind == "rapid" and positive else "final"
    return CheckedResult(
        sample=sample,
        parameter=param,
        kind=kind,
        detected=detected,
        value=value,
        value_high=value_high,
        unit=unit_display(unit_text),
        detection_limit=dl,
        factor=factor,
        method=method_text,
        method_kind=method_kind,
        principle=principle,
        instrument=eq,
        instrument_desc=desc,
        instrument_overdue=overdue,
        status=status,
    )


def _result_row(inc: Incident, c: CheckedResult, *, actor: str, at: datetime) -> Result:
    return Result(**result_values(inc, c, actor=actor, at=at))


def result_values(inc: Incident, c: CheckedResult, *, actor: str, at: datetime) -> dict[str, Any]:
    """The columns of the result row a checked result is stored as (but its id, flags, links)."""
    return dict(
        sample_id=row_id(c.sample),
        incident_id=row_id(inc),
        parameter=c.parameter.key,
        method=c.method,
        method_kind=c.method_kind,
        principle=c.principle,
        instrument_id=c.instrument.id if c.instrument else None,
        instrument_desc=c.instrument_desc,
        kind=c.kind,
        detected=c.detected,
        value=c.value,
        value_high=c.value_high,
        unit=c.unit,
        detection_limit=c.detection_limit,
        value_mg_l=c.value * c.factor if c.value is not None else None,
        detection_limit_mg_l=c.detection_limit * c.factor if c.detection_limit is not None else None,
        status=c.status,
        entered_at=at,
        entered_by=actor,
    )


@overload
def add_result(
    session: Session, code: str, raw: ResultInput, *, actor: str, view: Literal[True] = True
) -> ResultRecord: ...


@overload
def add_result(
    session: Session, code: str, raw: ResultInput, *, actor: str, view: Literal[False]
) -> None: ...


def add_result(
    session: Session, code: str, raw: ResultInput, *, actor: str, view: bool = True
) -> ResultRecord | None:
    """Check, store (hash-chained) and QC one result; returns its evaluated view.

    ``view=False`` (bulk import) skips building the view and returns None.
    """
    inc = get_incident(session, code)
    refuse_if_ended(inc, "a result")
    person = accounts.require(session, "result.record")
    actor = person.name if person is not None else actor
    checked = check_result(session, inc, raw)
    row = _result_row(inc, checked, actor=actor, at=utcnow())
    _store(session, inc, row, checked, actor=actor)
    return result_record(session, inc.code, row_id(row), incident=inc) if view else None


def _store(
    session: Session,
    inc: Incident,
    row: Result,
    checked: CheckedResult,
    *,
    actor: str,
    forecast: Any = LATEST,
) -> None:
    """QC, log and plausibility for a new row. ``forecast``: the incident's latest forecast as
    :func:`incident.results.plausibility.latest` reads it, if the caller has (a bulk import reads it
    once); by default it is read here."""
    from incident.results import plausibility, qc

    pending = qc.findings_for_new(session, row, checked)
    row.qc_flag = qc_flag_text(pending)
    log.record(
        session,
        row,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="result.corrected" if row.corrects_id else "result.logged",
        incident_id=inc.id,
        summary=result_summary(row, checked),
    )
    qc.record_findings(session, inc, row, pending, actor=actor)
    plausibility.check_new_result(session, inc, row, checked.sample, actor=actor, forecast=forecast)


def qc_flag_text(findings: Iterable[Any]) -> str | None:
    """``Result.qc_flag``: the kinds of the findings on the new row itself."""
    return ";".join(sorted({f.kind for f in findings if f.on_new})) or None


def result_summary(row: Result, checked: CheckedResult) -> str:
    """The summary of the log entry that records a result."""
    summary = f"Result {checked.parameter.key} on {checked.sample.code}: {describe_value(row)}"
    if row.corrects_id:
        summary = f"Correction of result #{row.corrects_id}: " + summary + f" — {row.correction_reason}"
    if row.status == "suspected":
        summary += " (rapid positive: suspected)"
    return summary


def correct_result(
    session: Session, code: str, result_id: int, raw: ResultInput, *, reason: str, actor: str
) -> ResultRecord:
    """A new result that replaces ``result_id``; the old one stays, marked as corrected."""
    inc = get_incident(session, code)
    refuse_if_ended(inc, "a correction")
    old = session.get(Result, result_id)
    if old is None or old.incident_id != inc.id:
        raise UserError("errors.results.no_result", where="result", result_id=result_id, code=inc.code)
    if not reason or not reason.strip():
        raise UserError("errors.results.correction_needs_reason", where="reason")
    newer = session.exec(select(Result).where(Result.corrects_id == old.id)).first()
    if newer is not None:
        raise UserError(
            "errors.results.result_was_already_corrected",
            where="result",
            id=old.id,
            id2=newer.id,
            id3=current_version(session, newer).id,
        )
    checked = check_result(session, inc, raw)
    if checked.sample.id != old.sample_id:
        raise UserError("errors.results.correction_stays_same_sample", where="sample")
    row = _result_row(inc, checked, actor=actor, at=utcnow())
    row.corrects_id = old.id
    row.correction_reason = reason.strip()
    _store(session, inc, row, checked, actor=actor)
    return result_record(session, inc.code, row_id(row), incident=inc)


def input_from_result(session: Session, r: Result) -> ResultInput:
    """The typed fields of an existing result, to start a correction from."""
    sample = session.get(Sample, r.sample_id)
    eq = session.get(Equipment, r.instrument_id) if r.instrument_id else None
    if r.kind == "qualitative":
        value, detected = None, "yes" if r.detected else "no"
    elif r.detected is False:
        value, detected = f"<{r.detection_limit:g}" if r.detection_limit else "ND", None
    else:
        value, detected = (f"{r.value:g}" if r.value is not None else None), None
    return ResultInput(
        sample=sample.code if sample else "",
        parameter=r.parameter,
        value=value,
        value_high=f"{r.value_high:g}" if r.value_high is not None else None,
        unit=r.unit,
        detection_limit=f"{r.detection_limit:g}" if r.detection_limit is not None else None,
        detected=detected,
        method=r.method,
        principle=r.principle,
        rapid=r.method_kind == "rapid",
        online=r.method_kind == "online",
        instrument=eq.asset_tag if eq else "",
    )


# ---------------------------------------------------------------- views


@dataclass
class Cell:
    text: str
    exceeds: bool
    suspected: bool
    flagged: bool
    multiple: float | None
    result_ids: list[int]
    records: list[ResultRecord] = field(default_factory=list)  # the one result record of each


@dataclass
class RoundTable:
    round: int | None
    rounds: list[int]
    points: list[str]
    parameters: list[str]
    cells: dict[tuple[str, str], Cell]
    water_class: str

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for pt in self.points:
            row: dict[str, Any] = {"point": pt}
            for p in self.parameters:
                c = self.cells.get((pt, p))
                row[p] = None if c is None else c.text
            out.append(row)
        return out


def _cell(views: list[ResultRecord]) -> Cell:
    # lab and confirmed results govern; among equals the highest concentration
    def rank(v: ResultRecord) -> tuple[Any, ...]:
        return (v.method_kind != "rapid" or v.status == "confirmed", v.value_mg_l or 0.0)

    main = max(views, key=rank)
    text = main.text
    if main.exceeds:
        text += f" ({main.multiple_text()})"
    if main.status == "suspected":
        text += " ?"
    elif main.status == "not_confirmed":
        text += " ✗"
    if len(views) > 1:
        text += f" +{len(views) - 1}"
    flagged = any(v.flagged for v in views)
    if flagged:
        text += " !"
    return Cell(
        text=text,
        exceeds=any(v.counts_as_exceedance for v in views),
        suspected=any(v.status == "suspected" for v in views),
        flagged=flagged,
        multiple=max((v.multiple for v in views if v.multiple is not None), default=None),
        result_ids=[v.id for v in views],
        records=list(views),
    )


def _rounds_with_results(session: Session, inc: Incident) -> list[int]:
    """Numbers of the rounds that hold a result on a sample other than a field blank.

    One probe per round (indexes on sample.round_id and result.sample_id), not a scan of
    the results. A correction stays on its sample, so a round with any result has a
    current one.
    """
    has_result = (
        select(Sample.id)
        .where(
            Sample.round_id == SamplingRound.id,
            Sample.sample_type != "field_blank",
            select(Result.id).where(Result.sample_id == Sample.id).exists(),
        )
        .exists()
    )
    return list(
        session.exec(
            select(SamplingRound.number)
            .where(SamplingRound.incident_id == inc.id, has_result)
            .order_by(col(SamplingRound.number))
        ).all()
    )


def round_table(
    session: Session,
    code: str,
    round_number: int | None = None,
    *,
    water_class: str = standards.DEFAULT_CLASS,
) -> RoundTable:
    """All points of a round (the latest with results by default), one column per parameter.

    Cell text: value as entered, "(n.n×)" when over the limit, "?" suspected, "✗" a
    rapid positive that a different-principle method did not confirm, "+n" more
    results in the cell, "!" a QC flag.
    """
    inc = get_incident(session, code)
    rounds = _rounds_with_results(session, inc)
    if round_number is None and rounds:
        round_number = rounds[-1]
    elif round_number is not None and round_number not in rounds:
        find_round(session, inc, round_number, where="--round")
    # only the chosen round's rows are read (by index): the same cells as filtering every view
    in_round = (
        and_(col(Sample.round_id).is_(None), col(Sample.incident_id) == inc.id)
        if round_number is None
        else col(Sample.round_id).in_(
            select(SamplingRound.id).where(
                SamplingRound.incident_id == inc.id, SamplingRound.number == round_number
            )
        )
    )
    chosen = [
        v
        for v in result_records(
            session, code, water_class=water_class, samples=(Sample.sample_type != "field_blank", in_round)
        )
        if v.round == round_number
    ]
    plan_points = [p.number for p in latest_plan_points(session, inc)]
    extra = sorted({v.point for v in chosen if v.point and v.point not in plan_points})
    params = sorted({v.parameter for v in chosen}, key=lambda k: (k != inc.substance, k))
    groups: dict[tuple[str, str], list[ResultRecord]] = defaultdict(list)
    for v in chosen:
        groups[(v.point or "?", v.parameter)].append(v)
    return RoundTable(
        round=round_number,
        rounds=rounds,
        points=plan_points + extra,
        parameters=params,
        cells={k: _cell(vs) for k, vs in groups.items()},
        water_class=water_class,
    )


@dataclass
class PointSeries:
    point: str
    parameter: str
    limit_mg_l: float | None
    times: list[datetime]
    hours: list[float]  # after the release start
    values_mg_l: list[float]  # detection limit for non-detects
    detected: list[bool]
    statuses: list[str]
    forecast_hours: list[float] = field(default_factory=list)
    forecast_mg_l: list[float] = field(default_factory=list)
    forecast_label: str | None = None


def point_series(
    session: Session,
    code: str,
    point: str,
    parameter: str | None = None,
    *,
    forecast: IncidentForecast | None = None,
    water_class: str = standards.DEFAULT_CLASS,
) -> PointSeries:
    """Observed concentrations at one point over time, with the forecast curve when given.

    ``forecast`` is an ``IncidentForecast``; its curve for the point is found by the
    point number, then by the point's receptor id.
    """
    inc = get_incident(session, code)
    pt = find_point(session, inc, point, where="--point")
    param = standards.resolve_parameter(parameter or inc.substance or "", where="--param").key
    start = inc.release_start or inc.alert_at
    # the point's rows only (indexes on sample.point_id and result.sample_id), every plan
    # revision's point of that number, values and statuses only (no evaluation, flags or holds):
    # the same series as filtering every record of the incident (tests/results/test_scale_paths.py)
    views = [v for v in point_values(session, inc, pt.number, param) if v.status != "not_confirmed"]
    series = PointSeries(
        point=pt.number,
        parameter=param,
        limit_mg_l=standards.parameters()[param].limit_for(water_class),
        times=[v.sampled_at for v in views],
        hours=[(v.sampled_at - start).total_seconds() / 3600 for v in views],
        values_mg_l=[
            (v.value_mg_l if v.detected and v.value_mg_l is not None else (v.detection_limit_mg_l or 0.0))
            for v in views
        ],
        detected=[bool(v.detected) for v in views],
        statuses=[v.status for v in views],
    )
    if forecast is not None:
        labels = [pt.number] + ([pt.receptor_id] if pt.receptor_id else [])
        for i, fp in enumerate(forecast.points):
            if fp.label in labels:
                offset_h = (forecast.release_start - start).total_seconds() / 3600
                series.forecast_hours = [float(h) + offset_h for h in forecast.times_h]
                series.forecast_mg_l = [float(c) for c in forecast.curves_mg_l[i]]
                series.forecast_label = fp.label
                break
    return series


def latest_sample_by_point(session: Session, code: str, round_number: int | None = None) -> dict[str, str]:
    """point number -> code of the newest normal sample there (in the round, when given)."""
    inc = get_incident(session, code)
    query = (
        select(SamplingPoint.number, Sample.code)
        .where(
            Sample.incident_id == inc.id,
            Sample.sample_type == "normal",
            Sample.point_id == SamplingPoint.id,
        )
        .order_by(col(Sample.sampled_at), col(Sample.id))
    )
    if round_number is not None:
        query = query.where(
            col(Sample.round_id).in_(
                select(SamplingRound.id).where(
                    SamplingRound.incident_id == inc.id, SamplingRound.number == round_number
                )
            )
        )
    return dict(session.exec(query).all())
