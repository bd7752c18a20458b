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
- QC neighbours (entry) = the neighbours the former join query found;
- flags and plausibility holds (held, cleared, on a corrected result) = the ORM rows read as
  before issue 19's plain columns and EXISTS probes.

The same incident holds a plan point that was never sampled, and another incident on the
same store has results (a hold, at points of the same numbers) that must not leak in. The
checks run on SQLite and, when INCIDENT_TEST_PG_URL is set (CI), once on PostgreSQL.
"""

from __future__ import annotations

import random
import sqlite3
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import and_, or_
from sqlmodel import col, select

from incident.core.clock import utcnow
from incident.core.incidents import NewIncident, create_incident, get_incident
from incident.core.store.engine import session_scope
from incident.core.store.tables import HoldReview, QcFlag, Result, ResultHold, Sample
from incident.results import entry, plausibility, qc, record
from incident.results.entry import NewSample, ResultInput
from tests.results.conftest import POINTS, backdate, make_plan

PARAMS = ("cadmium", "lead", "copper")
#: every series is checked at these: S6 is in the plan and never sampled; nitrobenzene, the
#: demo's substance, is the parameter the plausibility checks hold; zinc's parallel pair was
#: sampled at one time (a tie, in id order)
SERIES_POINTS = ("S1", "S2", "S3", "S4", "S5", "S6")
SERIES_PARAMS = (*PARAMS, "nitrobenzene", "zinc")
#: values only the other incident has
OTHER_VALUES = (0.777, 0.0777)


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


def _fill(engine, code, monkeypatch):
    """~90 results of every kind, QC checked against the former neighbour query; held results
    (one cleared, one corrected); a second incident with its own results."""
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
        # a second revision re-declares S3 (same number, a new row) and adds S5, and S6 (never sampled)
        make_plan(
            s,
            inc.id,
            revision=2,
            points=POINTS[2:3] + [("S5", "attenuation", 9000.0, None), ("S6", "attenuation", 12000.0, None)],
            rounds=0,
        )
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
        _parallel_corrected(s, code, now)
        _held(s, code, now)
        _other_incident(s, now)
    assert mismatches == []
    return engine, code


def _parallel_corrected(s, code, now):
    """A parallel pair 67 % apart (both flagged, each on the other), then one half corrected to
    agree (5 % apart): the flag on the other half rests on a corrected result and no longer
    applies. The two are sampled at one time: a tie in a series, in id order."""
    at = now - timedelta(hours=1)
    first = entry.create_sample(
        s, code, NewSample(point="S4", round=3, sampled_at=at, sampler="A"), actor="t"
    )
    twin = entry.create_sample(
        s,
        code,
        NewSample(
            point="S4", round=3, sampled_at=at, sampler="A", sample_type="parallel", parallel_of=first.code
        ),
        actor="t",
    )
    for smp, value in ((first, "0.02"), (twin, "0.04")):
        raw = ResultInput(
            sample=smp.code, parameter="zinc", value=value, detection_limit="0.001", method="hj700_icpms"
        )
        rec = entry.add_result(s, code, raw, actor="t")
        assert rec.qc_flags == (["rpd_exceeded"] if smp is twin else [])
    raw.value = "0.021"  # 5 % apart: within the RPD limit
    assert not entry.correct_result(s, code, rec.id, raw, reason="re-read", actor="t").qc_flags


def _nitrobenzene(s, code, point, rnd, at, value):
    smp = entry.create_sample(
        s, code, NewSample(point=point, round=rnd, sampled_at=at, sampler="A"), actor="t"
    )
    raw = ResultInput(
        sample=smp.code, parameter="nitrobenzene", value=value, detection_limit="0.0005", method="hj648_gc"
    )
    return entry.add_result(s, code, raw, actor="t")


def _held(s, code, now):
    """Plausibility holds on the incident's substance: one confirmed by a person (cleared), one
    left open, one on a result since corrected."""
    h = timedelta(hours=1)
    upstream = _nitrobenzene(s, code, "S1", 1, now - 3 * h, "0.01")  # 20× the detection limit
    plausibility.confirm_result(s, code, upstream.id, reason="re-measured", actor="chief")
    _nitrobenzene(s, code, "S2", 1, now - 3 * h, "0.002")
    _nitrobenzene(s, code, "S2", 2, now - 2 * h, "0.2")  # a 100× jump: held
    _nitrobenzene(s, code, "S3", 1, now - 3 * h, "0.003")
    jump = _nitrobenzene(s, code, "S3", 2, now - 2 * h, "0.3")
    raw = entry.input_from_result(s, s.get(Result, jump.id))
    raw.value = "0.003"
    entry.correct_result(s, code, jump.id, raw, reason="µg/L read as mg/L", actor="t")


def _other_incident(s, now):
    """A second incident on the store, planned with the same point numbers: its results (one
    held, at its upstream control) must not reach the first incident's views."""
    other = create_incident(
        s, NewIncident(title="other", alert_at=now - timedelta(days=5), substance="cadmium"), actor="t"
    )
    make_plan(s, other.id)
    for point, rnd, value in (
        ("S3", 1, OTHER_VALUES[0]),
        ("S3", 2, OTHER_VALUES[1]),
        ("S1", 1, OTHER_VALUES[0]),
    ):
        smp = entry.create_sample(
            s,
            other.code,
            NewSample(point=point, round=rnd, sampled_at=now - timedelta(hours=4 - rnd), sampler="B"),
            actor="t",
        )
        for param, method in (("cadmium", "hj700_icpms"), ("nitrobenzene", "hj648_gc")):
            raw = ResultInput(
                sample=smp.code, parameter=param, value=f"{value:g}", detection_limit="0.0005", method=method
            )
            entry.add_result(s, other.code, raw, actor="t")


