"""A results store of any size, built fast, for the scale bench (issue 19).

The incident, its plan (50 points) and its rounds go in through the project's
own services; samples and results go in with one ``executemany`` each on a raw
sqlite3 connection in one transaction (a million results in a few seconds).
The rows are what ``add_result`` would store: same columns, same units, a
realistic mix of detections, non-detects, rapid positives, field blanks and
parallels. They are not hash-chained (the bench measures reads and the cost of
the next write, not ``incident verify``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

PARAMETERS = (
    "cadmium",
    "lead",
    "copper",
    "zinc",
    "arsenic",
    "mercury",
    "chromium_vi",
    "ammonia_nitrogen",
    "cod",
    "nitrobenzene",
)
LAB_METHOD = ("ICP-MS (HJ 700-2014)", "icp_ms")
RAPID_METHOD = ("test strip", "colorimetric")


SAMPLE_COLUMNS = [
    "id", "code", "incident_id", "point_id", "round_id", "sampled_at", "sampler", "checker",
    "sample_type", "parallel_of", "created_at", "parameters",
]  # fmt: skip
RESULT_COLUMNS = [
    "id", "sample_id", "incident_id", "parameter", "method", "method_kind", "principle",
    "instrument_id", "instrument_desc", "kind", "detected", "value", "value_high", "unit",
    "detection_limit", "value_mg_l", "detection_limit_mg_l", "status", "qc_flag", "entered_at",
    "entered_by", "corrects_id", "correction_reason", "log_seq",
]  # fmt: skip


@dataclass
class Store:
    url: str
    path: str
    code: str
    incident_id: int
    points: list[str]
    point_ids: dict[str, int]
    round_ids: dict[int, int]
    alert_at: datetime
    n_results: int = 0
    n_samples: int = 0
    next_round: int = 1
    sample_codes: list[str] = field(default_factory=list)


def _ts(dt: datetime) -> str:
    """How SQLAlchemy's DateTime keeps an aware UTC time in SQLite."""
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _insert_sql(table_name: str, given: list[str]) -> tuple[str, tuple]:
    """INSERT for ``given`` columns plus every other column at its model default (a column a
    later migration adds does not break the bench); returns (sql, the constant tail of each row)."""
    from sqlmodel import SQLModel

    import incident.core.store.tables  # noqa: F401  (registers the tables)

    table = SQLModel.metadata.tables[table_name]
    rest, tail = [], []
    for c in table.columns:
        if c.name in given:
            continue
        default = c.default.arg if c.default is not None and c.default.is_scalar else None
        if default is None and c.nullable:
            continue
        rest.append(c.name)
        tail.append(default)
    names = given + rest
    return f"INSERT INTO {table_name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", tuple(
        tail
    )


def new_store(path: str, *, n_points: int = 50, days: int = 20) -> Store:
    """An empty store with one incident, a plan of ``n_points`` points and no rounds yet."""
    from incident.core.clock import utcnow
    from incident.core.incidents import NewIncident, create_incident
    from incident.core.store.engine import open_store, session_scope
    from incident.core.store.tables import PlanRevision, SamplingPoint

    url = f"sqlite:///{path}"
    engine = open_store(url)
    alert = utcnow() - timedelta(days=days)
    with session_scope(engine) as s:
        inc = create_incident(
            s,
            NewIncident(title="scale bench", alert_at=alert, substance="cadmium", medium="water"),
            actor="bench",
        )
        rev = PlanRevision(
            incident_id=inc.id, revision=1, created_at=alert, created_by="bench", reason="bench plan"
        )
        s.add(rev)
        s.flush()
        ids = {}
        for i in range(n_points):
            pt = SamplingPoint(
                revision_id=rev.id,
                number=f"S{i + 1}",
                role="attenuation" if i else "upstream_control",
                reach_id="M01",
                km=float(i),
                lat=24.0 + i * 0.01,
                lon=109.0,
                distance_from_source_m=-500.0 + i * 1000.0,
            )
            s.add(pt)
            s.flush()
            ids[pt.number] = pt.id
        code, inc_id, rev_id = inc.code, inc.id, rev.id
    engine.dispose()
    store = Store(url, path, code, inc_id, list(ids), ids, {}, alert)
    store.revision_id = rev_id
    return store


