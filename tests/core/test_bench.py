"""The issue-19 bench runs in CI (`--quick`) and prints every figure; its timings are never asserted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))


@pytest.mark.slow
def test_quick_bench_completes_and_prints_every_figure(tmp_path):
    from bench_scale import FIGURES

    env = dict(os.environ, INCIDENT_HOME=str(tmp_path / "home"))
    res = subprocess.run(
        [sys.executable, "-m", "incident", "bench", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    for name in FIGURES:
        hits = [line for line in lines if line.startswith(name)]
        assert len(hits) == 1, f"figure {name!r} not printed once:\n{res.stdout}"
        assert "goal ≤" in hits[0]
    assert lines[-1].startswith("bench done in")