@pytest.fixture(scope="module")
def busy_file(tmp_path_factory) -> tuple[str, str]:
    """(SQLite file, code): the incident :func:`_fill` makes, built once for the module (its
    former-neighbour-query check included); the tests only read it, each from a copy."""
    from incident.core.store.engine import open_store
    from incident.demo.seed import ensure_demo

    folder = tmp_path_factory.mktemp("busy")
    path = folder / "busy.sqlite"
    with pytest.MonkeyPatch.context() as mp:  # as tests/conftest.py's _isolate, for a module fixture
        mp.setenv("INCIDENT_HOME", str(folder / "home"))
        mp.delenv("INCIDENT_DB", raising=False)
        mp.setenv("INCIDENT_USER", "tester")
        mp.setenv("INCIDENT_KEYRING", "0")
        mp.delenv("INCIDENT_PASSPHRASE", raising=False)
        engine = open_store(f"sqlite:///{path}")
        try:
            code = ensure_demo(engine, actor="tester")
            with session_scope(engine) as s:
                inc = get_incident(s, code)
                backdate(s, inc)
                make_plan(s, inc.id)
            _fill(engine, code, mp)
        finally:
            engine.dispose()
    return str(path), code


@pytest.fixture
def busy(busy_file, tmp_path):
    """(engine, code): a copy of the module's busy incident, on SQLite."""
    from incident.core.store.engine import open_store

    src, code = busy_file
    target = tmp_path / "busy.sqlite"
    with sqlite3.connect(src) as a, sqlite3.connect(target) as b:
        a.backup(b)
    a.close()
    b.close()
    engine = open_store(f"sqlite:///{target}")
    yield engine, code
    engine.dispose()


@pytest.fixture
def busy_pg(planned_pg, monkeypatch):
    """The same on PostgreSQL (skipped without INCIDENT_TEST_PG_URL)."""
    return _fill(*planned_pg, monkeypatch)


def _key(v) -> tuple:
    return tuple(sorted(vars(v).items()))


def _check_one_result_views(s, code):
    every = {v.id: v for v in entry.result_records(s, code, include_superseded=True)}
    assert len(every) > 80
    assert {v.status for v in every.values()} >= {"final", "suspected", "confirmed"}
    assert any(v.qc_flags for v in every.values()) and any(v.superseded_by for v in every.values())
    assert any(v.held for v in every.values()) and any(v.holds and not v.held for v in every.values())
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


def _check_series(s, code):
    """Every point's series (the never-sampled S6 too) for every parameter equals the filtered
    whole-incident views: held, cleared and corrected results, nothing of the other incident."""
    seen, empty, ties = 0, 0, 0
    held = {v.value_mg_l for v in entry.result_records(s, code) if v.held}
    assert held
    for point in SERIES_POINTS:
        for param in SERIES_PARAMS:
            got = entry.point_series(s, code, point, param)
            want = _series_reference(s, code, point, param)
            assert (got.times, got.hours, got.values_mg_l, got.detected, got.statuses) == want
            assert not set(got.values_mg_l) & set(OTHER_VALUES)
            held -= set(got.values_mg_l)
            seen += len(got.times)
            empty += not got.times
            ties += len(got.times) - len(set(got.times))
    assert seen > 50 and empty >= len(SERIES_PARAMS) and not held  # S6's are empty; held ones are in
    assert ties


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


def _check_round_table(s, code, round_number):
    rt = entry.round_table(s, code, round_number)
    rounds, chosen, cells = _round_reference(s, code, round_number)
    assert rt.rounds == rounds and rt.round == chosen
    assert rt.cells == cells and cells


@pytest.mark.parametrize("round_number", [None, 1, 2, 3])
def test_round_table_equals_the_whole_incident_grouped(busy, round_number):
    engine, code = busy
    with session_scope(engine) as s:
        _check_round_table(s, code, round_number)


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


def _check_flags_of_some_results(s, code):
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


