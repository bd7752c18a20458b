"""A store with the demo river and three automatic stations on it, and replay feeds for them.

Stations (demo river, ~0.8 m/s): UP at M02 km 30 (upstream of the spill, stays quiet), A at M03
km 52 and B at M04 km 58 (about 2 h below A). The spill: M03 km 49, instantaneous, at a known time;
its pulse at A and B comes from the project's plume model, added to realistic noise feeds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from incident.stations import build_data_segment, frame

STATIONS = {"UP": ("M02", 30.0), "A": ("M03", 52.0), "B": ("M04", 58.0)}
PARAMETERS = {"ammonia_nitrogen": "w21003", "cod": "w01018"}
INTERVAL_MIN = 5
DAYS = 3.5
SPILL = ("M03", 49.0)


@pytest.fixture
def engine(tmp_path):
    from incident.core.store.engine import open_store

    eng = open_store(f"sqlite:///{tmp_path / 'stations.sqlite'}")
    yield eng
    eng.dispose()


@pytest.fixture
def network_id(engine):
    from incident.core.networks import import_network
    from incident.core.rivers import load_river_file
    from incident.core.store.engine import session_scope
    from incident.demo.seed import DEMO_RIVER

    with session_scope(engine) as s:
        return import_network(s, load_river_file(DEMO_RIVER)).id


@pytest.fixture
def stations(engine, network_id):
    from incident.core.store.engine import session_scope
    from incident.stations import add_station

    with session_scope(engine) as s:
        for mn, (reach, km) in STATIONS.items():
            add_station(
                s,
                f"ST{mn}",
                actor="test",
                name=f"station {mn}",
                river_network_id=network_id,
                reach_id=reach,
                km=km,
                parameters=list(PARAMETERS),
            )
    return [f"ST{mn}" for mn in STATIONS]


def feed_start() -> datetime:
    """A local midnight a few days before now (data may not be in the future)."""
    local_now = datetime.now(UTC) + timedelta(hours=8)
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=5)
    return (midnight - timedelta(hours=8)).replace(tzinfo=UTC)


def pulses(spill_at_h: float, times_h: np.ndarray) -> dict[str, np.ndarray]:
    """NH3-N from 2000 kg released at M03 km 49 at `spill_at_h`, at each station, in mg/L."""
    from incident.core.rivers import load_river_file
    from incident.demo.seed import DEMO_RIVER
    from incident.plume.forecast import ForecastPointSpec, ForecastRequest, Spill, run_forecast

    net = load_river_file(DEMO_RIVER)
    req = ForecastRequest(
        network=net,
        start=feed_start(),
        horizon_h=24,
        spills=[Spill(SPILL[0], net.offset_for_km(*SPILL), mass_kg=2000.0)],
        points=[ForecastPointSpec(mn, mn, r, net.offset_for_km(r, km)) for mn, (r, km) in STATIONS.items()],
    )
    fc = run_forecast(req)
    out = {}
    for i, p in enumerate(fc.points):
        out[p.label] = np.interp(times_h - spill_at_h, fc.times_h, fc.curves_mg_l[i], left=0.0, right=0.0)
    return out


def replay_lines(*, spill: bool, seed: int = 7) -> tuple[list[str], dict]:
    """2051 (minute-data) packets every 5 minutes for the three stations, with or without the spill."""
    from models.feeds import PROFILES, synthetic_feed

    rng = np.random.default_rng(seed)
    start = feed_start()
    series = {}
    for mn in STATIONS:
        for parameter in PARAMETERS:
            series[(mn, parameter)] = synthetic_feed(
                PROFILES[parameter], days=DAYS, interval_min=INTERVAL_MIN, rng=rng
            )
    t_h = series[("A", "cod")].t_h
    truth = {"spill_at": start + timedelta(hours=3 * 24 + 2)}
    if spill:
        conc = pulses(3 * 24 + 2.0, t_h)
        for mn in STATIONS:
            series[(mn, "ammonia_nitrogen")].value += conc[mn]
            series[(mn, "cod")].value += 12.0 * conc[mn]  # the spill carries COD too
        truth["pulse"] = conc
    lines = []
    for i, h in enumerate(t_h):
        at = start + timedelta(hours=float(h))
        for mn in STATIONS:
            values, flags = {}, {}
            for parameter, code in PARAMETERS.items():
                f = series[(mn, parameter)]
                v = f.value[i]
                values[code] = None if not np.isfinite(v) else float(v)
                flags[code] = str(f.flag[i])
            lines.append(
                frame(build_data_segment(mn=f"ST{mn}", cn="2051", data_time=at, values=values, flags=flags))
            )
    truth["t_h"] = t_h
    truth["start"] = start
    return lines, truth
