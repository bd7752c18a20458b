"""Unknown source: tracing a full-solver synthetic spill back to its reach."""

from __future__ import annotations

import numpy as np
import pytest

from models.calibrate import Observation
from models.trace import trace_source
from models.transport import Release
from tests.plume.conftest import network, noisy_samples, truth_curves

# m1 station (upstream of the source), tributary station, and three stations below the confluence
STATIONS = [(0, 10000.0), (4, 8000.0), (2, 6000.0), (3, 5000.0), (3, 20000.0)]


def observations(source, start, mass, seed):
    times, curves = truth_curves(
        network(), Release(*source, start_s=start, mass_kg=mass), STATIONS, horizon_s=48 * 3600.0
    )
    rng = np.random.default_rng(seed)
    obs = noisy_samples(
        times, curves, rng, per_point=6, points=[j for j in range(5) if curves[j].max() > 0.01]
    )
    # automatic stations report hourly; stations the plume never passes report non-detects
    for j in range(5):
        if curves[j].max() <= 0.01:
            obs += [Observation(3600.0 * h, j, 0.0, 0.002, censored=True) for h in range(40)]
    return obs


@pytest.mark.parametrize(
    "source, start",
    [((1, 10000.0), 5 * 3600.0), ((4, 4000.0), 3 * 3600.0), ((0, 13000.0), 8 * 3600.0)],
    ids=["main stem m2", "tributary", "m1 below its station"],
)
def test_true_reach_ranks_first(source, start):
    obs = observations(source, start, 3000.0, seed=11)
    result = trace_source(network(), STATIONS, obs)
    best = result.candidates[0]
    assert best.reach == source[0]
    assert next(iter(result.reach_weights)) == source[0]
    assert abs(best.offset_m - source[1]) <= 2000.0
    assert abs(best.start_s - start) <= 3600.0
    assert best.mass_kg == pytest.approx(3000.0, rel=0.25)
    assert [c.reach for c in result.best_per_reach()][0] == source[0]


def test_detections_on_two_branches_are_refused():
    obs = [Observation(3600.0, 0, 0.5, 0.002), Observation(3600.0, 1, 0.5, 0.002)]
    with pytest.raises(ValueError, match="upstream of every detecting station"):
        trace_source(network(), STATIONS, obs)


def test_non_detects_alone_are_refused():
    with pytest.raises(ValueError, match="no detections"):
        trace_source(network(), STATIONS, [Observation(3600.0, 0, 0.0, 0.002, censored=True)])
