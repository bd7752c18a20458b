"""The one result record: a result's status, exceedance multiple and latest correction.

Every reader of results (the results screen, ``incident results``, the dashboard,
the reports and their exports, the termination check, the drills) reads
:func:`result_records`; nothing else decides these:

- **latest correction**: a result is *current* when no other result corrects it
  (:func:`incident.core.store.tables.result_is_current`, SQL over the indexed
  ``corrects_id``); a corrected result stays in the store with ``superseded_by``;
- **status** (:func:`confirmation`): ``final``; ``suspected`` for a positive from a
  rapid method; ``confirmed`` once a current result for the same parameter, at the
  same sample or the same point and round (or within an hour), from a method on a
  different analytical principle detects it; ``not_confirmed`` when that method
  does not (HJ 589 §6.5.3, §9.2.3);
- **exceedance multiple** (:func:`evaluate`): (C − limit)/limit against the GB 3838
  limit of the parameter and class (domain brief §6);
- **flags**: QC findings that still apply (:func:`incident.results.qc.active_flags`)
  and plausibility holds (:mod:`incident.results.plausibility`) that no person has
  yet confirmed and no correction has replaced. A held result is left out of
  exceedance counts and released reports.

Services take a Session and hand back plain dataclasses, never ORM rows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, bindparam, or_, tuple_
from sqlalchemy import select as select_columns
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from incident.core import standards
from incident.core.i18n import t
from incident.core.incidents import get_incident
from incident.core.store.tables import (
    HoldReview,
    Incident,
    PlanRevision,
    QcFlag,
    Result,
    ResultHold,
    Sample,
    SamplingPoint,
    SamplingRound,
    result_is_current,
    row_id,
)
from incident.results.units import unit_factor

#: confirmation looks this far (seconds) for a sample at the same point without a round
SAME_TIME_S = 3600


class ResultValues(Protocol):
    """What the record reads of a result: a stored ``Result`` or the plain row of its columns
    (:class:`_ResultRow`, read without the ORM)."""

    @property
    def id(self) -> int | None: ...
    @property
    def parameter(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def detected(self) -> bool | None: ...
    @property
    def value(self) -> float | None: ...
    @property
    def value_high(self) -> float | None: ...
    @property
    def unit(self) -> str: ...
    @property
    def detection_limit(self) -> float | None: ...
    @property
    def value_mg_l(self) -> float | None: ...
    @property
    def detection_limit_mg_l(self) -> float | None: ...
    @property
    def principle(self) -> str: ...
    @property
    def status(self) -> str: ...


class StatusValues(Protocol):
    """What a result's status reads of it (:func:`confirmation`): a ``Result``, a
    :class:`_ResultRow` or the narrower :class:`_ValueRow` of a point's series."""

    @property
    def id(self) -> int | None: ...
    @property
    def parameter(self) -> str: ...
    @property
    def detected(self) -> bool | None: ...
    @property
    def principle(self) -> str: ...
    @property
    def status(self) -> str: ...


class SampleValues(Protocol):
    """What the record reads of a sample (a ``Sample`` or a :class:`_SampleRow`)."""

    @property
    def id(self) -> int | None: ...
    @property
    def point_id(self) -> int | None: ...
    @property
    def round_id(self) -> int | None: ...
    @property
    def sampled_at(self) -> datetime: ...
    @property
    def sample_type(self) -> str: ...


#: the columns of a result the records read, in the order of :class:`_ResultRow`
_RESULT_FIELDS = (
    "id", "parameter", "kind", "detected", "value", "value_high", "unit", "detection_limit",
    "value_mg_l", "detection_limit_mg_l", "method", "method_kind", "principle", "instrument_desc",
    "status", "entered_at", "entered_by", "corrects_id", "correction_reason",
)  # fmt: skip
_SAMPLE_FIELDS = ("id", "code", "sample_type", "sampled_at", "sampler", "point_id", "round_id")


@dataclass(slots=True)
class _ResultRow:
    """A result's columns as read (issue 19: plain rows cost a tenth of ORM objects to load)."""

    id: int
    parameter: str
    kind: str
    detected: bool | None
    value: float | None
    value_high: float | None
    unit: str
    detection_limit: float | None
    value_mg_l: float | None
    detection_limit_mg_l: float | None
    method: str
    method_kind: str
    principle: str
    instrument_desc: str
    status: str
    entered_at: datetime
    entered_by: str
    corrects_id: int | None
    correction_reason: str | None


