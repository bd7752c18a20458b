"""Transient storage on the Uvas Creek case (Bencala & Walters 1983)."""

import pytest

from models.examples import UVAS_BACKGROUND_MG_L, UVAS_HORIZON_S, uvas_creek
from models.metrics import breakthrough_metrics
from models.transport import simulate


@pytest.fixture(scope="module")
def runs():
    out = {}
    for storage in (True, False):
        reaches, inlets, outputs = uvas_creek(storage=storage)
        out[storage] = simulate(
            reaches,
            inlets=inlets,
            outputs=outputs,
            horizon_s=UVAS_HORIZON_S,
            background_mg_l=UVAS_BACKGROUND_MG_L,
        )
    return out


def test_uvas_scenario_shape():
    reaches, inlets, outputs = uvas_creek()
    assert [r.length_m for r in reaches] == [38.0, 67.0, 176.0, 152.0, 236.0]
    assert reaches[-1].downstream is None and reaches[0].discharge_m3s == 0.0125
    assert reaches[3].discharge_m3s == pytest.approx(0.0125 + 4.545e-6 * 176.0)
    distances = [sum(r.length_m for r in reaches[: p.reach]) + p.offset_m for p in outputs]
    assert distances == [38.0, 105.0, 281.0, 433.0, 619.0]
    assert inlets[0].conc_mg_l.max() == 1.73


def test_storage_attenuates_peaks_and_lengthens_tails(runs):
    with_storage, without = runs[True], runs[False]
    for i in (2, 3, 4):  # reaches with exchange
        wet = breakthrough_metrics(
            with_storage.times_s, with_storage.point_conc_mg_l[i], detection_mg_l=0.05, background_mg_l=0.13
        )
        dry = breakthrough_metrics(
            without.times_s, without.point_conc_mg_l[i], detection_mg_l=0.05, background_mg_l=0.13
        )
        assert wet.peak_mg_l < dry.peak_mg_l - 0.15
        # at 619 m the storage-fed tail is still above 0.05 mg/L excess at 24 h (trailing edge None)
        assert wet.trailing_edge_s is None or wet.trailing_edge_s > dry.trailing_edge_s + 1800.0
        assert dry.trailing_edge_s is not None
    # the storage zone fills and then drains back
    storage_conc = with_storage.storage_point_conc_mg_l[4]
    assert storage_conc.max() > 0.2 and storage_conc[-1] > UVAS_BACKGROUND_MG_L + 0.03


def test_uvas_mass_balance_and_plateau(runs):
    for run in runs.values():
        assert abs(run.mass_balance.relative_error) < 1e-9
        assert run.point_conc_mg_l.min() > UVAS_BACKGROUND_MG_L - 1e-3  # no undershoot below background
    # the 3-hour injection reaches its plateau at the first site
    first = runs[True].point_conc_mg_l[0]
    assert first.max() == pytest.approx(1.73, abs=5e-3)
    assert runs[True].mass_balance.in_storage_kg > 0
    # tracer mass in at the top: Q·(1.73 − 0.13)·3 h above background
    extra_kg = 0.0125 * (1.73 - 0.13) * 3 * 3600 / 1000
    assert runs[True].mass_balance.boundary_inflow_kg == pytest.approx(
        0.0125 * 0.13 * UVAS_HORIZON_S / 1000 + extra_kg, rel=1e-3
    )
