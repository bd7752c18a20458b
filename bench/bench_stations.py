"""Automatic stations: false alarms, detection delay, listener latency, a station's day from 9.5M rows.

    .venv/bin/python bench/bench_stations.py [--far-stations 18] [--far-days 90] [--rounds 5] [--big-rows 9460800]

Figures printed beside their goals (issue 20):
- false alarms on noise-only feeds (every parameter profile of models/feeds.py, 5-minute and 1-minute
  data, with drift, spikes, gaps, maintenance and calibration steps): goal ≤ 1 per station per month;
- detection delay (readings from a pulse's start to the alarm) for pulses of 5, 10 and 20 σ;
- listener: 100 stations each sending one packet per round over TCP loopback, packet → stored
  latency: goal ≤ 1 s; baseline: the same rows written by a bare executemany in the same run;
- a station's day (1440 readings) from a store of 18 stations × a year of minute data (≈ 9.5M
  rows, built once in a temp dir with executemany): goal ≤ 50 ms; baseline: the same query forced
  to scan the table (NOT INDEXED).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DIRECTIONS = {"dissolved_oxygen": -1, "ph": 0, "water_temperature": 0}


def false_alarms(n_stations: int, days: float, interval_min: float) -> tuple[float, int, float]:
    from models.detect import DetectorSettings, detect
    from models.feeds import PROFILES, synthetic_feed

    events = 0
    t0 = time.perf_counter()
    for station in range(n_stations):
        rng = np.random.default_rng(1000 + station)
        for name, spec in PROFILES.items():
            feed = synthetic_feed(spec, days=days, interval_min=interval_min, rng=rng)
            det = detect(
                feed.t_h,
                feed.clean(),
                DetectorSettings(direction=DIRECTIONS.get(name, 1)),
                breaks=feed.breaks,
            )
            events += len(det.events)
    per_month = events / n_stations / (days / 30.0)
    return per_month, events, time.perf_counter() - t0


def delays(n_trials: int = 40) -> dict[float, list[int]]:
    from models.detect import detect
    from models.feeds import PROFILES, synthetic_feed

    spec = PROFILES["ammonia_nitrogen"]
    out: dict[float, list[int]] = {5.0: [], 10.0: [], 20.0: []}
    rng = np.random.default_rng(7)
    for trial in range(n_trials):
        feed = synthetic_feed(spec, days=4, interval_min=5, rng=rng)
        at = int((3 * 24 + rng.uniform(0, 20)) / (5 / 60))
        for size, found in out.items():
            x = feed.clean().copy()
            ramp = np.minimum(np.arange(24) + 1, 3) / 3.0  # rises over 3 readings, then holds 2 h
            x[at : at + 24] += size * spec.noise_sd * ramp
            det = detect(feed.t_h, x, breaks=feed.breaks)
            hits = [e.alarm - at for e in det.events if e.alarm >= at]
            found.append(hits[0] if hits else 999)
        del trial
    return out


async def _listener_rounds(engine, n_stations: int, rounds: int) -> list[float]:
    from sqlmodel import Session, func, select

    from incident.core.store.tables import StationReading
    from incident.stations import build_data_segment, frame, listener

    lst = listener(engine, actor="bench", detect=False)
    port = await lst.start()
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(n_stations)]
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    samples: list[tuple[float, int]] = []  # (time, rows stored) polled every 5 ms
    done = asyncio.Event()

    async def poll() -> None:
        while not done.is_set():
            with Session(engine) as s:
                samples.append(
                    (time.perf_counter(), s.exec(select(func.count()).select_from(StationReading)).one())
                )
            await asyncio.sleep(0.005)

    poller = asyncio.create_task(poll())
    sent: list[float] = []
    for r in range(rounds):
        at = start + timedelta(minutes=r)
        for i, (_, writer) in enumerate(conns):
            seg = build_data_segment(
                mn=f"B{i:03d}", cn="2051", data_time=at, values={"w21003": 0.3, "w01018": 14.0}
            )
            writer.write(frame(seg).encode())
            await writer.drain()
            sent.append(time.perf_counter())
            await asyncio.sleep(0.6 / n_stations)  # spread over 0.6 s: 100× the real rate of 1 per minute
    while not samples or samples[-1][1] < 2 * len(sent):
        await asyncio.sleep(0.01)
    done.set()
    await poller
    # the j-th packet sent is stored once the store holds 2(j+1) rows (two parameters a packet)
    latencies = []
    k = 0
    for j, t_sent in enumerate(sent):
        while samples[k][1] < 2 * (j + 1):
            k += 1
        latencies.append(samples[k][0] - t_sent)
    for _, writer in conns:
        writer.close()
    await lst.stop()
    return latencies


def listener_latency(rounds: int, n_stations: int = 100) -> tuple[list[float], float]:
    from incident.core.store.engine import open_store, session_scope
    from incident.stations import add_station
    from incident.stations._store import insert_readings

    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(f"sqlite:///{tmp}/listen.sqlite")
        with session_scope(engine) as s:
            for i in range(n_stations):
                add_station(s, f"B{i:03d}", actor="bench", parameters=["ammonia_nitrogen", "cod"])
        lat = asyncio.run(_listener_rounds(engine, n_stations, rounds))
        # baseline: the same number of rows per round written by a bare executemany + commit
        now = datetime.now(UTC)
        rows = [
            {
                "station_id": 1 + i % n_stations,
                "at": now + timedelta(minutes=1 + i // n_stations),
                "parameter": "x",
                "interval": "minute",
                "value": 0.3,
                "flag": "N",
                "received_at": now,
            }
            for i in range(2 * n_stations)
        ]
        t0 = time.perf_counter()
        with session_scope(engine) as s:
            insert_readings(s, rows)
        base = time.perf_counter() - t0
        engine.dispose()
    return lat, base


def big_store(n_rows: int) -> tuple[float, float, float, int]:
    """Build 18 stations × minute rows (n_rows in all), then time one station's day (indexed vs scan)."""
    from incident.core.store.engine import open_store, session_scope
    from incident.stations import add_station, station_day

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.sqlite"
        engine = open_store(f"sqlite:///{path}")
        with session_scope(engine) as s:
            for i in range(18):
                add_station(s, f"Y{i:02d}", actor="bench", parameters=["ammonia_nitrogen"])
        engine.dispose()
        per_station = n_rows // 18
        t0 = time.perf_counter()
        con = sqlite3.connect(path)
        con.execute("PRAGMA synchronous=OFF")
        start = datetime(2025, 1, 1, tzinfo=UTC)
        chunk = 20_000
        rng = np.random.default_rng(1)
        for lo in range(0, per_station, chunk):
            minutes = range(lo, min(per_station, lo + chunk))
            stamps = [(start + timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M:%S.000000") for m in minutes]
            values = (0.3 + 0.02 * rng.standard_normal(len(stamps) * 18)).tolist()
            con.executemany(
                "INSERT INTO stationreading (station_id, at, parameter, interval, value, flag, received_at) "
                "VALUES (?, ?, 'ammonia_nitrogen', 'minute', ?, 'N', ?)",
                (
                    (sid + 1, stamp, values[k * 18 + sid], stamp)
                    for k, stamp in enumerate(stamps)
                    for sid in range(18)
                ),
            )
            con.commit()
        build = time.perf_counter() - t0
        total = con.execute("SELECT count(*) FROM stationreading").fetchone()[0]
        con.close()
        engine = open_store(f"sqlite:///{path}")
        day0 = start + timedelta(days=200)
        times = []
        for k in range(20):
            t1 = time.perf_counter()
            with session_scope(engine) as s:
                rows = station_day(s, f"Y{k % 18:02d}", day0 + timedelta(days=k))
            times.append(time.perf_counter() - t1)
            assert len(rows) == 1440, len(rows)
        engine.dispose()
        con = sqlite3.connect(path)
        stamp = day0.strftime("%Y-%m-%d %H:%M:%S.000000")
        end = (day0 + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S.000000")
        t1 = time.perf_counter()
        n = len(
            con.execute(
                "SELECT * FROM stationreading NOT INDEXED WHERE station_id = 3 AND at >= ? AND at < ?",
                (stamp, end),
            ).fetchall()
        )
        scan = time.perf_counter() - t1
        con.close()
        assert n == 1440
    return build, statistics.median(times), scan, total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--far-stations", type=int, default=18)
    ap.add_argument("--far-days", type=float, default=90)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--big-rows", type=int, default=18 * 525_600)
    ap.add_argument("--skip", nargs="*", default=[], choices=["far", "delay", "listener", "big"])
    a = ap.parse_args()
    if "far" not in a.skip:
        rate, events, secs = false_alarms(a.far_stations, a.far_days, 5)
        print(
            f"false alarms, 5-min data : {rate:.2f} per station-month ({events} in {a.far_stations} stations × "
            f"{a.far_days:g} days × 8 parameters)   goal ≤ 1   ({secs:.0f} s)"
        )
        days1 = max(7.0, a.far_days / 3)
        rate, events, secs = false_alarms(max(2, a.far_stations // 3), days1, 1)
        print(
            f"false alarms, 1-min data : {rate:.2f} per station-month ({events} in {max(2, a.far_stations // 3)} "
            f"stations × {days1:g} days × 8 parameters)   goal ≤ 1   ({secs:.0f} s)"
        )
    if "delay" not in a.skip:
        for size, found in delays().items():
            missed = sum(d == 999 for d in found)
            hit = [d for d in found if d != 999]
            print(
                f"detection delay, {size:>4g} σ pulse: median {statistics.median(hit) if hit else float('nan'):.0f} "
                f"reading(s) after its start, max {max(hit) if hit else float('nan')}, missed {missed}/{len(found)}"
            )
    if "listener" not in a.skip:
        lat, base = listener_latency(a.rounds)
        lat_sorted = sorted(lat)
        p50 = lat_sorted[len(lat) // 2]
        p99 = lat_sorted[int(len(lat) * 0.99) - 1]
        print(
            f"listener, 100 stations: packet → stored p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"max {max(lat) * 1000:.0f} ms   goal ≤ 1000 ms   (ratio max/goal {max(lat):.2f}; "
            f"baseline bare executemany of one round: {base * 1000:.0f} ms)"
        )
    if "big" not in a.skip:
        build, day, scan, total = big_store(a.big_rows)
        print(
            f"station day from {total / 1e6:.2f}M rows: {day * 1000:.1f} ms (median of 20)   goal ≤ 50 ms   "
            f"(ratio {day / 0.05:.2f}; baseline full scan {scan * 1000:.0f} ms; store built in {build:.0f} s)"
        )


if __name__ == "__main__":
    main()