@dataclass(slots=True)
class _SampleRow:
    id: int
    code: str
    sample_type: str
    sampled_at: datetime
    sampler: str
    point_id: int | None
    round_id: int | None


def _columns(*extra: Any) -> list[Any]:
    """The result's then the sample's columns of :data:`_RESULT_FIELDS` and :data:`_SAMPLE_FIELDS`,
    then ``extra``."""
    return (
        [getattr(Result, f) for f in _RESULT_FIELDS]
        + [getattr(Sample, f).label(f"sample_{f}") for f in _SAMPLE_FIELDS]
        + list(extra)
    )


_N_RESULT = len(_RESULT_FIELDS)
_N_BOTH = _N_RESULT + len(_SAMPLE_FIELDS)


def _split(row: Any) -> tuple[_ResultRow, _SampleRow]:
    return _ResultRow(*row[:_N_RESULT]), _SampleRow(*row[_N_RESULT:_N_BOTH])


def describe_value(r: ResultValues) -> str:
    """Human text of a result as entered: '0.012 mg/L', '<0.001 mg/L', '0.1–0.5 mg/L', 'detected'."""
    if r.kind == "qualitative":
        return ("detected" if r.detected else "not detected") + (
            f" (DL {r.detection_limit:g} {r.unit})" if r.detection_limit else ""
        )
    if r.kind == "semi_quantitative":
        return f"{r.value:g}–{r.value_high:g} {r.unit}"
    if not r.detected:
        return f"<{r.detection_limit:g} {r.unit}" if r.detection_limit is not None else "not detected"
    return f"{r.value:g} {r.unit}"


@dataclass
class Verdict:
    verdict: str  # exceeds | meets | undetermined | blank | no_standard
    limit_mg_l: float | None
    multiple: float | None  # (C − limit)/limit when exceeding
    note: str = ""


def evaluate(r: ResultValues, *, sample_type: str, medium: str, water_class: str) -> Verdict:
    """Compare one result with the GB 3838 limit for its parameter and class."""
    if sample_type == "field_blank":
        return Verdict("blank", None, None, "field blank: QC only")
    if medium not in ("water", "other"):
        return Verdict("no_standard", None, None, f"GB 3838 is for surface water, not {medium}")
    p = standards.parameters().get(r.parameter)
    if p is None:
        return Verdict("no_standard", None, None, "parameter not in the standard")
    limit = p.limit_for(water_class)
    note = p.limit_note(water_class)
    if r.kind == "semi_quantitative":
        factor = unit_factor(r.unit, medium="water")
        lo, hi = (r.value or 0.0) * factor, (r.value_high or 0.0) * factor
        if lo > limit:
            return Verdict("exceeds", limit, standards.exceedance_multiple(lo, limit), note + "; at least")
        if hi <= limit:
            return Verdict("meets", limit, None, note)
        return Verdict("undetermined", limit, None, "the range straddles the limit")
    if r.detected is False:
        dl = r.detection_limit_mg_l
        if dl is not None and dl <= limit:
            return Verdict("meets", limit, None, note)
        if dl is None:
            return Verdict("undetermined", limit, None, "not detected, detection limit unknown")
        return Verdict(
            "undetermined", limit, None, "not detected, but the detection limit is above the limit"
        )
    if r.kind == "qualitative" or r.value_mg_l is None:
        return Verdict("undetermined", limit, None, "detected, no value")
    if r.value_mg_l > limit:
        return Verdict("exceeds", limit, standards.exceedance_multiple(r.value_mg_l, limit), note)
    return Verdict("meets", limit, None, note)


@dataclass
class Hold:
    """A plausibility flag on a result (see :mod:`incident.results.plausibility`)."""

    id: int
    kind: str  # before_arrival | above_forecast | above_mass | unit_jump | upstream_above_background
    reason: str
    cleared_by: str | None = None  # the person who confirmed the value anyway
    cleared_reason: str | None = None

    @property
    def open(self) -> bool:
        return self.cleared_by is None


