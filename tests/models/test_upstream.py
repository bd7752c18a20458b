"""The upstream extent of a slug against its closed form and against the concentration itself."""

from __future__ import annotations

import numpy as np
import pytest

from models.upstream import upstream_extent_m


def slug(x, t, mass_g, area, u, d, k=0.0):
    return mass_g / (area * np.sqrt(4 * np.pi * d * t)) * np.exp(-((x - u * t) ** 2) / (4 * d * t) - k * t)


def test_no_advection_matches_the_closed_form():
    """U = 0, k = 0: the farthest upstream edge is M / (A c √(2πe))."""
    mass, area, c, d = 1e3, 10.0, 0.01, 50.0
    expected = mass / (area * c * np.sqrt(2 * np.pi * np.e))
    assert upstream_extent_m(mass, area, 0.0, d, c, 1e6) == pytest.approx(expected, rel=1e-6)


def test_extent_is_where_the_concentration_peaks_at_the_threshold():
    """With advection: at the extent, the most C ever gets over time equals the threshold."""
    mass, area, u, d, c = 8e6, 442.0, 0.79, 300.0, 0.00017
    extent = float(upstream_extent_m(mass, area, u, d, c, 72 * 3600))
    t = np.geomspace(1, 72 * 3600, 200_000)
    assert slug(-extent, t, mass, area, u, d).max() == pytest.approx(c, rel=1e-3)
    assert (
        slug(-(extent + 20), t, mass, area, u, d).max() < c < slug(-(extent - 20), t, mass, area, u, d).max()
    )


def test_more_current_or_decay_or_less_mass_shrinks_it_and_vectorises():
    mass = np.array([8e6, 8e6, 8e5])
    velocity = np.array([0.5, 1.0, 0.5])
    e = upstream_extent_m(mass, 200.0, velocity, 50.0, 5e-4, 72 * 3600)
    assert e.shape == (3,) and e[1] < e[0] and e[2] < e[0]
    assert upstream_extent_m(8e6, 200.0, 0.5, 50.0, 5e-4, 72 * 3600, decay_per_s=1e-3) < e[0]
    assert upstream_extent_m(1e-9, 200.0, 0.5, 50.0, 5e-4, 3600) == 0.0  # never detectable
