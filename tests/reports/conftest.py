"""Fixtures: a realistic incident (plan, 2 rounds, exceedance, non-detect, suspected rapid result)."""

from __future__ import annotations

import pytest

from tests.reports.demo_records import AS_OF, build_incident


@pytest.fixture
def records(demo_engine):
    """(engine, Demo) for a real incident with records."""
    return demo_engine, build_incident(demo_engine)


@pytest.fixture
def exercise_records(demo_engine):
    return demo_engine, build_incident(demo_engine, exercise=True)


@pytest.fixture
def as_of():
    from incident.core.clock import frozen

    with frozen(AS_OF):
        yield AS_OF