@dataclass
class ResultRecord:
    """One result as every screen, command, report and export shows it (plain data)."""

    id: int
    sample: str
    sample_type: str  # normal | field_blank | parallel
    point: str | None
    round: int | None
    sampled_at: datetime
    sampler: str
    parameter: str
    parameter_name: str
    parameter_name_zh: str
    kind: str  # qualitative | semi_quantitative | quantitative
    text: str  # value as entered, with unit
    value: float | None  # as entered
    value_high: float | None
    unit: str
    value_mg_l: float | None
    detection_limit_mg_l: float | None
    detected: bool | None
    method: str
    method_kind: str  # lab | rapid | online
    principle: str
    instrument_desc: str
    status: str  # final | suspected | confirmed | not_confirmed
    confirmed_by: int | None
    verdict: str  # exceeds | meets | undetermined | blank | no_standard
    limit_mg_l: float | None
    multiple: float | None  # (C − limit)/limit when over the limit
    qc_flags: list[str]
    entered_at: datetime
    entered_by: str
    corrects_id: int | None
    correction_reason: str | None
    superseded_by: int | None = None
    holds: list[Hold] = field(default_factory=list)

    @property
    def exceeds(self) -> bool:
        return self.verdict == "exceeds"

    @property
    def corrected(self) -> bool:
        """This result corrects an earlier one."""
        return self.corrects_id is not None

    @property
    def current(self) -> bool:
        return self.superseded_by is None

    @property
    def open_holds(self) -> list[Hold]:
        return [h for h in self.holds if h.open]

    @property
    def held(self) -> bool:
        """A plausibility flag no person has confirmed: out of counts and released reports."""
        return bool(self.open_holds)

    @property
    def flagged(self) -> bool:
        return bool(self.qc_flags) or self.held

    @property
    def counts_as_exceedance(self) -> bool:
        return self.exceeds and self.status != "not_confirmed" and not self.held and self.current

    def multiple_text(self) -> str:
        return "" if self.multiple is None else f"{self.multiple:.1f}×"

    def flag_text(self) -> str:
        """'kind: <reason>; ...' for open plausibility flags, in the reader's language; '' when none."""
        return "; ".join(f"{t('plausibility.kind.' + h.kind)}: {h.reason}" for h in self.open_holds)


def hold_reason(stored: str, lang: str | None = None) -> str:
    """A hold's reason in the reader's language. Stored language-neutral as JSON (a catalog key
    and its values); holds stored before that carry English text, shown as stored."""
    if not stored.startswith("{"):
        return stored
    try:
        data = json.loads(stored)
        return t(str(data["key"]), lang=lang, **dict(data.get("params") or {}))
    except (ValueError, KeyError, TypeError):
        return stored


@cache
def _holds_stmt() -> Any:
    """:func:`holds_for`'s statement, built once (the view of every entered result reads it): plain
    columns of each hold and of the review that cleared it (if any), no ORM objects. Found by
    ``result_id`` (its index: a test of ``incident_id`` here would have SQLite walk every hold of
    the incident); the incident is checked on the rows."""
    return (
        select_columns(
            col(ResultHold.id),
            col(ResultHold.result_id),
            col(ResultHold.kind),
            col(ResultHold.reason),
            col(HoldReview.reviewed_by),
            col(HoldReview.reason),
            col(ResultHold.incident_id),
        )
        .outerjoin(HoldReview, col(HoldReview.hold_id) == ResultHold.id)
        .where(col(ResultHold.result_id).in_(bindparam("result_ids", expanding=True)))
        .order_by(col(ResultHold.id), col(HoldReview.id))
    )


def holds_for(session: Session, incident_id: int, result_ids: list[int]) -> dict[int, list[Hold]]:
    """result id -> its plausibility holds, each with the review that cleared it (if any), in hold
    order. The records ask only for the results that have a hold row at all (an EXISTS on each of
    their rows), so few ids travel."""
    if not result_ids:
        return {}
    rows: list[Any] = []
    session.flush()  # as session.execute would: holds added in this session are read too
    for i in range(0, len(result_ids), 5000):
        rows += session.connection().execute(_holds_stmt(), {"result_ids": result_ids[i : i + 5000]}).all()
    rows.sort(key=lambda row: row[0])
    out: dict[int, list[Hold]] = defaultdict(list)
    for hold_id, result_id, kind, reason, reviewed_by, review_reason, hold_incident in rows:
        if hold_incident != incident_id:
            continue
        out[result_id].append(
            Hold(
                id=hold_id,
                kind=kind,
                reason=hold_reason(reason),
                cleared_by=reviewed_by,
                cleared_reason=review_reason,
            )
        )
    return dict(out)


