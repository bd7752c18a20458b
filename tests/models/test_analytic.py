import numpy as np
import pytest
from scipy.integrate import quad

from models.analytic import finite_pulse, ogata_banks, slug, slug_peak_time


def test_ogata_banks_reference_value():
    assert ogata_banks(1.0, 1.4, 1.0, 1.0, 0.1) == pytest.approx(0.8385, abs=1e-4)


def test_ogata_banks_limits_and_broadcasting():
    x = np.array([0.0, 1e3, 1e5])
    conc = ogata_banks(x[:, None], np.array([0.0, 1e4])[None, :], 2.0, 1.0, 0.5)
    assert conc.shape == (3, 2)
    assert np.all(conc[:, 0] == 0.0)  # nothing before t = 0
    assert conc[0, 1] == pytest.approx(2.0)  # boundary value
    assert conc[2, 1] == pytest.approx(0.0, abs=1e-12)  # far ahead of the front
    assert np.all(np.isfinite(ogata_banks(1e4, 1e4, 1.0, 1.0, 1e-3, 1e-3)))  # no overflow


def test_ogata_banks_decay_tends_to_steady_exponential():
    u, d, k, x = 1.0, 0.5, 1e-2, 50.0
    gamma = np.sqrt(u * u + 4 * k * d)
    steady = np.exp(x * (u - gamma) / (2 * d))
    assert ogata_banks(x, 1e5, 1.0, u, d, k) == pytest.approx(steady, rel=1e-9)


def test_finite_pulse_is_superposition_and_carries_its_mass():
    u, d, tau, c0 = 0.5, 2.0, 600.0, 3.0
    t = np.linspace(1.0, 2e4, 200)
    pulse = finite_pulse(1500.0, t, c0, tau, u, d)
    assert np.allclose(pulse, ogata_banks(1500.0, t, c0, u, d) - ogata_banks(1500.0, t - tau, c0, u, d))
    # flux-weighted mass far downstream ≈ c0·τ (per unit discharge)
    area, _ = quad(lambda s: finite_pulse(3000.0, s, c0, tau, u, d), 0, 3e4, limit=200)
    assert area == pytest.approx(c0 * tau, rel=2e-3)


def test_slug_integrates_to_mass_and_peaks_where_predicted():
    mass_kg, area, u, d, k = 5.0, 8.0, 0.7, 3.0, 1e-5
    total, _ = quad(lambda x: slug(x, 3000.0, mass_kg, area, u, d, k), 0, 5000, points=[2100], limit=200)
    assert total * area / 1000.0 == pytest.approx(mass_kg * np.exp(-k * 3000.0), rel=1e-9)
    t_peak = slug_peak_time(2000.0, u, d, k)
    t = np.linspace(t_peak - 50, t_peak + 50, 100001)
    assert t[np.argmax(slug(2000.0, t, mass_kg, area, u, d, k))] == pytest.approx(t_peak, abs=2e-3)
    assert slug(10.0, 0.0, mass_kg, area, u, d) == 0.0
