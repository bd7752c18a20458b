"""Everything a report shows, read straight from the store as plain data.

Reports never query the store themselves: :func:`gather` reads the incident,
its river network, the plan (latest revision and its points), rounds,
samples, custody, crews, assignments, the stored forecast and the log. Each
result is the one result record (:func:`incident.results.result_records`:
status, exceedance multiple, latest correction, flags), placed on the river.
The renderers (:mod:`incident.reports.render`) only format this data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, utcnow
from incident.core.datafiles import read_toml
from incident.core.networks import downstream_receptors, load_network
from incident.core.rivers import RiverNetworkData
from incident.core.store.tables import (
    Assignment,
    CheckIn,
    Crew,
    CustodyTransfer,
    Incident,
    PlanRevision,
    Responder,
    Sample,
    SamplingPoint,
    SamplingRound,
    row_id,
)
from incident.plume import IncidentForecast, latest_forecast
from incident.reports.photos import PhotoInfo, list_photos
from incident.reports.survey import Survey, survey_form
from incident.results import ResultRecord, result_records

POLLUTANTS_FILE = Path(__file__).resolve().parent.parent / "data" / "pollutants.toml"

#: log kinds left out of the "work done" chronology (they are in the data tables)
ROUTINE_KINDS = ("result.", "sample.", "custody.")


@cache
def pollutants() -> dict[str, dict[str, Any]]:
    return read_toml(POLLUTANTS_FILE)


def limit_for(parameter: str) -> tuple[float | None, str, str]:
    """(limit mg/L, standard en, standard zh) for a parameter key, or (None, "", "")."""
    info = pollutants().get(parameter)
    if not info:
        return None, "", ""
    return info.get("limit_mg_l"), info.get("standard", ""), info.get("standard_zh", "")


@dataclass
class PointRow:
    id: int
    number: str
    role: str
    name: str
    reach_id: str
    km: float
    lat: float
    lon: float
    distance_from_source_m: float
    receptor_id: str | None
    arrival_h: float | None
    peak_h: float | None
    removed: bool
    revision: int


@dataclass
class RoundRow:
    id: int
    number: int
    planned_at: datetime
    purpose: str
    status: str
    revision: int
    samples: int = 0


@dataclass
class ResultRow(ResultRecord):
    """The one result record, placed on the river for the report (km, distance, custody)."""

    point_km: float | None = None
    point_distance_m: float | None = None
    custody_count: int = 0

    @classmethod
    def of(cls, rec: ResultRecord, **placement: Any) -> ResultRow:
        return cls(**{f.name: getattr(rec, f.name) for f in fields(ResultRecord)}, **placement)

    @property
    def point_label(self) -> str:
        return self.point or "—"

    @property
    def non_detect(self) -> bool:
        if self.kind == "qualitative":
            return self.detected is False
        return self.detected is False or (
            self.value_mg_l is None and self.detection_limit_mg_l is not None and self.kind == "quantitative"
        )

    @property
    def plotted_mg_l(self) -> float | None:
        """Value for the trend chart: the value, or the detection limit for a non-detect."""
        if self.non_detect:
            return self.detection_limit_mg_l
        return self.value_mg_l


@dataclass
class MethodRow:
    parameter: str
    method: str
    method_kind: str
    principle: str
    instruments: list[str]
    dl_mg_l: float | None
    count: int


@dataclass
class CrewRow:
    name: str
    leader: str
    headcount: int | None
    home_unit: str
    assignments: int
    points: list[str]


@dataclass
class ReceptorRow:
    receptor_id: str
    name: str
    name_zh: str | None
    kind: str
    km: float
    distance_km: float
    population_served: int | None
    arrival_at: datetime | None = None  # forecast or plan
    arrival_source: str = ""  # forecast | plan | ""
    peak_mg_l: float | None = None


@dataclass
class LogRow:
    seq: int
    at: datetime
    actor: str
    position: str
    kind: str
    summary: str


@dataclass
class ReportData:
    code: str
    title: str
    title_zh: str | None
    is_exercise: bool
    status: str
    medium: str
    alert_at: datetime
    release_start: datetime | None
    release_duration_h: float | None
    substance: str | None
    pollutant_class: str | None
    mass_kg: float | None
    description: str
    source_lat: float | None
    source_lon: float | None
    source_datum: str
    source_reach: str | None
    source_km: float | None
    river_name: str | None
    river_name_zh: str | None
    as_of: datetime
    network: RiverNetworkData | None = None
    plan_revision: int | None = None
    plan_revisions: int = 0
    plan_reason: str = ""
    points: list[PointRow] = field(default_factory=list)  # of the latest revision
    all_points: dict[int, PointRow] = field(default_factory=dict)
    rounds: list[RoundRow] = field(default_factory=list)
    results: list[ResultRow] = field(default_factory=list)  # normal samples, latest version of each
    qc_results: list[ResultRow] = field(default_factory=list)  # blanks and parallels
    methods: list[MethodRow] = field(default_factory=list)
    crews: list[CrewRow] = field(default_factory=list)
    receptors: list[ReceptorRow] = field(default_factory=list)  # downstream of the source
    chronology: list[LogRow] = field(default_factory=list)
    log_entries: int = 0
    log_head: str | None = None
    samples: int = 0
    custody_transfers: int = 0
    samples_without_custody: list[str] = field(default_factory=list)
    limit_mg_l: float | None = None
    standard: str = ""
    standard_zh: str = ""
    pollutant: dict[str, Any] | None = None
    forecast: IncidentForecast | None = None
    # the stored forecast the report used (incident.plume.latest_forecast), cited in the report
    forecast_id: int | None = None
    forecast_sha256: str | None = None
    forecast_made_at: datetime | None = None
    forecast_made_by: str | None = None
    # HJ 589 Appendix A field survey and the photos kept with the incident
    survey: Survey | None = None
    photos: list[PhotoInfo] = field(default_factory=list)

    @property
    def counted(self) -> list[ResultRow]:
        """Results the conclusions count: not held for plausibility, not refuted by confirmation."""
        return [r for r in self.results if not r.held and r.status != "not_confirmed"]

    @property
    def exceedances(self) -> list[ResultRow]:
        return [r for r in self.results if r.counts_as_exceedance]

    @property
    def suspected(self) -> list[ResultRow]:
        return [r for r in self.results if r.status == "suspected"]

    @property
    def held(self) -> list[ResultRow]:
        """Results flagged as implausible that no person has confirmed (release is refused)."""
        return [r for r in self.results + self.qc_results if r.held]

    def point_by_number(self, number: str) -> PointRow | None:
        return next((p for p in self.points if p.number == number), None)


def _point_row(p: SamplingPoint, revision: int) -> PointRow:
    return PointRow(
        id=row_id(p),
        number=p.number,
        role=p.role,
        name=p.name,
        reach_id=p.reach_id,
        km=p.km,
        lat=p.lat,
        lon=p.lon,
        distance_from_source_m=p.distance_from_source_m,
        receptor_id=p.receptor_id,
        arrival_h=p.arrival_h,
        peak_h=p.peak_h,
        removed=p.removed_reason is not None,
        revision=revision,
    )


def _number_key(number: str) -> tuple[Any, ...]:
    """S2 < S3 < S3-1 < S4 < S10 (HJ 589 §6.2.3 sub-level numbers)."""
    parts = []
    for chunk in number.replace("S", "").split("-"):
        parts.append(int(chunk) if chunk.isdigit() else math.inf)
    return (number[:1], *parts)


def gather(
    session: Session,
    inc: Incident,
    *,
    forecast: IncidentForecast | None = None,
    as_of: datetime | None = None,
) -> ReportData:
    """Read one incident's report data (results as the one result record: GB 3838 class III).

    Without an explicit ``forecast``, the incident's latest stored forecast is used and cited.
    """
    stored = latest_forecast(session, inc.code) if forecast is None else None
    if stored is not None:
        forecast = stored.to_forecast()
    net = load_network(session, inc.river_network_id) if inc.river_network_id is not None else None
    data = ReportData(
        code=inc.code,
        title=inc.title,
        title_zh=inc.title_zh,
        is_exercise=inc.is_exercise,
        status=inc.status,
        medium=inc.medium,
        alert_at=as_utc(inc.alert_at),
        release_start=as_utc(inc.release_start) if inc.release_start else None,
        release_duration_h=inc.release_duration_h,
        substance=inc.substance,
        pollutant_class=inc.pollutant_class,
        mass_kg=inc.mass_kg,
        description=inc.description,
        source_lat=inc.source_lat,
        source_lon=inc.source_lon,
        source_datum=inc.source_datum,
        source_reach=inc.source_reach,
        source_km=inc.source_km,
        river_name=net.name if net else None,
        river_name_zh=net.name_zh if net else None,
        as_of=as_utc(as_of or utcnow()),
        network=net,
        forecast=forecast,
    )
    if stored is not None:
        data.forecast_id, data.forecast_sha256 = stored.id, stored.content_sha256
        data.forecast_made_at, data.forecast_made_by = stored.made_at, stored.made_by
    if inc.substance:
        data.limit_mg_l = limit_for(inc.substance)[0]
        _, data.standard, data.standard_zh = limit_for(inc.substance)
        data.pollutant = pollutants().get(inc.substance)
    if forecast is not None and forecast.standard_mg_l is not None:
        data.limit_mg_l = forecast.standard_mg_l

    # ---- plan
    revisions = list(
        session.exec(
            select(PlanRevision)
            .where(PlanRevision.incident_id == inc.id)
            .order_by(col(PlanRevision.revision))
        )
    )
    data.plan_revisions = len(revisions)
    rev_number = {r.id: r.revision for r in revisions}
    if revisions:
        latest = revisions[-1]
        data.plan_revision = latest.revision
        data.plan_reason = latest.reason
        rev_ids = list(rev_number)
        for p in session.exec(select(SamplingPoint).where(col(SamplingPoint.revision_id).in_(rev_ids))):
            row = _point_row(p, rev_number[p.revision_id])
            data.all_points[row.id] = row
            if p.revision_id == latest.id:
                data.points.append(row)
        data.points.sort(key=lambda p: (p.distance_from_source_m, _number_key(p.number)))

    # ---- rounds
    rounds = list(
        session.exec(
            select(SamplingRound)
            .where(SamplingRound.incident_id == inc.id)
            .order_by(col(SamplingRound.number))
        )
    )

    # ---- samples, custody, results
    samples = {
        s.id: s
        for s in session.exec(select(Sample).where(Sample.incident_id == inc.id).order_by(col(Sample.id)))
    }
    data.samples = len(samples)
    custody: dict[int, int] = {}
    if samples:
        for c in session.exec(
            select(CustodyTransfer).where(col(CustodyTransfer.sample_id).in_(list(samples)))
        ):
            custody[c.sample_id] = custody.get(c.sample_id, 0) + 1
    data.custody_transfers = sum(custody.values())
    data.samples_without_custody = [
        s.code for sid, s in samples.items() if sid not in custody and s.sample_type == "normal"
    ]
    per_round: dict[int, int] = {}
    for s in samples.values():
        if s.round_id is not None:
            per_round[s.round_id] = per_round.get(s.round_id, 0) + 1
    data.rounds = [
        RoundRow(
            id=row_id(r),
            number=r.number,
            planned_at=as_utc(r.planned_at),
            purpose=r.purpose,
            status=r.status,
            revision=rev_number.get(r.revision_id, 0),
            samples=per_round.get(row_id(r), 0),
        )
        for r in rounds
    ]

    methods: dict[tuple[Any, ...], MethodRow] = {}
    by_code = {sm.code: sm for sm in samples.values()}
    for rec in result_records(session, inc.code):
        smp = by_code.get(rec.sample)
        pt = data.all_points.get(smp.point_id) if smp is not None and smp.point_id is not None else None
        result_row = ResultRow.of(
            rec,
            point_km=pt.km if pt else None,
            point_distance_m=pt.distance_from_source_m if pt else None,
            custody_count=custody.get(row_id(smp), 0) if smp is not None else 0,
        )
        result_row.point = result_row.point or "—"
        result_row.sampled_at = as_utc(result_row.sampled_at)
        (data.results if result_row.sample_type == "normal" else data.qc_results).append(result_row)
        key = (rec.parameter, rec.method, rec.method_kind, rec.principle)
        m = methods.setdefault(
            key, MethodRow(rec.parameter, rec.method, rec.method_kind, rec.principle, [], None, 0)
        )
        m.count += 1
        if rec.instrument_desc and rec.instrument_desc not in m.instruments:
            m.instruments.append(rec.instrument_desc)
        if rec.detection_limit_mg_l is not None:
            m.dl_mg_l = (
                rec.detection_limit_mg_l if m.dl_mg_l is None else min(m.dl_mg_l, rec.detection_limit_mg_l)
            )
    data.results.sort(key=lambda r: (r.round or 0, r.point_distance_m or 0, r.sampled_at, r.parameter))
    data.qc_results.sort(key=lambda r: (r.sampled_at, r.sample))
    data.methods = sorted(methods.values(), key=lambda m: (m.parameter, m.method_kind, m.method))

    # ---- crews
    assignments = list(session.exec(select(Assignment).where(Assignment.incident_id == inc.id)))
    checkins = {c.crew_id: c for c in session.exec(select(CheckIn).where(CheckIn.incident_id == inc.id))}
    crew_ids = {a.crew_id for a in assignments} | set(checkins)
    for crew in sorted((session.get(Crew, cid) for cid in crew_ids), key=lambda c: c.name if c else ""):
        if crew is None:
            continue
        leader = session.get(Responder, crew.leader_id) if crew.leader_id else None
        ci = checkins.get(row_id(crew))
        mine = [a for a in assignments if a.crew_id == crew.id]
        pts = sorted(
            {data.all_points[a.point_id].number for a in mine if a.point_id in data.all_points},
            key=_number_key,
        )
        data.crews.append(
            CrewRow(
                name=crew.name,
                leader=ci.leader if ci else (leader.name if leader else ""),
                headcount=ci.headcount if ci else None,
                home_unit=ci.home_unit if ci else (leader.home_unit if leader else ""),
                assignments=len(mine),
                points=pts,
            )
        )

    # ---- receptors downstream, with arrival from the forecast or the plan
    by_receptor_point = {p.receptor_id: p for p in data.points if p.receptor_id}
    for line in downstream_receptors(session, inc):
        rc = next((r for r in net.receptors if r.receptor_id == line.receptor_id), None) if net else None
        receptor_row = ReceptorRow(
            receptor_id=line.receptor_id,
            name=line.name,
            name_zh=line.name_zh,
            kind=line.kind,
            km=line.km,
            distance_km=line.distance_km,
            population_served=rc.population_served if rc else None,
        )
        fp = None
        if forecast is not None:
            fp = next((p for p in forecast.points if p.label == line.receptor_id), None)
        if forecast is not None and fp is not None and fp.leading_edge_h is not None:
            receptor_row.arrival_at = forecast.at(fp.leading_edge_h)
            receptor_row.arrival_source = "forecast"
            receptor_row.peak_mg_l = fp.peak_mg_l
        elif line.receptor_id in by_receptor_point and data.release_start is not None:
            planned = by_receptor_point[line.receptor_id]
            if planned.arrival_h is not None:
                receptor_row.arrival_at = data.release_start + timedelta(hours=planned.arrival_h)
                receptor_row.arrival_source = "plan"
        data.receptors.append(receptor_row)

    # ---- log
    entries = log.entries(session, log.incident_chain(inc.code))
    data.log_entries = len(entries)
    data.log_head = entries[-1].hash if entries else None
    data.chronology = [
        LogRow(e.seq, as_utc(e.at), e.actor, e.position, e.kind, e.summary)
        for e in entries
        if not e.kind.startswith(ROUTINE_KINDS) and not e.kind.startswith("report.")
    ]
    data.survey = survey_form(session, inc.code)
    data.photos = list_photos(session, inc.code)
    return data