def confirmation(
    suspect: StatusValues, others: Sequence[tuple[StatusValues, SampleValues]], sample: SampleValues
) -> tuple[str, int | None]:
    """Status of a suspected rapid positive given the other current results of the incident."""
    if suspect.status != "suspected":
        return suspect.status, None
    found_negative = None
    for other, osample in others:
        if other.id == suspect.id or other.parameter != suspect.parameter:
            continue
        if other.principle == suspect.principle or not other.principle:
            continue
        same_place = osample.id == sample.id or (
            osample.point_id == sample.point_id
            and osample.point_id is not None
            and (
                (osample.round_id == sample.round_id and sample.round_id is not None)
                or abs((osample.sampled_at - sample.sampled_at).total_seconds()) <= SAME_TIME_S
            )
        )
        if not same_place or osample.sample_type == "field_blank":
            continue
        if other.detected:
            return "confirmed", other.id
        if other.detected is False:
            found_negative = other.id
    if found_negative is not None:
        return "not_confirmed", found_negative
    return "suspected", None


def _confirmation_candidates(
    session: Session, inc: Incident, suspects: list[tuple[_ResultRow, _SampleRow]]
) -> list[tuple[_ResultRow, _SampleRow]]:
    """The current results that can confirm (or not) these suspected ones: same parameter, and same
    sample, or same point and (same round or within the hour); a superset read by index, and
    :func:`confirmation` decides.

    Only the (point, parameter) pairs of the suspects are kept: a round's two dozen rapid positives
    would otherwise fetch every parameter they share at every point they share (five times the
    rows, issue 19). Results without a detection or a principle cannot decide and are not read."""
    if not suspects:
        return []
    params = sorted({r.parameter for r, _ in suspects})
    sample_ids = sorted({s.id for _, s in suspects})
    near: list[ColumnElement[bool]] = [col(Sample.id).in_(sample_ids)]
    round_ids = sorted({s.round_id for _, s in suspects if s.round_id is not None})
    point_ids = sorted({s.point_id for _, s in suspects if s.point_id is not None})
    wanted: ColumnElement[bool] = col(Result.sample_id).in_(sample_ids)
    if point_ids:
        # another sample confirms only at the same point (same round, or within the hour)
        times = [s.sampled_at for _, s in suspects]
        slack = timedelta(seconds=SAME_TIME_S)
        when = and_(
            col(Sample.sampled_at) >= min(times) - slack, col(Sample.sampled_at) <= max(times) + slack
        )
        near.append(
            and_(
                col(Sample.point_id).in_(point_ids),
                or_(col(Sample.round_id).in_(round_ids), when) if round_ids else when,
            )
        )
        pairs = sorted({(s.point_id, r.parameter) for r, s in suspects if s.point_id is not None})
        wanted = or_(wanted, tuple_(col(Sample.point_id), col(Result.parameter)).in_(pairs))
    # Core execution does not autoflush: result_records, the one caller, has flushed the session
    return [
        _split(row)
        for row in session.connection().execute(
            select_columns(*_columns()).where(
                # the suspects' own samples, rounds and points: this incident's; a multi-index OR
                col(Result.sample_id).in_(select(Sample.id).where(or_(*near))),
                col(Result.sample_id) == col(Sample.id),
                col(Result.parameter).in_(params),
                wanted,
                col(Result.detected).is_not(None),
                col(Result.principle).is_not(None),
                col(Result.principle) != "",
                result_is_current(),
            )
        )
    ]


def _by_place(others: Sequence[tuple[StatusValues, SampleValues]]) -> dict[tuple[Any, ...], list[Any]]:
    """Positions in ``others`` by (parameter, "sample", sample id), (parameter, "round", point id,
    round id) and, sorted by time, (parameter, "point", point id) -> [(sampled_at, position)]."""
    out: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for i, (o, s) in enumerate(others):
        parameter, point_id = o.parameter, s.point_id
        out[(parameter, "sample", s.id)].append(i)
        if point_id is not None:
            if s.round_id is not None:
                out[(parameter, "round", point_id, s.round_id)].append(i)
            out[(parameter, "point", point_id)].append((s.sampled_at, i))
    for key, value in out.items():
        if key[1] == "point":
            value.sort()
    return out


