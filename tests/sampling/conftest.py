"""Fixtures for the sampling tests: the demo incident's river, source and a checkable forecast."""

from __future__ import annotations

import pytest

from incident.core.clock import as_utc
from incident.core.incidents import get_incident
from incident.core.store.engine import session_scope
from incident.sampling.layout import forecast_requests
from incident.sampling.plans import incident_river
from tests.sampling.plume import slug_forecast


@pytest.fixture
def demo_river(demo_engine, demo_code):
    """(network, (source reach, source offset m), release start) of the demo incident."""
    with session_scope(demo_engine) as s:
        inc = get_incident(s, demo_code)
        net, reach, offset = incident_river(s, inc)
        return net, (reach, offset), as_utc(inc.release_start)


@pytest.fixture
def make_forecast(demo_river):
    net, src, release = demo_river

    def build(**kwargs):
        return slug_forecast(net, src, forecast_requests(net, *src), release=release, **kwargs)

    return build


@pytest.fixture
def demo_forecast(make_forecast):
    return make_forecast()
