"""`models.compiled` gives scipy's own routines, bit for bit, without importing their packages.

The forecast command's 0.5 s budget (issue 19) leaves no room for `scipy.linalg` and `scipy.special`,
which import scipy's array-API layer (~0.15 s). These tests hold the three things that make that safe:
the routines loaded directly are the very ones the packages export (same bits on hostile inputs), the
fallback through the packages works, and the forecast command really loads neither package.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg.lapack as public_lapack
import scipy.special as public_special

from models import compiled

ROOT = Path(__file__).resolve().parents[2]
DEMO_SCENARIO = ROOT / "incident" / "data" / "examples" / "jade_river_spill.toml"


def test_this_scipy_is_loaded_directly():
    # if this fails, scipy moved an extension module: update `_PARTS` in models/compiled.py, or the
    # forecast command pays ~0.15 s for the packages again (it still works: see the fallback test)
    assert compiled.sources == {"lapack": "direct", "special": "direct"}


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "through the package"])
def test_load_gives_the_packages_routines(direct):
    lapack, lapack_from = compiled.load("lapack", direct=direct)
    special, special_from = compiled.load("special", direct=direct)
    assert (lapack_from, special_from) == (
        ("direct", "direct") if direct else ("scipy.linalg.lapack", "scipy.special")
    )
    rng = np.random.default_rng(7)
    for m in (1, 2, 7, 300):
        d = rng.uniform(2.5, 4.0, m)
        e = rng.uniform(-1.0, 1.0, m - 1) if m > 1 else np.zeros(1)
        b = rng.normal(size=(m, 3))
        ours = lapack.dpttrs(*lapack.dpttrf(d, e)[:2], b)
        theirs = public_lapack.dpttrs(*public_lapack.dpttrf(d, e)[:2], b)
        assert ours[1] == theirs[1] == 0
        assert np.array_equal(ours[0], theirs[0])
        # and it is the solution: T·x = b
        x = ours[0]
        t_mat = np.diag(d) + (np.diag(e[: m - 1], 1) + np.diag(e[: m - 1], -1) if m > 1 else 0)
        assert np.allclose(t_mat @ x, b, rtol=1e-12, atol=1e-12)
        if m > 2:  # (scipy's dgttrf wrapper refuses n = 2 whichever way it is loaded)
            lo, hi = rng.uniform(-1.5, 1.5, m - 1), rng.uniform(-1.5, 1.5, m - 1)
            f_ours, f_theirs = lapack.dgttrf(lo, d, hi), public_lapack.dgttrf(lo, d, hi)
            assert all(np.array_equal(a, c) for a, c in zip(f_ours, f_theirs, strict=True))
            s_ours = lapack.dgttrs(*f_ours[:5], b)[0]
            assert np.array_equal(s_ours, public_lapack.dgttrs(*f_theirs[:5], b)[0])
    x = np.concatenate(
        [np.linspace(-30, 30, 2001), [0.0, -0.0, 1e-300, 26.5, 27.3, 1e6, np.inf, -np.inf, np.nan]]
    )
    for name in ("erfc", "erfcx"):
        assert np.array_equal(getattr(special, name)(x), getattr(public_special, name)(x), equal_nan=True)


def test_a_module_that_is_not_there_falls_back_to_the_package(monkeypatch):
    monkeypatch.setitem(
        compiled._PARTS, "special", ("scipy.special._no_such_module", "scipy.special", ("erfc",))
    )
    module, source = compiled.load("special")
    assert (module, source) == (public_special, "scipy.special")


def test_the_forecast_command_imports_neither_package_nor_numpy_ma():
    code = (
        "import json, sys\n"
        "from incident.cli import main\n"
        f"rc = main(['forecast', {str(DEMO_SCENARIO)!r}])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('scipy') or m.split('.')[:2] == ['numpy', 'ma'])\n"
        "print(json.dumps({'rc': rc, 'loaded': loaded}), file=sys.stderr)\n"
        # after the forecast, the packages still import, onto the same compiled modules
        "import scipy.linalg.lapack, scipy.special, numpy as np\n"
        "from models import compiled\n"
        "x = np.linspace(-5, 40, 91)\n"
        "assert np.array_equal(scipy.special.erfcx(x), compiled.erfcx(x))\n"
        "assert scipy.linalg.lapack.dpttrs is compiled.dpttrs\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stderr.strip().splitlines()[-1])
    assert report["rc"] == 0
    assert "W1" in run.stdout  # the forecast table was printed
    # what the command needed from scipy: the two extension modules, nothing of the packages; and
    # not numpy.ma, which np.unique imports (models.transport._unique_rows)
    assert report["loaded"] == ["scipy.linalg._flapack", "scipy.special._special_ufuncs"]


@pytest.mark.parametrize("shape", [(0, 2), (1, 2), (60, 2), (2000, 2), (1, 1), (500, 1)])
def test_unique_rows_is_np_unique(shape):
    from models.transport import _unique_rows

    a = np.random.default_rng(shape[0]).integers(-3, 9, size=shape)
    ours, numpys = _unique_rows(a), np.unique(a, axis=0)
    assert ours.dtype == numpys.dtype and np.array_equal(ours, numpys)
