"""Quality control on results: field blanks, parallel samples, instrument calibration.

Results are evidence and are never updated, so QC findings are rows of their own
(``QcFlag``, append-only, each committed to the hash chain with ``log.record``).
A finding is made when the second half of its evidence arrives:

- **field blank**: a blank result that detects the parameter flags every current
  result for that parameter in its *batch* (same round; without a round, same
  point and same local day), and the blank itself. A result logged later in a
  contaminated batch is flagged when it is logged.
- **parallel pair**: two quantitative detections are compared by relative percent
  difference, RPD = |a − b| / mean × 100, against the parameter's
  ``rpd_limit_pct`` (data file; defaults 20 % inorganic, 30 % trace organics).
  One detection and one non-detect is a *mismatch* when the detected value is
  more than twice the other's detection limit. Both results are flagged.
- **instrument**: a result measured with an instrument past its calibration due
  date (HJ 589 §9.4.2) is flagged when logged.

A flag rests on another result (``basis_result_id``); when that result is corrected
the flag no longer applies and :func:`active_flags` drops it. ``Result.qc_flag``
holds only the flags known when that row was written (a convenience for readers of
the raw table); views and reports use :func:`active_flags`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, and_, bindparam, or_
from sqlmodel import Session, col, select

from incident.core import log, standards
from incident.core.clock import as_utc, to_local, utcnow
from incident.core.store.tables import Incident, QcFlag, Result, Sample, result_is_current, row_id

MISMATCH_FACTOR = 2.0


def rpd(a: float, b: float) -> float:
    """Relative percent difference |a − b| / mean × 100 (0 when both are 0)."""
    if a < 0 or b < 0:
        raise ValueError("concentrations are not negative")
    mean = (a + b) / 2
    return 0.0 if mean == 0 else abs(a - b) / mean * 100


@dataclass
class Finding:
    kind: str
    detail: str
    result_id: int | None  # None: the result being written
    basis_result_id: int | None  # None with basis_is_new: the result being written
    on_new: bool = False
    basis_is_new: bool = False


@cache
def _neighbours_stmt() -> Any:
    """:func:`_neighbours`' statement with its values as parameters, built once (each entry runs it;
    built anew, it and its cache key cost about a millisecond). The same SQL: a missing round or
    parallel (``= NULL``) selects nothing, as the comparisons with None it replaces."""
    near = or_(
        col(Sample.id) == bindparam("parallel_of"),
        col(Sample.parallel_of) == bindparam("sample_id"),
        and_(
            col(Sample.point_id) == bindparam("point_id"),
            col(Sample.sampled_at) >= bindparam("t0"),
            col(Sample.sampled_at) <= bindparam("t1"),
        ),
        col(Sample.round_id) == bindparam("round_id"),
    )
    return (
        select(Result, Sample)
        .where(
            col(Result.sample_id).in_(select(Sample.id).where(near)),
            Result.parameter == bindparam("parameter"),
            Result.sample_id == Sample.id,
            result_is_current(),
        )
        .order_by(col(Result.id))
    )


def _neighbours(session: Session, row: Result, sample: Sample) -> list[tuple[Result, Sample]]:
    """Current results for the same parameter that can share a batch or a parallel pair with ``sample``.

    Bounded in SQL (same round, or same point within a day, or linked parallels) so a
    long station series does not rescan the whole incident for every row.
    """
    if sample.point_id is not None and sample.id is not None:
        day = timedelta(days=1)
        return list(
            session.exec(
                _neighbours_stmt(),
                params={
                    "parallel_of": sample.parallel_of,
                    "sample_id": sample.id,
                    "point_id": sample.point_id,
                    "t0": sample.sampled_at - day,
                    "t1": sample.sampled_at + day,
                    "round_id": sample.round_id,
                    "parameter": row.parameter,
                },
            )
        )
    near: list[ColumnElement[bool]] = [
        col(Sample.id) == sample.parallel_of,
        col(Sample.parallel_of) == sample.id,
        and_(
            col(Sample.point_id) == sample.point_id,
            col(Sample.sampled_at) >= sample.sampled_at - timedelta(days=1),
            col(Sample.sampled_at) <= sample.sampled_at + timedelta(days=1),
        ),
    ]
    if sample.round_id is not None:
        near.append(col(Sample.round_id) == sample.round_id)
    # driven from the sample indexes (id, parallel_of, point+time, round: a multi-index OR), then
    # result (sample_id, parameter); the neighbours' incident is implied by the sample's
    return list(
        session.exec(
            select(Result, Sample)
            .where(
                col(Result.sample_id).in_(select(Sample.id).where(or_(*near))),
                Result.parameter == row.parameter,
                Result.sample_id == Sample.id,
                result_is_current(),
            )
            # in the order they were logged: the order of the findings and their log entries
            .order_by(col(Result.id))
        )
    )


def same_batch(a: Sample, b: Sample) -> bool:
    if a.round_id is not None or b.round_id is not None:
        return a.round_id == b.round_id
    return a.point_id == b.point_id and to_local(a.sampled_at).date() == to_local(b.sampled_at).date()


T = TypeVar("T")
PARALLEL_MINUTES = 30.0  # a parallel and its primary are taken together: their times within this


def same_method(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def parallel_partner(
    method: str, sampled_at: datetime, candidates: list[tuple[T, str, datetime]]
) -> T | None:
    """The one result a parallel pairs with: the primary's result of the same method and time.

    ``candidates`` are (result, method, sampled_at) of the linked sample for the same parameter;
    a result by another method (a rapid test beside the lab analysis) is never its pair. Of
    several of the same method, the one sampled closest in time; none beyond PARALLEL_MINUTES.
    """
    close = [
        (abs((as_utc(t) - as_utc(sampled_at)).total_seconds()), i, r)
        for i, (r, m, t) in enumerate(candidates)
        if same_method(m, method)
        and abs((as_utc(t) - as_utc(sampled_at)).total_seconds()) <= PARALLEL_MINUTES * 60
    ]
    return min(close, key=lambda c: (c[0], -c[1]))[2] if close else None


def _pair_finding(new: Result, other: Result, limit_pct: float) -> tuple[str, str] | None:
    if new.kind != "quantitative" or other.kind != "quantitative":
        return None
    if new.detected and other.detected and new.value_mg_l is not None and other.value_mg_l is not None:
        d = rpd(new.value_mg_l, other.value_mg_l)
        if d > limit_pct:
            return (
                "rpd_exceeded",
                f"parallel RPD {d:.1f} % > {limit_pct:g} % (#{new.id or 'new'} vs #{other.id})",
            )
        return None
    if bool(new.detected) != bool(other.detected):
        det, nd = (new, other) if new.detected else (other, new)
        if (
            nd.detection_limit_mg_l
            and det.value_mg_l
            and det.value_mg_l > MISMATCH_FACTOR * nd.detection_limit_mg_l
        ):
            return (
                "parallel_mismatch",
                f"one parallel detects {det.value_mg_l:.4g} mg/L, the other is below {nd.detection_limit_mg_l:.4g}",
            )
    return None


class _Checked(Protocol):
    """What QC reads of a checked result (entry.CheckedResult; entry imports this module)."""

    sample: Sample
    instrument_overdue: str | None


class SampleLinks(Protocol):
    """What :func:`linked` and :func:`may_matter` read of a sample (a ``Sample``, or the bulk
    import's plain copy of these three columns)."""

    @property
    def id(self) -> int | None: ...
    @property
    def sample_type(self) -> str: ...
    @property
    def parallel_of(self) -> int | None: ...


def linked(a: SampleLinks, b: SampleLinks) -> bool:
    """One of the two samples is the parallel of the other."""
    return (a.parallel_of is not None and b.id == a.parallel_of) or (
        b.parallel_of is not None and b.parallel_of == a.id
    )


def may_matter(sample: SampleLinks, other: SampleLinks) -> bool:
    """Whether a result on ``other`` can take part in a finding on a new result on ``sample``:
    a field blank's result flags results on other samples; any other result is flagged by a
    blank's or paired with its parallel's. (The bulk import reads only these neighbours.)"""
    if sample.sample_type == "field_blank":
        return other.sample_type != "field_blank"
    return other.sample_type == "field_blank" or linked(sample, other)


def findings_for_new(
    session: Session, row: Result, checked: _Checked, *, neighbours: list[tuple[Result, Sample]] | None = None
) -> list[Finding]:
    """What QC finds once ``row`` (not yet stored) joins the incident's results.

    ``neighbours``: what :func:`_neighbours` would read, given by a caller that holds them
    (the bulk import, :mod:`incident.results._bulk`), in the order of their ids.
    """
    sample: Sample = checked.sample
    out: list[Finding] = []
    if checked.instrument_overdue:
        out.append(
            Finding(
                "instrument_calibration",
                f"instrument past calibration: {checked.instrument_overdue}",
                None,
                None,
                on_new=True,
            )
        )
    if neighbours is None:
        neighbours = _neighbours(session, row, sample)
    others = [r_s for r_s in neighbours if r_s[0].id != row.corrects_id and may_matter(sample, r_s[1])]
    if sample.sample_type == "field_blank":
        if row.detected:
            out.append(
                Finding(
                    "blank_contaminated", "the field blank detects the parameter", None, None, on_new=True
                )
            )
            for r, s in others:
                if s.sample_type != "field_blank" and same_batch(s, sample):
                    out.append(
                        Finding(
                            "blank_contaminated",
                            f"field blank {sample.code} detects {row.parameter} in this batch",
                            r.id,
                            None,
                            basis_is_new=True,
                        )
                    )
    else:
        for r, s in others:
            if s.sample_type == "field_blank" and r.detected and same_batch(s, sample):
                out.append(
                    Finding(
                        "blank_contaminated",
                        f"field blank {s.code} detects {row.parameter} in this batch",
                        None,
                        r.id,
                        on_new=True,
                    )
                )
        limit = standards.parameters()[row.parameter].rpd_limit_pct
        pairs = [(r, r.method, s.sampled_at) for r, s in others if linked(sample, s)]
        partner = parallel_partner(row.method, sample.sampled_at, pairs)
        for r in [partner] if partner is not None else []:
            found = _pair_finding(row, r, limit)
            if found:
                kind, detail = found
                out.append(Finding(kind, detail, None, r.id, on_new=True))
                out.append(Finding(kind, detail, r.id, None, basis_is_new=True))
    return out


def flag_row(inc: Incident, row: Result, f: Finding, *, actor: str) -> QcFlag:
    """The QcFlag a finding on ``row`` (stored, with its id) is written as."""
    return QcFlag(
        incident_id=row_id(inc),
        result_id=row_id(row) if f.result_id is None else f.result_id,
        kind=f.kind,
        detail=f.detail.replace("#new", f"#{row.id}"),
        basis_result_id=row.id if f.basis_is_new else f.basis_result_id,
        created_at=utcnow(),
        created_by=actor,
    )


def flag_summary(flag: QcFlag) -> str:
    return f"QC flag on result #{flag.result_id}: {flag.detail}"


def record_findings(
    session: Session, inc: Incident, row: Result, findings: list[Finding], *, actor: str
) -> None:
    for f in findings:
        flag = flag_row(inc, row, f, actor=actor)
        log.record(
            session,
            flag,
            chain=log.incident_chain(inc.code),
            actor=actor,
            kind="qc.flagged",
            incident_id=inc.id,
            summary=flag_summary(flag),
        )


def active_flags(session: Session, incident_id: int) -> dict[int, set[str]]:
    """result id -> flag kinds that still apply (their basis result has not been corrected)."""
    from sqlalchemy import exists
    from sqlalchemy.orm import aliased

    newer = aliased(Result)
    basis_corrected = exists(select(newer.id).where(newer.corrects_id == QcFlag.basis_result_id))
    out: dict[int, set[str]] = defaultdict(set)
    for result_id, kind in session.exec(
        select(QcFlag.result_id, QcFlag.kind).where(
            QcFlag.incident_id == incident_id,
            or_(col(QcFlag.basis_result_id).is_(None), ~basis_corrected),
        )
    ):
        out[result_id].add(kind)
    return dict(out)


@cache
def _flags_stmt() -> Any:
    """:func:`active_flags_for`'s statement, built once (the view of every entered result runs it):
    the flags' result ids and kinds as plain columns, and :func:`active_flags`' test that the basis
    has not been corrected, in SQL. Found by ``result_id`` (its index: a test of ``incident_id`` here
    would have SQLite walk every flag of the incident); the incident is checked on the rows."""
    from sqlalchemy.orm import aliased

    newer = aliased(Result, name="basis_newer")
    basis_corrected = select(newer.id).where(newer.corrects_id == QcFlag.basis_result_id).exists()
    return select(QcFlag.result_id, QcFlag.kind, QcFlag.incident_id).where(
        col(QcFlag.result_id).in_(bindparam("ids", expanding=True)),
        or_(col(QcFlag.basis_result_id).is_(None), ~basis_corrected),
    )


def active_flags_for(session: Session, incident_id: int, result_ids: list[int]) -> dict[int, set[str]]:
    """:func:`active_flags` for some results only, by index (the same answer for these ids, without
    reading the incident). The records ask only for the results that have a flag row at all
    (an EXISTS on each of their rows, :mod:`incident.results.record`), so few ids travel."""
    out: dict[int, set[str]] = defaultdict(set)
    session.flush()  # as session.execute would: flags added in this session are read too
    for i in range(0, len(result_ids), 5000):
        chunk = result_ids[i : i + 5000]
        for result_id, kind, flag_incident in session.connection().execute(_flags_stmt(), {"ids": chunk}):
            if flag_incident == incident_id:
                out[result_id].add(kind)
    return dict(out)
