"""Branched networks: confluence mixing and mass conservation, and the network guard."""

import dataclasses

import numpy as np
import pytest

from models.network import ReachSpec, network_order, validate_network
from models.transport import InletSeries, OutputPoint, Release, simulate

MAIN_Q, TRIB_Q = 30.0, 10.0


def confluence(order=(0, 1, 2)) -> tuple[list[ReachSpec], dict[str, int]]:
    """Main stem (2 reaches) + tributary joining at the top of the lower main reach; list order varies."""
    specs = {
        "upper": ReachSpec("upper main", 3000.0, None, MAIN_Q, 30.0, 20.0),
        "trib": ReachSpec("tributary", 2000.0, None, TRIB_Q, 8.0, 10.0),
        "lower": ReachSpec("lower main", 6000.0, None, MAIN_Q + TRIB_Q, 40.0, 25.0),
    }
    names = ["upper", "trib", "lower"]
    placed = [names[i] for i in order]
    index = {name: placed.index(name) for name in names}
    reaches = []
    for name in placed:
        down = None if name == "lower" else index["lower"]
        reaches.append(dataclasses.replace(specs[name], downstream=down))
    return reaches, index


def test_steady_tributary_load_dilutes_by_flow_ratio():
    reaches, idx = confluence()
    inlet = InletSeries(idx["trib"], np.array([0.0, 1.0]), np.array([4.0, 4.0]))
    run = simulate(reaches, inlets=[inlet], outputs=[OutputPoint(idx["lower"], 4000.0)], horizon_s=20000.0)
    assert run.point_conc_mg_l[0, -1] == pytest.approx(4.0 * TRIB_Q / (MAIN_Q + TRIB_Q), rel=1e-3)
    assert abs(run.mass_balance.relative_error) < 1e-9


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
def test_tributary_slug_conserves_mass_through_the_confluence(order):
    reaches, idx = confluence(order)
    release = Release(idx["trib"], 500.0, mass_kg=12.0)
    run = simulate(
        reaches,
        [release],
        outputs=[OutputPoint(idx["lower"], 2500.0), OutputPoint(idx["upper"], 2500.0)],
        horizon_s=6000.0,
    )
    balance = run.mass_balance
    assert abs(balance.relative_error) < 1e-9
    assert balance.in_channel_kg + balance.exported_kg + balance.boundary_inflow_kg * -1 == pytest.approx(
        12.0, rel=1e-9
    )
    passed = (MAIN_Q + TRIB_Q) * np.trapezoid(run.point_conc_mg_l[0], run.times_s) / 1000.0
    assert passed == pytest.approx(12.0, rel=1e-3)
    assert np.max(run.point_conc_mg_l[1]) < 1e-6  # nothing goes up the main stem


def test_results_do_not_depend_on_list_order():
    runs = []
    for order in [(0, 1, 2), (2, 1, 0)]:
        reaches, idx = confluence(order)
        runs.append(
            simulate(
                reaches,
                [Release(idx["trib"], 500.0, mass_kg=12.0), Release(idx["upper"], 100.0, mass_kg=5.0)],
                outputs=[OutputPoint(idx["lower"], 2500.0)],
                horizon_s=6000.0,
            )
        )
    assert np.allclose(runs[0].point_conc_mg_l, runs[1].point_conc_mg_l, rtol=1e-9, atol=1e-12)


def test_flow_mismatch_at_a_confluence_is_clean_water_and_keeps_mass():
    reaches, idx = confluence()
    reaches[idx["lower"]] = dataclasses.replace(reaches[idx["lower"]], discharge_m3s=50.0)  # 10 m³/s ungauged
    inlet = InletSeries(idx["trib"], np.array([0.0]), np.array([4.0]))
    run = simulate(reaches, inlets=[inlet], outputs=[OutputPoint(idx["lower"], 4000.0)], horizon_s=20000.0)
    assert run.point_conc_mg_l[0, -1] == pytest.approx(4.0 * TRIB_Q / 50.0, rel=1e-3)
    assert abs(run.mass_balance.relative_error) < 1e-9


def test_network_order_puts_main_tributary_last():
    reaches, idx = confluence()
    order = network_order(reaches)
    assert order[-1] == idx["lower"] and order[-2] == idx["upper"]  # the larger inflow is adjacent


def _reach(**changes) -> ReachSpec:
    return dataclasses.replace(ReachSpec("a", 100.0, None, 1.0, 1.0, 1.0), **changes)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"length_m": 0.0}, ["reach 0", "'a'", "length_m", "> 0"]),
        ({"discharge_m3s": -1.0}, ["discharge_m3s", "> 0"]),
        ({"area_m2": 0.0}, ["area_m2", "cross-section"]),
        ({"dispersion_m2s": -0.1}, ["dispersion_m2s", "≥ 0"]),
        ({"length_m": float("nan")}, ["length_m", "finite"]),
        ({"exchange_rate_per_s": 1e-4}, ["storage_area_m2", "exchange_rate_per_s"]),
        ({"lateral_inflow_m2s": -0.1}, ["lateral outflow"]),
    ],
)
def test_validation_names_the_reach_and_the_fix(changes, words):
    with pytest.raises(ValueError) as err:
        validate_network([_reach(**changes)])
    for word in words:
        assert word in str(err.value)


def test_validation_of_topology():
    with pytest.raises(ValueError, match="2 outlets"):
        validate_network([_reach(), _reach(name="b")])
    with pytest.raises(ValueError, match="no outlet"):
        validate_network([_reach(downstream=1), _reach(name="b", downstream=0)])
    with pytest.raises(ValueError, match="loops back"):
        validate_network([_reach(downstream=1), _reach(name="b", downstream=0), _reach(name="c")])
    with pytest.raises(ValueError, match=r"reach 0 \('a'\): downstream = 5 is not a reach index"):
        validate_network([_reach(downstream=5), _reach(name="b")])
    with pytest.raises(ValueError, match="itself"):
        validate_network([_reach(downstream=0), _reach(name="b")])
    with pytest.raises(ValueError, match="no reaches"):
        validate_network([])
