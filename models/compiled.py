"""scipy's compiled routines that a forecast needs, reached without importing `scipy.linalg` or `scipy.special`.

A forecast needs six compiled routines from scipy:

* LAPACK ``dpttrf``/``dpttrs`` (symmetric positive definite tridiagonal) and ``dgttrf``/``dgttrs``
  (general tridiagonal), the Crank–Nicolson step's solves (`models.window`). They live in the
  extension module ``scipy.linalg._flapack``.
* ``erfc`` and ``erfcx``, the fast model's slug integral (`models.fastplume`), which sizes the
  horizon of every forecast run "until the plume has passed". They live in the extension module
  ``scipy.special._special_ufuncs``.

Both extension modules need numpy and nothing else. Reaching them through their packages costs
~0.15 s of start-up on 2 cores: `scipy.linalg` and `scipy.special` import scipy's array-API layer,
which walks numpy's whole namespace and so imports ``numpy.f2py``, ``numpy.testing`` and
``numpy.ma`` (scipy 1.15–1.17). That is close to a third of the `incident forecast` command's 0.5 s
budget (issue 19), for a solve that takes 40 ms. So each extension module is loaded straight from
scipy's folder with importlib's own extension loader (found with ``find_spec``, which runs none of
scipy's Python).

If a module is not where scipy keeps it, or does not load (another scipy, or a platform where scipy's
``__init__`` must first set up its DLL folder), the routines come from `scipy.linalg.lapack` and
`scipy.special` as usual: the same routines, only slower to import. ``tests/models/test_compiled.py``
checks that both ways give the same bits, and that the forecast command imports neither package.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType

__all__ = ["dgttrf", "dgttrs", "dpttrf", "dpttrs", "erfc", "erfcx", "load", "sources"]

#: (extension module, the public module that re-exports it, the routines taken from it)
_PARTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "lapack": ("scipy.linalg._flapack", "scipy.linalg.lapack", ("dpttrf", "dpttrs", "dgttrf", "dgttrs")),
    "special": ("scipy.special._special_ufuncs", "scipy.special", ("erfc", "erfcx")),
}


def _direct(module: str) -> ModuleType | None:
    """The extension module ``module`` (``scipy.<package>.<name>``), loaded without running any of
    scipy's packages; None if it cannot be."""
    try:
        if module in sys.modules:  # scipy has loaded it already
            return sys.modules[module]
        spec = importlib.util.find_spec("scipy")
        if spec is None or not spec.submodule_search_locations:
            return None
        _, package, name = module.split(".")
        folder = os.path.join(next(iter(spec.submodule_search_locations)), package)
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, name + suffix)
            if os.path.isfile(path):
                loader = importlib.machinery.ExtensionFileLoader(module, path)
                ext_spec = importlib.util.spec_from_file_location(module, path, loader=loader)
                if ext_spec is None:
                    return None
                loaded = importlib.util.module_from_spec(ext_spec)
                loader.exec_module(loaded)
                return loaded
    except (ImportError, OSError):
        return None
    return None


def load(part: str, direct: bool = True) -> tuple[ModuleType, str]:
    """The module holding ``part``'s routines ("lapack" or "special"), and where it came from:
    "direct" (the extension module itself) or the name of the public scipy module."""
    module, public, names = _PARTS[part]
    found = _direct(module) if direct else None
    if found is not None and all(hasattr(found, n) for n in names):
        return found, "direct"
    return importlib.import_module(public), public


_lapack, _lapack_source = load("lapack")
_special, _special_source = load("special")
#: where each part's routines came from, for the tests and the bench
sources = {"lapack": _lapack_source, "special": _special_source}

dpttrf = _lapack.dpttrf
dpttrs = _lapack.dpttrs
dgttrf = _lapack.dgttrf
dgttrs = _lapack.dgttrs
erfc = _special.erfc
erfcx = _special.erfcx
