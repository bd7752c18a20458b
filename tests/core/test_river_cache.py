"""River geometry is cached by content hash, and a plain forecast imports only what it needs (issue 19).

The cache must never change an answer: a network measured from the cache equals
the one measured from scratch, and both agree with geopy's geodesic (the
reference the chainage was first written against) to 1e-9.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from geopy.distance import geodesic

from incident.core import rivers
from incident.demo.seed import DEMO_RIVER

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "incident" / "data" / "examples" / "jade_river_spill.toml"


def _geometry(net: rivers.RiverNetworkData) -> list:
    return [(r.reach_id, r.length_m, r.km_start, r.to_outlet_m, list(r.vertex_m)) for r in net.reaches] + [
        (rc.receptor_id, rc.reach_id, rc.offset_m, rc.km, rc.distance_off_m) for rc in net.receptors
    ]


def test_geodesic_matches_geopy_to_1e9():
    for a, b in [
        ((24.3, 109.0), (24.2, 109.0)),
        ((24.68539, 109.32543), (24.7, 109.4)),
        ((0, 0), (0.1, 0.1)),
    ]:
        assert rivers.geodesic_m(*a, *b) == pytest.approx(geodesic(a, b).meters, rel=1e-9)


def test_geodesic_refuses_what_geopy_refused():
    with pytest.raises(ValueError):
        rivers.geodesic_m(91.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        rivers.geodesic_m(float("inf"), 0.0, 0.0, 0.0)


def test_second_parse_reads_the_cache_and_gives_the_same_network(monkeypatch):
    text = Path(DEMO_RIVER).read_text(encoding="utf-8")
    rivers._PAIRS.clear()
    first = rivers.parse_river(text, source="demo")
    cached = list((rivers.geometry_cache_dir() / "rivers").glob(f"{first.sha256}.*.json"))
    assert len(cached) == 1
    rows = json.loads(cached[0].read_text())
    assert len(rows) > 100  # every vertex step, every snap

    # a fresh process: nothing memoised; every distance must come from the file
    rivers._PAIRS.clear()
    calls = []

    def no_geodesic(*args):
        calls.append(args)
        raise AssertionError("a cached river computed a geodesic")

    import geographiclib.geodesic as gg

    monkeypatch.setattr(gg.Geodesic, "Inverse", no_geodesic)
    second = rivers.parse_river(text, source="demo")
    assert calls == []
    assert _geometry(second) == _geometry(first)


def test_a_damaged_cache_is_measured_again():
    text = Path(DEMO_RIVER).read_text(encoding="utf-8")
    rivers._PAIRS.clear()
    first = rivers.parse_river(text, source="demo")
    (path,) = (rivers.geometry_cache_dir() / "rivers").glob(f"{first.sha256}.*.json")
    path.write_text("[[1, 2")  # truncated
    rivers._PAIRS.clear()
    again = rivers.parse_river(text, source="demo")
    assert _geometry(again) == _geometry(first)
    assert len(json.loads(path.read_text())) > 100  # rewritten whole


def test_load_river_file_parses_a_file_once():
    a = rivers.load_river_file(DEMO_RIVER)
    b = rivers.load_river_file(DEMO_RIVER)
    assert a is b


def test_a_plain_forecast_loads_no_optimiser_and_no_geopy(tmp_path):
    code = (
        "import sys\n"
        "from incident.cli import main\n"
        f"rc = main(['forecast', {str(SCENARIO)!r}])\n"
        "assert rc == 0\n"
        "print('MODULES', ' '.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    loaded = set(out.split("MODULES", 1)[1].split())
    for heavy in ("scipy.optimize", "geopy", "sqlalchemy", "textual", "dask", "pandas"):
        assert heavy not in loaded, f"{heavy} is imported by a plain forecast"
