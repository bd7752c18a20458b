"""The bulk import (issue 19) stores exactly what ``result add`` stores, row by row.

One store is copied twice. Into the first, the rows go one by one through
``add_result`` (and ``create_sample`` for a row that names a point and a time, as
the importer did before); into the second, the same rows as one lab CSV through
``import_results``, which queues them in :class:`incident.results._bulk.BulkWriter`.
The clock is frozen and the same person signs, so the two stores must agree
column for column: every result (ids, QC flags, log_seq), every QC flag, every
plausibility hold, and every log entry of the incident's chain (seq, summary,
payload with the row digests, hash chain and signature). The import adds one entry
at the end, "results.imported".

The rows cover every QC finding against rows already stored and rows earlier in
the same file: contaminated field blanks (the blank before and after the results
it flags), parallel pairs over their RPD limit and mismatched, a rapid positive,
non-detects, results of the incident's substance (which take the row-by-row path,
interleaved with queued rows) and a new sample made from a row's point and time
in the middle of the file.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
from datetime import timedelta

from sqlmodel import col, select

from incident.core import log
from incident.core.clock import frozen, utcnow
from incident.core.incidents import get_incident
from incident.core.signing import acting_as
from incident.core.store.engine import open_store, session_scope
from incident.core.store.tables import LogEntry, QcFlag, Result, ResultHold
from incident.results import import_results
from incident.results.entry import NewSample, ResultInput, add_result, create_sample
from tests.identities import register

COLUMNS = ["sample", "point", "round", "sampled_at", "sampler", "parameter", "value", "unit"]
COLUMNS += ["detection_limit", "detected", "method", "method_kind", "instrument"]


def _setup(engine, code):
    """Samples of rounds 1 and 2 (normal, field blank, parallel) and a few results already stored."""
    people = register(engine, {"Lena Lead": ["team_lead"], "Ann Author": ["responder"]})
    ann = people["Ann Author"]
    codes: dict[str, str] = {}
    with acting_as(ann), session_scope(engine) as s:
        inc = get_incident(s, code)
        t0 = inc.alert_at + timedelta(hours=1)

        def sample(name, point, rnd, minutes, stype="normal", parallel_of=None):
            info = create_sample(
                s,
                code,
                NewSample(
                    point=point,
                    round=rnd,
                    sampled_at=t0 + timedelta(minutes=minutes),
                    sampler="Ann",
                    sample_type=stype,
                    parallel_of=codes.get(parallel_of) if parallel_of else None,
                ),
                actor="Ann",
            )
            codes[name] = info.code

        for rnd, base in ((1, 0), (2, 180)):
            for point in ("S1", "S2", "S3", "S4"):
                sample(f"{point}r{rnd}", point, rnd, base + 10)
            sample(f"B3r{rnd}", "S3", rnd, base + 12, "field_blank")
            sample(f"P3r{rnd}", "S3", rnd, base + 11, "parallel", parallel_of=f"S3r{rnd}")
        # already stored: a round-2 result the file's blank will flag, a parallel partner
        for name, param, value in (("S2r2", "copper", "0.02"), ("S3r1", "zinc", "0.50")):
            add_result(
                s,
                code,
                ResultInput(
                    sample=codes[name],
                    parameter=param,
                    value=value,
                    detection_limit="0.001",
                    method="hj700_icpms",
                ),
                actor="Ann",
            )
    return ann, codes


def _rows(codes, inc_alert):
    """The lab file's rows, as CSV cells."""
    lab = {"unit": "mg/L", "detection_limit": "0.001", "method": "hj700_icpms", "method_kind": "lab"}
    at = (inc_alert + timedelta(hours=8)).astimezone().strftime("%Y-%m-%d %H:%M")
    rows = [
        {"sample": codes["S3r1"], "parameter": "copper", "value": "0.010"},
        {"sample": codes["P3r1"], "parameter": "copper", "value": "0.020"},  # RPD 66 % > 20 %
        {"sample": codes["P3r1"], "parameter": "zinc", "value": "<0.001"},  # mismatch with 0.50 stored
        {"sample": codes["S1r1"], "parameter": "copper", "value": "0.004"},
        {"sample": codes["B3r1"], "parameter": "copper", "value": "0.003"},  # blank detects: flags round 1
        {"sample": codes["S4r1"], "parameter": "copper", "value": "0.005"},  # after the blank: flagged too
        {"sample": codes["B3r1"], "parameter": "lead", "value": "ND"},
        {"sample": codes["S3r1"], "parameter": "lead", "value": "0.002"},
        {"sample": codes["S3r1"], "parameter": "nitrobenzene", "value": "0.004"},  # substance: row by row
        {"sample": codes["S1r1"], "parameter": "nitrobenzene", "value": "0.900"},  # held: above background
        {"sample": codes["S2r1"], "parameter": "nitrobenzene", "value": "<0.001"},
        {"sample": codes["S2r1"], "parameter": "lead", "value": "0.003"},
        {
            "sample": "",
            "point": "S2",
            "sampled_at": at,
            "sampler": "Lab",
            "parameter": "copper",
            "value": "0.007",
        },
        {
            "sample": "",
            "point": "S2",
            "sampled_at": at,
            "sampler": "Lab",
            "parameter": "zinc",
            "value": "0.011",
        },
        {"sample": codes["S3r2"], "parameter": "copper", "value": "0.006"},
        {"sample": codes["B3r2"], "parameter": "copper", "value": "0.004"},  # flags the stored S2r2 copper
        {"sample": codes["P3r2"], "parameter": "copper", "value": "0.0061"},  # within RPD
        {
            "sample": codes["S4r2"],
            "parameter": "arsenic",
            "value": "0.012",
            "method": "test_strip",
            "method_kind": "rapid",
            "instrument": "INS-HM-01",
        },  # fmt: skip
        {"sample": codes["S4r2"], "parameter": "nitrobenzene", "value": "0.003"},
        {"sample": codes["S1r2"], "parameter": "zinc", "value": "0.030"},
    ]
    return [{c: {**lab, **r}.get(c, "") for c in COLUMNS} for r in rows]