def _orm_holds(s, incident_id):
    """result id -> its holds, read as before issue 19: ResultHold and HoldReview ORM objects."""
    out = defaultdict(list)
    for hold, review in s.exec(
        select(ResultHold, HoldReview)
        .outerjoin(HoldReview, col(HoldReview.hold_id) == ResultHold.id)
        .where(ResultHold.incident_id == incident_id)
        .order_by(col(ResultHold.id))
    ):
        out[hold.result_id].append(
            record.Hold(
                id=hold.id,
                kind=hold.kind,
                reason=record.hold_reason(hold.reason),
                cleared_by=review.reviewed_by if review else None,
                cleared_reason=review.reason if review else None,
            )
        )
    return out


def _orm_reference(s, code, water_class=None):
    """Every current result's record computed as before issue 19's plain rows: ORM objects, and each
    suspected result confirmed against every other current result of the incident (no candidates
    read by place), in id order; its flags and holds read for the whole incident."""
    from sqlalchemy.orm import aliased

    from incident.core import standards
    from incident.core.store.tables import SamplingPoint, SamplingRound

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
    holds = _orm_holds(s, inc.id)
    out = {}
    for r, smp, point, rnd in rows:
        status, by = record.confirmation(r, others, smp)
        v = record.evaluate(r, sample_type=smp.sample_type, medium=inc.medium, water_class=water_class)
        out[r.id] = (
            smp.code, point, rnd, smp.sampled_at, r.parameter, record.describe_value(r), r.value_mg_l,
            r.detected, status, by, v.verdict, v.limit_mg_l, v.multiple, sorted(flags.get(r.id, set())),
            holds.get(r.id, []),
        )  # fmt: skip
    return out


def _fields(v) -> tuple:
    return (
        v.sample, v.point, v.round, v.sampled_at, v.parameter, v.text, v.value_mg_l, v.detected, v.status,
        v.confirmed_by, v.verdict, v.limit_mg_l, v.multiple, v.qc_flags, v.holds,
    )  # fmt: skip


def _check_records(s, code):
    """Issue 19 reads rows as plain values and confirms each suspect among candidates read by place:
    every record, series and round cell equals the ORM objects checked against the whole incident."""
    want = _orm_reference(s, code)
    got = {v.id: _fields(v) for v in entry.result_records(s, code)}
    assert {k: v for k, v in got.items() if v != want[k]} == {}
    assert got == want
    statuses = {w[8] for w in want.values()}
    assert {"confirmed", "suspected"} <= statuses
    assert any(w[13] for w in want.values()) and any(w[14] for w in want.values())
    # field blanks are not in a series (their records are in `want`)
    blanks = {v.id for v in entry.result_records(s, code) if v.sample_type == "field_blank"}
    for point in SERIES_POINTS:
        for param in SERIES_PARAMS:
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


def _check_flags_and_holds_of_every_result(s, code):
    """Corrected results too: the records' flags and holds (read for the rows an EXISTS finds
    flagged or held) equal the incident's active flags and its holds read as ORM objects."""
    inc = get_incident(s, code)
    flags, holds = qc.active_flags(s, inc.id), _orm_holds(s, inc.id)
    every = entry.result_records(s, code, include_superseded=True)
    for v in every:
        assert v.qc_flags == sorted(flags.get(v.id, set())) and v.holds == holds.get(v.id, [])
    # the incident has each case: flagged, a flag whose basis was corrected, held, cleared by a
    # person, held and since corrected
    assert any(v.qc_flags for v in every) and any(v.held and v.current for v in every)
    flag_rows = {f.result_id for f in s.exec(select(QcFlag))}
    assert any(v.id in flag_rows and not v.qc_flags and v.current for v in every)
    assert any(h.cleared_by == "chief" for v in every for h in v.holds)
    assert any(v.holds and not v.current for v in every) and any(v.qc_flags and not v.current for v in every)
    # the other incident's results, flags and holds stay out
    other = {r.id for r in s.exec(select(Result).where(Result.incident_id != inc.id))}
    assert other and not other & {v.id for v in every}
    assert set(holds) <= {v.id for v in every}


#: each indexed path and the computation it replaced, compared (see the module docstring)
CHECKS = {
    "one result's view = its row in the whole incident": _check_one_result_views,
    "a point's series = the whole incident filtered": _check_series,
    "flags of some results = the incident's active flags": _check_flags_of_some_results,
    "records from plain rows = the ORM computation": _check_records,
    "flags and holds of every result = the ORM rows": _check_flags_and_holds_of_every_result,
}


@pytest.mark.parametrize("check", list(CHECKS.values()), ids=list(CHECKS))
def test_the_indexed_path_equals_the_computation_it_replaced(busy, check):
    engine, code = busy
    with session_scope(engine) as s:
        check(s, code)


def test_the_same_answers_on_postgresql(busy_pg):
    """Every check, once, on PostgreSQL (the same SQL: EXISTS columns, joins, expanding ids)."""
    engine, code = busy_pg
    with session_scope(engine) as s:
        for check in CHECKS.values():
            check(s, code)
        for round_number in (None, 1, 2, 3):
            _check_round_table(s, code, round_number)