def _first(pair: tuple[datetime, int]) -> datetime:
    return pair[0]


def _near_places(places: dict[tuple[Any, ...], list[Any]], r: StatusValues, s: SampleValues) -> list[int]:
    """Positions of the others that confirmation() can take for ``r`` on ``s``: its sample, or its
    point in its round or within SAME_TIME_S (a superset; confirmation decides), in their order."""
    import bisect

    picks = set(places.get((r.parameter, "sample", s.id), ()))
    if s.point_id is not None:
        if s.round_id is not None:
            picks.update(places.get((r.parameter, "round", s.point_id, s.round_id), ()))
        timed = places.get((r.parameter, "point", s.point_id), [])
        slack = timedelta(seconds=SAME_TIME_S + 1)
        lo = bisect.bisect_left(timed, s.sampled_at - slack, key=_first)
        hi = bisect.bisect_right(timed, s.sampled_at + slack, key=_first)
        picks.update(i for _, i in timed[lo:hi])
    return sorted(picks)


def _statuses(
    rows: Sequence[tuple[StatusValues, SampleValues]], others: Sequence[tuple[StatusValues, SampleValues]]
) -> list[tuple[str, int | None]]:
    """Each row's status and the result that decided it: a suspect's by :func:`confirmation` among
    ``others`` at its sample or point, in their order; any other result's is the one it was stored with."""
    places = _by_place(others)
    out: list[tuple[str, int | None]] = []
    for r, s in rows:
        if r.status == "suspected":
            out.append(confirmation(r, [others[i] for i in _near_places(places, r, s)], s))
        else:
            out.append((r.status, None))
    return out


_NEWER: list[Any] = []


def _newer() -> Any:
    """The alias of Result for "the result that corrects this one", made once: a new alias per
    call costs milliseconds and, named anew each time, defeats SQLAlchemy's statement cache."""
    if not _NEWER:
        _NEWER.append(aliased(Result, name="newer"))
    return _NEWER[0]


@cache
def _records_query() -> Any:
    """A result with its sample, point, round and the result that corrects it: the rows of
    :func:`result_records`, built once (conditions are added per call)."""
    newer = _newer()
    # whether the result has any QC flag or hold row: a probe of a small index on each row, so
    # that only the results that have some are looked up again (by id), not every result read
    has_flag = select(QcFlag.id).where(col(QcFlag.result_id) == col(Result.id)).exists()
    has_hold = select(ResultHold.id).where(col(ResultHold.result_id) == col(Result.id)).exists()
    return (
        select_columns(*_columns(SamplingPoint.number, SamplingRound.number, newer.id, has_flag, has_hold))
        .join(Sample, col(Result.sample_id) == Sample.id)
        .outerjoin(SamplingPoint, col(Sample.point_id) == SamplingPoint.id)
        .outerjoin(SamplingRound, col(Sample.round_id) == SamplingRound.id)
        .outerjoin(newer, col(newer.corrects_id) == col(Result.id))
        .order_by(col(Result.id))
    )


@cache
def _records_by_id() -> Any:
    """:func:`_records_query` for named results of an incident, with its values as parameters."""
    return _records_query().where(
        Result.incident_id == bindparam("incident_id"),
        col(Result.id).in_(bindparam("result_ids", expanding=True)),
    )


