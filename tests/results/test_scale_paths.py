"""The indexed read paths (issue 19) give the same answers as reading the whole incident.

One incident gets a bit of everything, through the real services, in a seeded
random order: rapid positives confirmed and not confirmed (same sample, same
point and round, same point within the hour), corrections, contaminated field
blanks, parallel pairs over their RPD limit, a later plan revision that
re-declares a point, results without a round. Then every optimised path is
compared with the whole-incident computation it replaces:

- one result's view (``result_ids``) = its row in the whole-incident views;
- a point's series = the whole-incident views filtered to the point and parameter;
- a round table = the whole-incident views grouped by round;
- the newest sample per point = the list of samples, last one wins;
- QC flags of some results = the incident's active flags for them;
- QC neighbours (entry) = the neighbours the former join query found.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import and_, or_
from sqlmodel import col, select

from incident.core.clock import utcnow
from incident.core.incidents import get_incident
from incident.core.store.engine import session_scope
from incident.core.store.tables import Result, Sample
from incident.results import entry, qc
from incident.results.entry import NewSample, ResultInput
from tests.results.conftest import POINTS, make_plan

PARAMS = ("cadmium", "lead", "copper")


def _old_neighbours(session, row: Result, sample: Sample):
    """The QC neighbour query as it was before issue 19 (a join filtered on the result's incident)."""
    near = [
        Sample.id == sample.parallel_of,
        Sample.parallel_of == sample.id,
        and_(
            Sample.point_id == sample.point_id,
            Sample.sampled_at >= sample.sampled_at - timedelta(days=1),
            Sample.sampled_at <= sample.sampled_at + timedelta(days=1),
        ),
    ]
    if sample.round_id is not None:
        near.append(Sample.round_id == sample.round_id)
    pairs = list(
        session.exec(
            select(Result, Sample).where(
                Result.incident_id == row.incident_id,
                Result.parameter == row.parameter,
                Result.sample_id == Sample.id,
                or_(*near),
            )
        )
    )
    ids = [r.id for r, _ in pairs]
    corrected = set(session.exec(select(Result.corrects_id).where(col(Result.corrects_id).in_(ids))).all())
    return [(r, s) for r, s in pairs if r.id not in corrected]  # current ones only


@pytest.fixture
def busy(planned, monkeypatch):
    """(engine, code): ~90 results of every kind, QC checked against the former neighbour query."""
    engine, code = planned
    rng = random.Random(19)
    mismatches: list = []
    real = qc._neighbours

    def checked(session, row, sample):
        new = real(session, row, sample)
        old = _old_neighbours(session, row, sample)
        if sorted(r.id for r, _ in new) != sorted(r.id for r, _ in old):
            mismatches.append((row.parameter, sample.code))
        return new

    monkeypatch.setattr(qc, "_neighbours", checked)
    now = utcnow()
    with session_scope(engine) as s:
        inc = get_incident(s, code)
        # a second revision re-declares S3 (same number, a new row) and adds S5
        make_plan(s, inc.id, revision=2, points=POINTS[2:3] + [("S5", "attenuation", 9000.0, None)], rounds=0)
        samples = []
        for _i in range(40):
            point = rng.choice(["S1", "S2", "S3", "S4", "S5"])
            rnd = rng.choice([1, 2, 3, None])
            kind = rng.choices(["normal", "field_blank", "parallel"], [8, 1, 2])[0]
            at = now - timedelta(hours=rng.choice([4, 3.5, 3, 2, 1]), minutes=rng.randint(0, 50))
            partner = None
            if kind == "parallel":
                same = [x for x in samples if x.point == point and x.sample_type == "normal"]
                if not same:
                    kind = "normal"
                else:
                    partner = rng.choice(same).code
            samples.append(
                entry.create_sample(
                    s,
                    code,
                    NewSample(
                        point=point,
                        round=rnd,
                        sampled_at=at,
                        sampler="Li Wei",
                        sample_type=kind,
                        parallel_of=partner,
                    ),
                    actor="t",
                )
            )
        ids = []
        for smp in samples:
            for p in rng.sample(PARAMS, rng.randint(1, 3)):
                how = rng.choice(["lab", "lab", "nd", "strip", "asv"])
                value = f"{rng.choice([0.0008, 0.002, 0.004, 0.02, 0.2]):g}"
                if how == "nd":
                    raw = ResultInput(sample=smp.code, parameter=p, value="<0.0005", method="hj700_icpms")
                elif how == "lab":
                    raw = ResultInput(
                        sample=smp.code,
                        parameter=p,
                        value=value,
                        detection_limit="0.0005",
                        method="hj700_icpms",
                    )
                else:
                    raw = ResultInput(
                        sample=smp.code,
                        parameter=p,
                        value=value,
                        detection_limit="0.0005",
                        method="asv_portable" if how == "asv" else "ASV (other brand)",
                        principle="" if how == "asv" else "electrochemical",
                        rapid=True,
                        instrument="INS-HM-01",
                    )
                ids.append(entry.add_result(s, code, raw, actor="t").id)
        for rid in rng.sample(ids, 12):  # corrections, some of them corrected again
            r = s.get(Result, rid)
            current = entry.current_version(s, r)
            raw = entry.input_from_result(s, current)
            raw.value = "0.003" if raw.value and not raw.value.startswith("<") else raw.value
            entry.correct_result(s, code, current.id, raw, reason="re-read", actor="t")
    assert mismatches == []
    return engine, code


def _key(v) -> tuple:
    return tuple(sorted(vars(v).items()))


def test_one_result_view_equals_its_row_in_the_whole_incident(busy):
    engine, code = busy
    with session_scope(engine) as s:
        every = {v.id: v for v in entry.result_records(s, code, include_superseded=True)}
        assert len(every) > 80
        assert {v.status for v in every.values()} >= {"final", "suspected", "confirmed"}
        assert any(v.qc_flags for v in every.values()) and any(v.superseded_by for v in every.values())
        for rid, whole in every.items():
            (one,) = entry.result_records(s, code, result_ids=[rid])
            assert _key(one) == _key(whole)


def _series_reference(s, code, point, param):
    """point_series before issue 19: every view of the incident, filtered."""
    inc = get_incident(s, code)
    start = inc.release_start or inc.alert_at
    views = [
        v
        for v in entry.result_records(s, code)
        if v.point == point
        and v.parameter == param
        and v.sample_type != "field_blank"
        and v.status != "not_confirmed"
    ]
    views.sort(key=lambda v: v.sampled_at)
    return (
        [v.sampled_at for v in views],
        [(v.sampled_at - start).total_seconds() / 3600 for v in views],
        [
            (v.value_mg_l if v.detected and v.value_mg_l is not None else (v.detection_limit_mg_l or 0.0))
            for v in views
        ],
        [bool(v.detected) for v in views],
        [v.status for v in views],
    )


def test_point_series_equals_the_filtered_whole_incident(busy):
    engine, code = busy
    seen = 0
    with session_scope(engine) as s:
        for point in ("S1", "S2", "S3", "S4", "S5"):
            for param in PARAMS:
                got = entry.point_series(s, code, point, param)
                want = _series_reference(s, code, point, param)
                assert (got.times, got.hours, got.values_mg_l, got.detected, got.statuses) == want
                seen += len(got.times)
    assert seen > 50


def _round_reference(s, code, round_number):
    """round_table's rounds and cells before issue 19, from every view of the incident."""
    views = [v for v in entry.result_records(s, code) if v.sample_type != "field_blank"]
    rounds = sorted({v.round for v in views if v.round is not None})
    if round_number is None and rounds:
        round_number = rounds[-1]
    groups = defaultdict(list)
    for v in views:
        if v.round == round_number:
            groups[(v.point or "?", v.parameter)].append(v)
    return rounds, round_number, {k: entry._cell(vs) for k, vs in groups.items()}


@pytest.mark.parametrize("round_number", [None, 1, 2, 3])
def test_round_table_equals_the_whole_incident_grouped(busy, round_number):
    engine, code = busy
    with session_scope(engine) as s:
        rt = entry.round_table(s, code, round_number)
        rounds, chosen, cells = _round_reference(s, code, round_number)
        assert rt.rounds == rounds and rt.round == chosen
        assert rt.cells == cells and cells


def test_round_table_of_results_without_a_round(planned):
    engine, code = planned
    with session_scope(engine) as s:
        smp = entry.create_sample(
            s, code, NewSample(point="S2", sampled_at=utcnow() - timedelta(hours=1), sampler="A"), actor="t"
        )
        entry.add_result(
            s,
            code,
            ResultInput(
                sample=smp.code,
                parameter="cadmium",
                value="0.02",
                detection_limit="0.001",
                method="hj700_icpms",
            ),
            actor="t",
        )
        rt = entry.round_table(s, code)
        assert rt.round is None and rt.rounds == []
        assert rt.cells == _round_reference(s, code, None)[2] and rt.cells


@pytest.mark.parametrize("round_number", [None, 1, 2, 3])
def test_latest_sample_by_point_equals_the_list_of_samples(busy, round_number):
    engine, code = busy
    with session_scope(engine) as s:
        want: dict[str, str] = {}
        for info in entry.list_samples(s, code):
            if (
                info.point
                and info.sample_type == "normal"
                and (round_number is None or info.round == round_number)
            ):
                want[info.point] = info.code
        assert entry.latest_sample_by_point(s, code, round_number) == want and want


def test_flags_of_some_results_equal_the_incidents_active_flags(busy):
    engine, code = busy
    with session_scope(engine) as s:
        inc = get_incident(s, code)
        whole = qc.active_flags(s, inc.id)
        assert whole
        ids = [r.id for r in s.exec(select(Result).where(Result.incident_id == inc.id))]
        for chunk in (ids, ids[::3], ids[:5]):
            got = qc.active_flags_for(s, inc.id, chunk)
            assert got == {i: whole[i] for i in chunk if i in whole}


def test_sample_codes_count_only_their_own_prefix(planned):
    engine, code = planned
    with session_scope(engine) as s:
        made = [
            entry.create_sample(
                s,
                code,
                NewSample(point=p, round=1, sampled_at=utcnow() - timedelta(hours=1), sampler="A"),
                actor="t",
            ).code
            for p in ("S1", "S1", "S2", "S1")
        ]
    assert made == [f"{code}-S1-R1-01", f"{code}-S1-R1-02", f"{code}-S2-R1-01", f"{code}-S1-R1-03"]


def _orm_reference(s, code, water_class=None):
    """Every current result's record computed as before issue 19's plain rows: ORM objects, and each
    suspected result confirmed against every other current result of the incident (no candidates
    read by place), in id order."""
    from sqlalchemy.orm import aliased

    from incident.core import standards
    from incident.core.store.tables import SamplingPoint, SamplingRound
    from incident.results import record

    water_class = water_class or standards.DEFAULT_CLASS
    inc = get_incident(s, code)
    newer = aliased(Result)
    rows = list(
        s.exec(
            select(Result, Sample, SamplingPoint.number, SamplingRound.number)
            .join(Sample, col(Result.sample_id) == Sample.id)
            .outerjoin(SamplingPoint, col(Sample.point_id) == SamplingPoint.id)
            .outerjoin(SamplingRound, col(Sample.round_id) == SamplingRound.id)
            .where(
                Result.incident_id == inc.id, ~select(newer.id).where(newer.corrects_id == Result.id).exists()
            )
            .order_by(col(Result.id))
        )
    )
    others = [(r, smp) for r, smp, *_ in rows]
    flags = qc.active_flags(s, inc.id)
    out = {}
    for r, smp, point, rnd in rows:
        status, by = record.confirmation(r, others, smp)
        v = record.evaluate(r, sample_type=smp.sample_type, medium=inc.medium, water_class=water_class)
        out[r.id] = (
            smp.code, point, rnd, smp.sampled_at, r.parameter, record.describe_value(r), r.value_mg_l,
            r.detected, status, by, v.verdict, v.limit_mg_l, v.multiple, sorted(flags.get(r.id, set())),
        )  # fmt: skip
    return out


def _fields(v) -> tuple:
    return (
        v.sample, v.point, v.round, v.sampled_at, v.parameter, v.text, v.value_mg_l, v.detected, v.status,
        v.confirmed_by, v.verdict, v.limit_mg_l, v.multiple, v.qc_flags,
    )  # fmt: skip


def test_records_from_plain_rows_equal_the_orm_computation(busy):
    """Issue 19 reads rows as plain values and confirms each suspect among candidates read by place:
    every record, series and round cell equals the ORM objects checked against the whole incident."""
    engine, code = busy
    with session_scope(engine) as s:
        want = _orm_reference(s, code)
        got = {v.id: _fields(v) for v in entry.result_records(s, code)}
        assert {k: v for k, v in got.items() if v != want[k]} == {}
        assert got == want
        statuses = {w[8] for w in want.values()}
        assert {"confirmed", "suspected"} <= statuses
        # field blanks are not in a series (their records are in `want`)
        blanks = {v.id for v in entry.result_records(s, code) if v.sample_type == "field_blank"}
        for point in ("S1", "S2", "S3", "S4", "S5"):
            for param in PARAMS:
                series = entry.point_series(s, code, point, param)
                rows = [
                    w
                    for rid, w in want.items()
                    if w[1] == point and w[4] == param and w[8] != "not_confirmed" and rid not in blanks
                ]
                rows.sort(key=lambda w: w[3])  # stable: id order among equal times, as the series
                assert series.statuses == [w[8] for w in rows]
                assert series.times == [w[3] for w in rows]
                assert series.values_mg_l == [
                    w[6] if w[7] and w[6] is not None else series.values_mg_l[i] for i, w in enumerate(rows)
                ]
        for rnd in (1, 2, 3):
            table = entry.round_table(s, code, rnd)
            for cell in table.cells.values():
                for rec in cell.records:
                    assert _fields(rec) == want[rec.id]
