"""QC (RPD, field blanks) and chain of custody."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from incident.core import log
from incident.core.clock import utcnow
from incident.core.errors import UserError
from incident.core.store.engine import session_scope
from incident.core.store.tables import QcFlag
from incident.results import custody, qc
from incident.results import entry as results
from incident.results.entry import NewSample, ResultInput
from incident.results.qc_table import qc_summary
from incident.results.record import result_records


def new_sample(s, code, point="S2", rnd=1, **kw):
    at = kw.pop("at", utcnow() - timedelta(hours=2))
    return results.create_sample(
        s, code, NewSample(point=point, round=rnd, sampled_at=at, sampler="Li Wei", **kw), actor="t"
    )


def cd(sample_code, value, dl="0.0001"):
    if value.startswith("<"):
        dl = None  # the limit is in the value
    return ResultInput(
        sample=sample_code, parameter="cadmium", value=value, detection_limit=dl, method="hj700_icpms"
    )


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [(10, 10, 0.0), (10, 12, 18.1818), (1, 3, 100.0), (0, 0, 0.0), (0.020, 0.030, 40.0), (5, 0, 200.0)],
)
def test_rpd_is_difference_over_mean(a, b, expected):
    assert qc.rpd(a, b) == pytest.approx(expected, rel=1e-4)
    assert qc.rpd(b, a) == pytest.approx(expected, rel=1e-4)


def test_rpd_refuses_negative():
    with pytest.raises(ValueError):
        qc.rpd(-1, 2)


@pytest.mark.parametrize(
    ("first", "second", "flag"),
    [
        ("0.020", "0.022", None),  # RPD 9.5 % within the 20 % limit for cadmium
        ("0.020", "0.0245", None),  # 20.2 %? no: 20.22 % just over -> see next row
        ("0.020", "0.030", "rpd_exceeded"),  # 40 %
        ("0.020", "<0.001", "parallel_mismatch"),  # detected 20x the other's DL
        ("0.0015", "<0.001", None),  # detected but under 2x DL: not a mismatch
        ("<0.001", "<0.001", None),
    ],
)
def test_parallel_pairs_are_checked_and_both_results_flagged(planned, first, second, flag):
    engine, code = planned
    if (first, second) == ("0.020", "0.0245"):
        flag = "rpd_exceeded"  # 0.0045 / 0.02225 = 20.2 % > 20 %
    with session_scope(engine) as s:
        a = new_sample(s, code)
        b = new_sample(s, code, sample_type="parallel", parallel_of=a.code)
        ra = results.add_result(s, code, cd(a.code, first), actor="t")
        rb = results.add_result(s, code, cd(b.code, second), actor="t")
        views = {v.id: v for v in results.result_records(s, code)}
        summary = qc_summary(s, code)
    expected = [flag] if flag else []
    assert views[ra.id].qc_flags == expected
    assert views[rb.id].qc_flags == expected
    assert rb.qc_flags == expected  # known when the second one is written
    assert summary["parallels"][0]["ok"] is (flag is None)


def test_parallel_flag_goes_away_when_the_partner_is_corrected(planned):
    engine, code = planned
    with session_scope(engine) as s:
        a = new_sample(s, code)
        b = new_sample(s, code, sample_type="parallel", parallel_of=a.code)
        ra = results.add_result(s, code, cd(a.code, "0.020"), actor="t")
        rb = results.add_result(s, code, cd(b.code, "0.200"), actor="t")
        assert results.result_records(s, code, result_ids=[ra.id])[0].qc_flags == ["rpd_exceeded"]
        fixed = results.correct_result(
            s, code, rb.id, cd(b.code, "0.021"), reason="transcription: 0.200 for 0.021", actor="t"
        )
        views = {v.id: v for v in results.result_records(s, code)}
        assert views[ra.id].qc_flags == [] and views[fixed.id].qc_flags == []
        # the flag rows are still there (append-only), only no longer apply
        assert len(s.exec(select(QcFlag)).all()) == 2


def test_field_blank_above_detection_flags_the_batch(planned):
    engine, code = planned
    with session_scope(engine) as s:
        a = new_sample(s, code, point="S2")
        b = new_sample(s, code, point="S3")
        other_round = new_sample(s, code, point="S2", rnd=2)
        ra = results.add_result(s, code, cd(a.code, "0.020"), actor="t")
        rx = results.add_result(s, code, cd(other_round.code, "0.020"), actor="t")
        blank = new_sample(s, code, point="S2", sample_type="field_blank")
        rblank = results.add_result(s, code, cd(blank.code, "0.0008"), actor="t")
        rb = results.add_result(s, code, cd(b.code, "0.010"), actor="t")  # logged after the blank
        views = {v.id: v for v in results.result_records(s, code)}
        assert views[ra.id].qc_flags == ["blank_contaminated"]
        assert views[rb.id].qc_flags == ["blank_contaminated"]
        assert views[rblank.id].qc_flags == ["blank_contaminated"] and views[rblank.id].verdict == "blank"
        assert views[rx.id].qc_flags == []  # another round, another batch
        assert log.verify_chain(log.entries(s, log.incident_chain(code)))[0]


def test_clean_field_blank_flags_nothing(planned):
    engine, code = planned
    with session_scope(engine) as s:
        a = new_sample(s, code)
        ra = results.add_result(s, code, cd(a.code, "0.020"), actor="t")
        blank = new_sample(s, code, sample_type="field_blank")
        results.add_result(s, code, cd(blank.code, "<0.0001"), actor="t")
        assert results.result_records(s, code, result_ids=[ra.id])[0].qc_flags == []
        assert qc_summary(s, code)["blanks"][0]["ok"] is True


def test_custody_chain_and_refusals(planned):
    engine, code = planned
    t0 = utcnow() - timedelta(hours=3)
    with session_scope(engine) as s:
        smp = new_sample(s, code, at=t0)
        assert custody.holder(s, results.get_sample(s, smp.code))[0] == "Li Wei"
        steps = custody.hand_off(
            s, smp.code, from_person="Li Wei", to_person="Zhou Lan", actor="t", at=t0 + timedelta(minutes=30)
        )
        steps = custody.hand_off(
            s,
            smp.code,
            from_person="zhou  lan",
            to_person="Lab reception",
            actor="t",
            at=t0 + timedelta(hours=2),
            condition="temperature_exceeded",
            note="cooler at 12 °C",
        )
        assert [(x.from_person, x.to_person) for x in steps] == [
            ("Li Wei", "Zhou Lan"),
            ("zhou lan", "Lab reception"),
        ]
        assert steps[-1].condition == "temperature_exceeded"
        kinds = [e.kind for e in log.entries(s, log.incident_chain(code))]
        assert kinds.count("custody.transferred") == 2
    cases = [
        (dict(from_person="Li Wei", to_person="Mo Jun"), "--from", "does not hold"),
        (dict(from_person="Lab reception", to_person="Lab reception"), "--to", "someone else"),
        (dict(from_person="Lab reception", to_person="Analyst", at=t0), "--at", "before"),
        (
            dict(from_person="Lab reception", to_person="Analyst", condition="leaking"),
            "--note",
            "needs a note",
        ),
        (dict(from_person="Lab reception", to_person="Analyst", condition="wet"), "--condition", "unknown"),
        (dict(from_person="", to_person="Analyst"), "--from", "empty"),
    ]
    for kwargs, where, says in cases:
        with session_scope(engine) as s, pytest.raises(UserError) as err:
            custody.hand_off(s, smp.code, actor="t", **kwargs)
        assert err.value.where == where and says in err.value.problem, err.value.render()
    with session_scope(engine) as s:
        assert custody.holder(s, results.get_sample(s, smp.code))[0] == "Lab reception"


def test_parallel_pairs_with_the_primary_of_the_same_method_and_time(planned):
    """The primary has results by two methods; the parallel's ICP-MS result pairs with the ICP-MS one only."""
    engine, code = planned
    with session_scope(engine) as s:
        a = new_sample(s, code)
        b = new_sample(s, code, sample_type="parallel", parallel_of=a.code)
        rapid = ResultInput(
            sample=a.code, parameter="cadmium", value="0.080", detection_limit="0.005", method="gb7475_aas"
        )
        r_rapid = results.add_result(s, code, rapid, actor="t")
        r_lab = results.add_result(s, code, cd(a.code, "0.020"), actor="t")
        r_par = results.add_result(s, code, cd(b.code, "0.021"), actor="t")  # 4.9 % against the lab result
        views = {v.id: v for v in result_records(s, code)}
        summary = qc_summary(s, code)
    # against the AAS result (0.080) the RPD would be 117 %: it is never compared
    assert (
        views[r_par.id].qc_flags == [] and views[r_lab.id].qc_flags == [] and views[r_rapid.id].qc_flags == []
    )
    (pair,) = summary["parallels"]
    assert pair["method"].startswith("HJ 700-2014 ICP-MS") and pair["rpd_pct"] == pytest.approx(4.9, abs=0.05)


def test_parallel_partner_rule():
    t0 = utcnow()
    lab, lab_late, rapid = object(), object(), object()
    cands = [
        (rapid, "rapid tube", t0),
        (lab, "HJ700_ICPMS ", t0),
        (lab_late, "hj700_icpms", t0 + timedelta(hours=2)),
    ]
    assert qc.parallel_partner("hj700_icpms", t0 + timedelta(minutes=5), cands) is lab
    assert qc.parallel_partner("rapid tube", t0, cands) is rapid
    assert qc.parallel_partner("hj700_icpms", t0 + timedelta(hours=2, minutes=10), cands) is lab_late
    assert qc.parallel_partner("gc-ms", t0, cands) is None
    assert qc.parallel_partner("hj700_icpms", t0 + timedelta(hours=1), cands) is None  # neither within 30 min
