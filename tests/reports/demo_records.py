"""A realistic incident for report tests, written straight into the store tables.

Nitrobenzene tanker spill at km 45 on the demo Jade River (limit 0.017 mg/L,
GB 3838-2002 Table 3). Plan revision 1 with an upstream control, a downstream
control, an attenuation section and the Xishan intake (W1); two sampled
rounds and a third planned. Round 1 holds a non-detect (S1), an exceedance
that was first mistyped and then corrected (S2: 5.8 → 0.58 mg/L, 33.1 times
over) and a suspected rapid-test positive (S3); round 2 a lab confirmation at
S3, a µg/L result at W1, a field blank and a parallel sample flagged by QC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from incident.core import log
from incident.core.clock import frozen
from incident.core.incidents import NewIncident, create_incident
from incident.core.networks import load_network
from incident.core.store.engine import session_scope
from incident.core.store.tables import (
    Assignment,
    CheckIn,
    Crew,
    CustodyTransfer,
    PlanRevision,
    QcFlag,
    Result,
    RiverNetwork,
    Sample,
    SamplingPoint,
    SamplingRound,
)

# 2026-07-14 08:30 local (UTC+8)
ALERT = datetime(2026, 7, 14, 0, 30, tzinfo=UTC)
RELEASE = ALERT - timedelta(minutes=10)
AS_OF = RELEASE + timedelta(hours=4)


@dataclass
class Demo:
    code: str
    n_log_entries: int


def build_incident(engine, *, exercise: bool = False, author: str = "tester") -> Demo:
    with frozen(ALERT + timedelta(minutes=5)), session_scope(engine) as s:
        net_row = s.exec(select(RiverNetwork)).first()
        assert net_row is not None, "the demo river must be loaded (use the demo_engine fixture)"
        inc = create_incident(
            s,
            NewIncident(
                title="Tanker crash on Qiaotou bridge: nitrobenzene into the Jade River",
                title_zh="桥头大桥槽罐车侧翻:硝基苯泄漏入玉带河",
                alert_at=ALERT,
                river_network_id=net_row.id,
                is_exercise=exercise,
                source_lat=24.68539,
                source_lon=109.32543,
                substance="nitrobenzene",
                pollutant_class="organic",
                mass_kg=8000,
                release_start=RELEASE,
                release_duration_h=0.5,
                description="A 20 t tanker overturned on the Qiaotou bridge; about 8 t lost over half an hour.",
            ),
            actor=author,
        )
        code = inc.code
        chain = log.incident_chain(code)
        net = load_network(s, net_row.id)

        def at(hours: float) -> datetime:
            return RELEASE + timedelta(hours=hours)

        rev = PlanRevision(
            incident_id=inc.id, revision=1, created_at=at(0.5), created_by=author, reason="initial plan"
        )
        s.add(rev)
        s.flush()
        log.append(
            s,
            chain=chain,
            actor=author,
            kind="plan.created",
            summary="Plan revision 1: 4 points",
            incident_id=inc.id,
            at=at(0.5),
        )
        points = {}
        for number, role, name, reach, km, receptor, arrival in (
            ("S1", "upstream_control", "Qiaotou upstream", "M03", 44.5, None, None),
            ("S2", "downstream_control", "Qiaotou downstream", "M03", 45.8, None, 0.3),
            ("S3", "attenuation", "Shawan", "M03", 47.0, None, 0.8),
            ("S4", "receptor", "Xishan Waterworks intake", "M04", 67.99, "W1", 6.0),
        ):
            offset = net.offset_for_km(reach, km)
            lat, lon = net.point_at(reach, offset)
            src_off = net.offset_for_km(inc.source_reach, inc.source_km)
            d = net.distance_downstream_m(inc.source_reach, src_off, reach, offset)
            if d is None:
                d = -(net.distance_downstream_m(reach, offset, inc.source_reach, src_off) or 0)
            p = SamplingPoint(
                revision_id=rev.id,
                number=number,
                role=role,
                name=name,
                reach_id=reach,
                km=km,
                lat=lat,
                lon=lon,
                distance_from_source_m=d,
                receptor_id=receptor,
                arrival_h=arrival,
                mandatory=receptor is not None,
            )
            s.add(p)
            s.flush()
            points[number] = p
        rounds = {}
        for n, hours, purpose, status in (
            (1, 1.0, "leading_edge", "sampled"),
            (2, 3.0, "peak", "sampled"),
            (3, 6.0, "tracking", "planned"),
        ):
            r = SamplingRound(
                incident_id=inc.id,
                revision_id=rev.id,
                number=n,
                planned_at=at(hours),
                purpose=purpose,
                status=status,
            )
            s.add(r)
            s.flush()
            rounds[n] = r

        crews = list(s.exec(select(Crew).order_by(Crew.id)))[:2]
        for i, crew in enumerate(crews):
            s.add(
                CheckIn(
                    incident_id=inc.id,
                    crew_id=crew.id,
                    at=at(0.6),
                    leader=f"Leader {i + 1}",
                    headcount=3,
                    home_unit="Emergency Monitoring Section",
                )
            )
            for number in ("S1", "S2") if i == 0 else ("S3", "S4"):
                s.add(
                    Assignment(
                        incident_id=inc.id,
                        crew_id=crew.id,
                        point_id=points[number].id,
                        round_id=rounds[1].id,
                        created_at=at(0.6),
                        created_by=author,
                        eta=at(0.9),
                        required_by=at(1.0),
                        slack_min=6,
                    )
                )
            log.append(
                s,
                chain=chain,
                actor=author,
                kind="crew.assigned",
                summary=f"{crew.name} assigned",
                incident_id=inc.id,
                at=at(0.6),
            )

        lab = dict(
            method="HJ 648-2013 GC",
            method_kind="lab",
            principle="gas chromatography",
            instrument_desc="Agilent 8860 GC, SN CN-2231, calibrated 2026-05-02",
        )
        rapid = dict(
            method="nitrobenzene test tube",
            method_kind="rapid",
            principle="colorimetry",
            instrument_desc="detector tubes lot 2406, expiry 2027-01",
        )
        seq = [0]

        def sample(number, rnd, hours, *, sample_type="normal", parallel_of=None, custody=True):
            seq[0] += 1
            sm = Sample(
                code=f"{code}-R{rnd}-{number or 'FB'}-{seq[0]:02d}",
                incident_id=inc.id,
                point_id=points[number].id if number else None,
                round_id=rounds[rnd].id,
                sampled_at=at(hours),
                sampler="Huang Min",
                checker="Li Wei",
                sample_type=sample_type,
                parallel_of=parallel_of,
                created_at=at(hours),
            )
            log.record(
                s,
                sm,
                chain=chain,
                actor="Huang Min",
                kind="sample.taken",
                summary=f"Sample {sm.code}",
                incident_id=inc.id,
                at=at(hours),
            )
            if custody:
                tr = CustodyTransfer(
                    sample_id=sm.id,
                    at=at(hours + 0.4),
                    from_person="Huang Min",
                    to_person="Zhou Lan",
                    condition="intact, 4 °C",
                )
                log.record(
                    s,
                    tr,
                    chain=chain,
                    actor="Huang Min",
                    kind="custody.transfer",
                    summary=f"{sm.code} to Zhou Lan",
                    incident_id=inc.id,
                    at=at(hours + 0.4),
                )
            return sm

        def result(
            sm,
            hours,
            *,
            value=None,
            unit="mg/L",
            factor=1.0,
            dl=0.0005,
            detected=True,
            status="final",
            qc_flag=None,
            corrects=None,
            how=lab,
            kind="quantitative",
        ):
            r = Result(
                sample_id=sm.id,
                incident_id=inc.id,
                parameter="nitrobenzene",
                kind=kind,
                detected=detected,
                value=value,
                unit=unit,
                detection_limit=dl,
                value_mg_l=None if value is None else value * factor,
                detection_limit_mg_l=dl,
                status=status,
                qc_flag=qc_flag,
                entered_at=at(hours),
                entered_by="Zhou Lan",
                corrects_id=corrects,
                correction_reason="typo" if corrects else None,
                **how,
            )
            log.record(
                s,
                r,
                chain=chain,
                actor="Zhou Lan",
                kind="result.logged",
                summary=f"{sm.code}: {value} {unit}",
                incident_id=inc.id,
                at=at(hours),
            )
            return r

        # round 1
        s1 = sample("S1", 1, 1.0)
        result(s1, 1.8, value=None, detected=False)
        s2 = sample("S2", 1, 1.05)
        wrong = result(s2, 1.8, value=5.8)
        result(s2, 1.9, value=0.58, corrects=wrong.id)
        s3 = sample("S3", 1, 1.1)
        result(s3, 1.2, value=0.2, dl=0.05, status="suspected", how=rapid)
        s4 = sample("S4", 1, 1.3)
        result(s4, 2.0, value=None, detected=False)
        # round 2
        s1b = sample("S1", 2, 3.0)
        result(s1b, 3.6, value=None, detected=False)
        s2b = sample("S2", 2, 3.05)
        result(s2b, 3.6, value=0.21)
        par = sample("S2", 2, 3.05, sample_type="parallel", parallel_of=s2b.id)
        par_result = result(par, 3.6, value=0.27, qc_flag="rpd_exceeded")
        log.record(
            s,
            QcFlag(
                incident_id=inc.id,
                result_id=par_result.id,
                kind="rpd_exceeded",
                detail="parallel RPD 25 % > 20 %",
                created_at=at(3.6),
                created_by="Zhou Lan",
            ),
            chain=chain,
            actor="Zhou Lan",
            kind="qc.flagged",
            summary="QC flag on the parallel sample: RPD 25 percent, limit 20",
            incident_id=inc.id,
            at=at(3.6),
        )
        blank = sample(None, 2, 3.05, sample_type="field_blank")
        result(blank, 3.6, value=None, detected=False)
        s3b = sample("S3", 2, 3.1)
        result(s3b, 3.7, value=0.095, status="confirmed")
        s4b = sample("S4", 2, 3.3, custody=False)
        result(s4b, 3.8, value=4.0, unit="µg/L", factor=0.001, dl=0.5 / 1000)
        log.append(
            s,
            chain=chain,
            actor=author,
            kind="round.sampled",
            summary="Round 2 sampled at 4 points",
            incident_id=inc.id,
            at=at(3.3),
        )
        n = log.count(s, chain)
    return Demo(code, n)


def all_log_hashes(session: Session, code: str) -> list[str]:
    return [e.hash for e in log.entries(session, log.incident_chain(code))]