def fill(store: Store, n_results: int, *, per_round_minutes: int = 5) -> None:
    """Add ``n_results`` results: rounds of one sample per point, every parameter on each sample.

    Each round adds ``len(points) × len(PARAMETERS)`` results (500 with 50 points); every
    tenth round has a field blank at S1 and a parallel at S2; one result in 20 is a rapid
    test-strip positive (suspected). No ANALYZE: the planner sees what a live store shows it.
    """
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN IMMEDIATE")
    (sample_id0,) = conn.execute("SELECT coalesce(max(id), 0) FROM sample").fetchone()
    (result_id0,) = conn.execute("SELECT coalesce(max(id), 0) FROM result").fetchone()
    samples: list[tuple] = []
    results: list[tuple] = []
    rounds: list[tuple] = []
    created = _ts(store.alert_at)
    sid, rid = sample_id0, result_id0
    added = 0
    while added < n_results:
        rnd = store.next_round
        store.next_round += 1
        (round_id0,) = conn.execute("SELECT coalesce(max(id), 0) FROM samplinground").fetchone()
        round_id = round_id0 + 1
        when = store.alert_at + timedelta(minutes=per_round_minutes * rnd)
        sql, tail = _insert_sql("samplinground", ["id", "incident_id", "revision_id", "number", "planned_at"])
        conn.execute(sql, (round_id, store.incident_id, store.revision_id, rnd, _ts(when)) + tail)
        rounds.append((rnd, round_id))
        store.round_ids[rnd] = round_id
        specials = [("field_blank", "B", "S1"), ("parallel", "P", "S2")] if rnd % 10 == 0 else []
        kinds = [("normal", "", p) for p in store.points] + specials
        normal_at: dict[str, int] = {}
        for stype, suffix, point in kinds:
            if added >= n_results:
                break
            sid += 1
            code = f"{store.code}-{point}-R{rnd}-01{suffix}"
            parallel_of = normal_at.get(point) if stype == "parallel" else None
            if stype == "normal":
                normal_at[point] = sid
            samples.append(
                (
                    sid,
                    code,
                    store.incident_id,
                    store.point_ids[point],
                    round_id,
                    _ts(when),
                    "bench",
                    "",
                    stype,
                    parallel_of,
                    created,
                    ",".join(PARAMETERS),
                )
            )
            store.sample_codes.append(code)
            k = int(point[1:])
            for j, param in enumerate(PARAMETERS):
                if added >= n_results:
                    break
                rid += 1
                added += 1
                blank = stype == "field_blank"
                detected = not blank and (k + j + rnd) % 7 != 0
                value = round(0.001 * (1 + (k * 13 + j * 7 + rnd) % 40), 6) if detected else None
                rapid = not blank and (k + j + rnd) % 20 == 0 and detected
                method, principle = RAPID_METHOD if rapid else LAB_METHOD
                results.append(
                    (
                        rid,
                        sid,
                        store.incident_id,
                        param,
                        method,
                        "rapid" if rapid else "lab",
                        principle,
                        None,
                        "",
                        "quantitative",
                        detected,
                        value,
                        None,
                        "mg/L",
                        0.0005,
                        value,
                        0.0005,
                        "suspected" if rapid else "final",
                        None,
                        _ts(when + timedelta(hours=2)),
                        "bench",
                        None,
                        None,
                        None,
                    )
                )
    sql, tail = _insert_sql("sample", SAMPLE_COLUMNS)
    conn.executemany(sql, (row + tail for row in samples))
    sql, tail = _insert_sql("result", RESULT_COLUMNS)
    conn.executemany(sql, (row + tail for row in results))
    conn.execute("COMMIT")
    # a live store's WAL is checkpointed as it grows; left at hundreds of MB, the next commit (every
    # session commits) would copy it into the database, and the reads timed next would pay for it
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    store.n_results += added
    store.n_samples += len(samples)
