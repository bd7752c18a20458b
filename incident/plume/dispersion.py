"""Longitudinal dispersion estimates for rivers given as numbers or a CSV (the default, its band, any
named formula): what `incident dispersion` prints and writes."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from incident.core.errors import UserError

REQUIRED = ("width_m", "depth_m", "velocity_m_s", "shear_velocity_m_s")


def estimate_one(
    width_m: float, depth_m: float, velocity_m_s: float, shear_velocity_m_s: float, *, where: str = ""
) -> dict[str, Any]:
    """K by the default (Disley 2015) with its band, and every named formula, for one river (m²/s)."""
    import numpy as np

    from models import dispersion as dm

    values = {
        "width_m": width_m,
        "depth_m": depth_m,
        "velocity_m_s": velocity_m_s,
        "shear_velocity_m_s": shear_velocity_m_s,
    }
    for name, value in values.items():
        if value is None or not math.isfinite(value) or value <= 0:
            raise UserError("dispersion.not_positive", where=f"{where}{name}", name=name, value=repr(value))
    with np.errstate(over="ignore", invalid="ignore"):  # extreme inputs overflow: refused below
        k = float(dm.estimate(width_m, depth_m, velocity_m_s, shear_velocity_m_s))
        low, high = dm.band(k)
        formulas = {
            name: float(dm.estimate(width_m, depth_m, velocity_m_s, shear_velocity_m_s, method=name))
            for name in dm.FORMULAS
        }
    for value in (k, float(low), float(high), *formulas.values()):
        if not math.isfinite(value):
            raise UserError(
                "dispersion.not_finite", where=where.rstrip(", ") or "dispersion", value=f"{value:g}"
            )
    return {
        "kx_m2s": k,
        "kx_low_m2s": float(low),
        "kx_high_m2s": float(high),
        "method": dm.DEFAULT_METHOD,
        "formulas_m2s": formulas,
    }


def estimate_csv(path: str | Path) -> tuple[list[str], list[dict[str, Any]]]:
    """Read a CSV with REQUIRED columns (optional slope, sinuosity are carried through) and return the header
    and every row with kx_m2s, kx_low_m2s, kx_high_m2s added."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError("dispersion.unreadable", where=str(path), path=str(path), error=exc.strerror) from exc
    reader = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    header = list(reader.fieldnames or [])
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise UserError(
            "dispersion.missing_columns",
            where=f"{path}: header",
            columns=", ".join(missing),
            required=", ".join(REQUIRED),
        )
    rows = []
    for i, row in enumerate(reader, start=2):
        numbers = {}
        for c in REQUIRED:
            try:
                numbers[c] = float(row[c])
            except (TypeError, ValueError):
                raise UserError(
                    "dispersion.not_a_number", where=f"{path}, line {i}, {c}", column=c, value=repr(row[c])
                ) from None
        est = estimate_one(**numbers, where=f"{path}, line {i}, ")
        rows.append(
            {
                **row,
                "kx_m2s": f"{est['kx_m2s']:.4g}",
                "kx_low_m2s": f"{est['kx_low_m2s']:.4g}",
                "kx_high_m2s": f"{est['kx_high_m2s']:.4g}",
            }
        )
    return header + [c for c in ("kx_m2s", "kx_low_m2s", "kx_high_m2s") if c not in header], rows