def result_records(
    session: Session,
    code: str,
    *,
    water_class: str = standards.DEFAULT_CLASS,
    include_superseded: bool = False,
    result_ids: list[int] | None = None,
    samples: tuple[Any, ...] = (),
    where: tuple[Any, ...] = (),
    incident: Incident | None = None,
) -> list[ResultRecord]:
    """The incident's current results (corrected ones too when asked, or the ones named), evaluated.

    One SQL query reads each result with its sample, point, round and the result
    that corrects it (if any); only the confirmation of suspected results needs
    the other current results of the same parameters.

    ``samples`` (conditions selecting some of this incident's samples: its points, its rounds)
    and ``where`` (conditions on the result) narrow it to some
    results: a point's series, a round (issue 19). Scoped like that, or by ``result_ids``,
    it reads by index only those rows, their flags and the few results that may confirm a
    suspected one, never the whole incident; the records are the same
    (tests/results/test_scale_paths.py). Each row carries whether it has any QC flag or
    hold row (EXISTS, by index), so only those results' flags and holds are read (by id).
    A point's series reads :func:`point_values` instead.
    """
    from incident.results import qc

    inc = incident if incident is not None and incident.code == code else get_incident(session, code)
    scoped = result_ids is not None or bool(samples) or bool(where)
    params: dict[str, Any] | None = None
    if result_ids is not None and not samples and not where:
        # one result's view (after every entry): the statement is built once
        query = _records_by_id()
        params = {"incident_id": inc.id, "result_ids": list(result_ids)}
    else:
        query = _records_query().where(*where)
        if samples:
            # driven from the sample indexes: SQLite would otherwise walk every result of the
            # incident (the conditions select this incident's samples, by point or round: an
            # incident_id test here would make SQLite walk every sample of the incident instead)
            query = query.where(col(Result.sample_id).in_(select(Sample.id).where(*samples)))
        else:
            query = query.where(Result.incident_id == inc.id)
        if result_ids is not None:
            query = query.where(col(Result.id).in_(list(result_ids)))
        elif not include_superseded:
            query = query.where(col(_newer().id).is_(None))
    n = len(_RESULT_FIELDS) + len(_SAMPLE_FIELDS)
    # Core execution: plain rows, without the ORM's result processing (a fifth of the time here);
    # flushed first, as session.execute would, so rows added in this session are read too
    session.flush()
    rows = [(*_split(row), *row[n:]) for row in session.connection().execute(query, params)]
    suspected_params = {r.parameter for r, *_ in rows if r.status == "suspected"}
    others: list[tuple[_ResultRow, _SampleRow]] = []
    if scoped:
        others = _confirmation_candidates(
            session, inc, [(r, s) for r, s, *_ in rows if r.status == "suspected"]
        )
    elif suspected_params:
        others = [
            _split(row)
            for row in session.execute(
                select_columns(*_columns())
                .join(Sample, col(Result.sample_id) == Sample.id)
                .where(
                    col(Result.incident_id) == inc.id,
                    col(Result.parameter).in_(sorted(suspected_params)),
                    result_is_current(),
                )
            )
        ]
    flags = (
        qc.active_flags_for(session, row_id(inc), [r.id for r, *_, has_flag, _ in rows if has_flag])
        if scoped
        else qc.active_flags(session, row_id(inc))
    )
    holds = holds_for(session, row_id(inc), [r.id for r, *_, has_hold in rows if has_hold])
    names = standards.parameters()
    out = []
    statuses = _statuses([(r, s) for r, s, *_ in rows], others)
    for (r, s, point, rnd, newer_id, _, _), (status, by) in zip(rows, statuses, strict=True):
        v = evaluate(r, sample_type=s.sample_type, medium=inc.medium, water_class=water_class)
        p = names.get(r.parameter)
        out.append(
            ResultRecord(
                id=r.id,
                sample=s.code,
                sample_type=s.sample_type,
                point=point,
                round=rnd,
                sampled_at=s.sampled_at,
                sampler=s.sampler,
                parameter=r.parameter,
                parameter_name=p.name if p else r.parameter,
                parameter_name_zh=p.name_zh if p else r.parameter,
                kind=r.kind,
                text=describe_value(r),
                value=r.value,
                value_high=r.value_high,
                unit=r.unit,
                value_mg_l=r.value_mg_l,
                detection_limit_mg_l=r.detection_limit_mg_l,
                detected=r.detected,
                method=r.method,
                method_kind=r.method_kind,
                principle=r.principle,
                instrument_desc=r.instrument_desc,
                status=status,
                confirmed_by=by,
                verdict=v.verdict,
                limit_mg_l=v.limit_mg_l,
                multiple=v.multiple,
                qc_flags=sorted(flags.get(r.id, set())),
                entered_at=r.entered_at,
                entered_by=r.entered_by,
                corrects_id=r.corrects_id,
                correction_reason=r.correction_reason,
                superseded_by=newer_id,
                holds=holds.get(r.id, []),
            )
        )
    return out


#: the columns a point's series reads, in the order of :class:`_ValueRow` and :class:`_PlaceRow`
_VALUE_FIELDS = ("id", "parameter", "detected", "value_mg_l", "detection_limit_mg_l", "principle", "status")
_PLACE_FIELDS = ("id", "sampled_at", "point_id", "round_id", "sample_type")
_N_VALUE = len(_VALUE_FIELDS)