def _snapshot(engine, code):
    with session_scope(engine) as s:
        inc = get_incident(s, code)

        def table(model):
            return [
                r.model_dump()
                for r in s.exec(select(model).where(model.incident_id == inc.id).order_by(col(model.id)))
            ]

        entries = [
            e.model_dump(exclude={"id"})
            for e in s.exec(
                select(LogEntry).where(LogEntry.chain == log.incident_chain(code)).order_by(col(LogEntry.seq))
            )
        ]
        ok, message = log.verify_chain(log.entries(s, log.incident_chain(code)))
        return table(Result), table(QcFlag), table(ResultHold), entries, (ok, message)


def test_the_bulk_import_stores_the_same_rows_flags_and_log_as_result_add(planned, tmp_path, monkeypatch):
    from incident.results import _bulk

    engine, code = planned
    one_by_one: list[str] = []  # rows the bulk writer sent through the row-by-row path
    real_store = _bulk._store

    def counting_store(session, inc, row, checked, **kw):
        one_by_one.append(row.parameter)
        return real_store(session, inc, row, checked, **kw)

    monkeypatch.setattr(_bulk, "_store", counting_store)
    ann, codes = _setup(engine, code)
    with session_scope(engine) as s:
        alert = get_incident(s, code).alert_at
    path = engine.url.database
    engine.dispose()
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(path, tmp_path / "one_by_one.sqlite")
    shutil.copy(path, tmp_path / "bulk.sqlite")
    one = open_store(f"sqlite:///{tmp_path / 'one_by_one.sqlite'}")
    bulk = open_store(f"sqlite:///{tmp_path / 'bulk.sqlite'}")
    rows = _rows(codes, alert)
    lab = tmp_path / "lab.csv"
    with open(lab, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    now = utcnow()
    try:
        # before issue 19: every row through add_result, a new sample through create_sample
        with frozen(now), acting_as(ann), session_scope(one) as s:
            made: dict[tuple, str] = {}
            from incident.results.importer import _parse_time

            for r in rows:
                sample = r["sample"]
                if not sample:
                    when = _parse_time(r["sampled_at"], "t")
                    key = (r["point"], when)
                    if key not in made:
                        made[key] = create_sample(
                            s,
                            code,
                            NewSample(point=r["point"], sampled_at=when, sampler=r["sampler"]),
                            actor="Ann",
                        ).code
                    sample = made[key]
                add_result(
                    s,
                    code,
                    ResultInput(
                        sample=sample,
                        parameter=r["parameter"],
                        value=r["value"],
                        unit=r["unit"],
                        detection_limit=r["detection_limit"],
                        method=r["method"],
                        rapid=r["method_kind"] == "rapid",
                        instrument=r["instrument"],
                    ),
                    actor="Ann",
                )
        with frozen(now), acting_as(ann), session_scope(bulk) as s:
            report = import_results(s, code, lab, actor="Ann")
        assert report.results == len(rows) and report.samples_created == 1
        assert one_by_one == ["nitrobenzene"] * 3  # the detected substance rows only; the rest queued
        results_a, flags_a, holds_a, log_a, verified_a = _snapshot(one, code)
        results_b, flags_b, holds_b, log_b, verified_b = _snapshot(bulk, code)
    finally:
        one.dispose()
        bulk.dispose()
    # the file did exercise every path: flags of each kind, on stored and on new rows, and a hold
    kinds = {f["kind"] for f in flags_a}
    assert kinds >= {"blank_contaminated", "rpd_exceeded", "parallel_mismatch"}, kinds
    assert any(f["result_id"] < results_a[-len(rows)]["id"] for f in flags_a)  # a row stored before
    assert holds_a and holds_a[-1]["kind"] == "upstream_above_background"
    assert results_b == results_a
    assert flags_b == flags_a
    assert holds_b == holds_a
    assert log_b[:-1] == log_a
    assert log_b[-1]["kind"] == "results.imported"
    written = [e for e in log_b if e["kind"] in ("result.logged", "qc.flagged", "result.flagged")]
    assert len(written) == 2 + len(rows) + len(flags_a) + len(holds_a)
    assert all(e["signature"] and e["signer"] == "Ann Author" for e in written)
    assert verified_a[0] and verified_b[0], (verified_a, verified_b)