@dataclass(slots=True)
class _ValueRow:
    """What a point's series reads of a result: its value and what its status rests on."""

    id: int
    parameter: str
    detected: bool | None
    value_mg_l: float | None
    detection_limit_mg_l: float | None
    principle: str
    status: str


@dataclass(slots=True)
class _PlaceRow:
    """Where and when a series' result was sampled: what :func:`confirmation` compares."""

    id: int
    sampled_at: datetime
    point_id: int | None
    round_id: int | None
    sample_type: str


@dataclass(slots=True)
class SeriesValue:
    """One current result of a point's series: its value and the status the record gives it."""

    id: int
    sampled_at: datetime
    value_mg_l: float | None
    detection_limit_mg_l: float | None
    detected: bool | None
    status: str  # final | suspected | confirmed | not_confirmed, as in :class:`ResultRecord`


@cache
def _point_values_stmt() -> Any:
    """:func:`point_values`' statement with its values as parameters, built once: a current
    result's value and status columns with its sample's place, for the samples (but field blanks)
    at every plan revision's point of a number. Driven from the samples, by the index on
    ``sample (point_id, sampled_at)``, each sample row read once, then its result by
    ``result (sample_id, parameter)``; no joins to the point, round, flags or holds: a series
    shows none of them."""
    same_number = select(SamplingPoint.id).where(
        col(SamplingPoint.number) == bindparam("number"),
        col(SamplingPoint.revision_id).in_(
            select(PlanRevision.id).where(col(PlanRevision.incident_id) == bindparam("incident_id"))
        ),
    )
    return (
        select_columns(
            *[getattr(Result, f) for f in _VALUE_FIELDS], *[getattr(Sample, f) for f in _PLACE_FIELDS]
        )
        .select_from(Sample)
        .join(Result, col(Result.sample_id) == Sample.id)
        .where(
            col(Sample.point_id).in_(same_number),
            col(Sample.sample_type) != "field_blank",
            col(Result.parameter) == bindparam("parameter"),
            result_is_current(),
        )
    )


def point_values(session: Session, inc: Incident, number: str, parameter: str) -> list[SeriesValue]:
    """The current results of ``parameter`` at the point ``number`` (every plan revision's point of
    that number; field blanks left out), with the status :func:`result_records` gives each, in
    time order (ties: in id order).

    What a point's series shows and nothing more (issue 19): no evaluation, flags or holds, and
    only the columns the value and status need. The rows read hold every current result that
    can confirm a suspect among them (the same parameter at the same point), so none is read
    again (tests/results/test_scale_paths.py checks the series equals the records').
    """
    session.flush()  # as session.execute would: rows added in this session are read too
    rows = [
        (_ValueRow(*row[:_N_VALUE]), _PlaceRow(*row[_N_VALUE:]))
        for row in session.connection().execute(
            _point_values_stmt(), {"number": number, "incident_id": inc.id, "parameter": parameter}
        )
    ]
    rows.sort(key=_result_id)  # the records' order, in which confirmation() looks
    suspects = any(r.status == "suspected" for r, _ in rows)
    statuses = _statuses(rows, rows if suspects else [])
    values = [
        SeriesValue(r.id, s.sampled_at, r.value_mg_l, r.detection_limit_mg_l, r.detected, status)
        for (r, s), (status, _) in zip(rows, statuses, strict=True)
    ]
    values.sort(key=_when)  # stable: id order among equal times
    return values


def _result_id(pair: tuple[_ValueRow, _PlaceRow]) -> int:
    return pair[0].id


def _when(v: SeriesValue) -> datetime:
    return v.sampled_at


def result_record(
    session: Session, code: str, result_id: int, *, incident: Incident | None = None
) -> ResultRecord:
    """One result (current or corrected) of the incident, evaluated (``incident``: the incident
    of ``code``, when the caller holds it)."""
    from incident.core.errors import UserError

    found = result_records(session, code, result_ids=[result_id], incident=incident)
    if not found:
        raise UserError("errors.records.no_result", field="result", id=result_id, code=code)
    return found[0]


def current_version(session: Session, r: Result) -> Result:
    """The latest result of ``r``'s correction chain."""
    while True:
        newer = session.exec(select(Result).where(Result.corrects_id == r.id)).first()
        if newer is None:
            return r
        r = newer
