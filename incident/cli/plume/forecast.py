"""`incident forecast SCENARIO.toml | CODE`: plume arrival, peak and exceedance at every point."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from incident.cli.shell import Progress, add_json, as_json, engine_from, number, settings_from, table, whole


def register(sub) -> None:
    p = sub.add_parser(
        "forecast",
        help="forecast the plume: from a scenario file (.toml) or for an incident code",
        description="Runs the 1D advection–dispersion model (with transient storage, tributaries and "
        "decay) and prints, for every receptor and point: leading edge, peak, trailing edge, the "
        "window above the standard, and the Jobson (1996) empirical cross-check.",
    )
    p.add_argument(
        "target", help="a scenario file (docs/formats/scenario.md) or an incident code such as INC-2026-0001"
    )
    p.add_argument(
        "--horizon",
        type=number(),
        help="hours to forecast (default: the scenario's, or until the plume has passed every point, up to 30 days)",
    )
    p.add_argument("--csv", metavar="FILE", help="write breakthrough curves (time_h + one column per point)")
    p.add_argument(
        "--profile-at",
        type=number(),
        metavar="HOURS",
        help="also write the longitudinal profile at this time (hours after release) to --profile-csv",
    )
    p.add_argument(
        "--profile-csv", metavar="FILE", help="where --profile-at writes (reach, km, mg/L per cell)"
    )
    p.add_argument(
        "--log",
        action="store_true",
        help="kept for old scripts: a forecast for an incident is always stored and its hash logged",
    )
    p.add_argument(
        "--ensemble",
        type=whole(),
        metavar="N",
        help="also run N members of the fast model with uncertain velocity, dispersion, mass and release "
        "time, and print P10/P50/P90 bands (1000 is a good choice; takes about a second)",
    )
    p.add_argument(
        "--seed",
        type=whole(),
        default=0,
        help="random seed for --ensemble (same seed, same bands; default 0)",
    )
    add_json(p)
    p.set_defaults(handler=cmd_forecast)


def cmd_forecast(args) -> int:
    import incident.plume as fsvc
    import incident.plume as usvc

    progress = Progress("forecast")
    ensemble = None
    code = None  # an incident's forecast is stored; a scenario file's is not
    if args.ensemble is not None:
        usvc.check_members(args.ensemble)
    if args.target.endswith(".toml") or Path(args.target).is_file():
        req = fsvc.load_scenario(args.target)
        if args.horizon is not None:
            req.horizon_h = args.horizon
        fc = fsvc.run_forecast(req, progress)
        title = req.name
        network = req.network
    else:
        from incident.core.store.engine import session_scope

        with session_scope(engine_from(args)) as s:
            # the latest accepted calibration (incident calibrate) replaces the reported spill
            req, _ = usvc.request_with_calibration(
                s, args.target, horizon_h=args.horizon or fsvc.DEFAULT_HORIZON_H
            )
            fc = usvc.forecast_incident(
                s, args.target, horizon_h=args.horizon or fsvc.DEFAULT_HORIZON_H, progress=progress
            )
        title = code = args.target
        network = req.network
    if args.ensemble is not None:
        ensemble, setup = usvc.run_request_ensemble(req, n_members=args.ensemble, seed=args.seed)
        usvc.apply_bands(fc, ensemble, setup)
    stored = None
    if code is not None:
        from incident.core.store.engine import session_scope

        # every forecast made for an incident is stored once (with its bands) and its hash logged
        with session_scope(engine_from(args)) as s:
            stored = usvc.store_forecast(
                s,
                code,
                fc,
                actor=settings_from(args).user,
                bands=usvc.band_rows(fc, ensemble) if ensemble is not None else (),
            )
    progress.done()
    if args.csv:
        from incident.core.files import atomic_writer

        with atomic_writer(args.csv, newline="", what="forecast CSV") as fh:
            writer = csv.writer(fh)
            writer.writerow(["time_h"] + [p.label for p in fc.points])
            for k, t in enumerate(fc.times_h):
                writer.writerow([f"{t:.4f}"] + [f"{fc.curves_mg_l[i, k]:.6g}" for i in range(len(fc.points))])
    if args.profile_at is not None:
        if not args.profile_csv:
            from incident.core.errors import UserError

            raise UserError("errors.cli.profile_needs_profile_csv", where="--profile-csv")
        profile = fsvc.profile_rows(fc, network, args.profile_at)
        from incident.core.files import atomic_writer

        with atomic_writer(args.profile_csv, newline="", what="profile CSV") as fh:
            profile_writer = csv.DictWriter(fh, fieldnames=["time_h", "reach", "km", "conc_mg_l"])
            profile_writer.writeheader()
            profile_writer.writerows(profile)
    rows = [forecast_row(p) for p in fc.points]
    if args.json:
        as_json(
            {
                "name": title,
                "release_start": fc.release_start,
                "horizon_h": fc.horizon_h,
                "substance": fc.substance,
                "standard_mg_l": fc.standard_mg_l,
                "detection_mg_l": fc.detection_mg_l,
                "method": fc.method,
                "grid": fc.grid,
                "mass_balance": fc.mass_balance,
                "warnings": fc.warnings,
                "dispersion_spread": fc.dispersion_spread,
                "points": rows,
            }
            | (
                {
                    "stored": {
                        "id": stored.id,
                        "content_sha256": stored.content_sha256,
                        "made_at": stored.made_at,
                        "made_by": stored.made_by,
                    }
                }
                if stored is not None
                else {}
            )
            | (
                {
                    "ensemble": {
                        "members": ensemble.n_members,
                        "seed": ensemble.seed,
                        "distributions": usvc.DISTRIBUTIONS_TEXT,
                        "bands": usvc.band_rows(fc, ensemble),
                    }
                }
                if ensemble is not None
                else {}
            )
        )
        return 0
    print(f"{title}: {fc.method}")
    if stored is not None:
        print(f"stored as {stored.citation}")
    std = f"standard {fc.standard_mg_l:g} mg/L, " if fc.standard_mg_l else ""
    print(f"{std}detection threshold {fc.detection_mg_l:g} mg/L; times are hours after the release start\n")
    table(
        rows,
        [
            "point",
            "km",
            "from_source_km",
            "arrival_h",
            "peak_h",
            "peak_mg_l",
            "trailing_h",
            "exceed_from_h",
            "exceed_to_h",
            "max_multiple",
            "jobson_arrival_h",
            "jobson_peak_h",
        ],
        [
            "point",
            "km",
            "dist km",
            "arrive h",
            "peak h",
            "peak mg/L",
            "tail h",
            "exceed h",
            "until h",
            "× over",
            "Jobson arr",
            "Jobson pk",
        ],
    )
    if ensemble is not None:
        print(
            f"\nuncertainty: {ensemble.n_members} members (seed {ensemble.seed}) of the fast model; "
            "P10 / P50 / P90 — plan sampling on the early (P10) arrival"
        )
        table(
            usvc.band_rows(fc, ensemble),
            [
                "point",
                "arrival_p10_h",
                "arrival_p50_h",
                "arrival_p90_h",
                "peak_p10_mg_l",
                "peak_p50_mg_l",
                "peak_p90_mg_l",
                "exceed_hours_p50",
                "p_exceeds",
            ],
            ["point", "arr P10", "arr P50", "arr P90", "pk P10", "pk P50", "pk P90", "exc h P50", "P(exc)"],
        )
        print("(a blank arrival: that share of members does not reach the point within the horizon)")
    mb = fc.mass_balance
    print(
        f"\nmass balance: released {mb['released_kg']:.4g} kg, exported {mb['exported_kg']:.4g} kg, decayed "
        f"{mb['decayed_kg']:.4g} kg, in channel {mb['in_channel_kg']:.4g} kg, in storage {mb['in_storage_kg']:.4g} kg; "
        f"relative error {mb['relative_error']:.1e}"
    )
    for b in mb.get("boundaries", []):
        print(f"  {b['kind']} {b['reach']}: in {b['in_kg']:.4g} kg, out {b['out_kg']:.4g} kg")
    print(
        f"grid: dx {fc.grid['dx_m']:.4g} m, dt {fc.grid['dt_s']:.4g} s, {fc.grid['cells']} cells, max cell Péclet "
        f"{fc.grid['max_peclet']:.2f}, max Courant {fc.grid['max_courant']:.2f}"
    )
    if "error_estimate" in fc.grid:
        print(f"estimated numerical error: {fc.grid['error_estimate']['summary']}")
    print(f"horizon: {fc.horizon_h:.1f} h")
    for w in fc.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.csv:
        print(f"breakthrough curves written to {args.csv}")
    return 0


def _r(value, digits=2):
    return None if value is None else round(value, digits)


def forecast_row(p) -> dict:
    return {
        "point": p.label,
        "name": p.name,
        "kind": p.kind,
        "reach": p.reach_id,
        "km": _r(p.km, 2),
        "from_source_km": None
        if p.distance_from_source_m != p.distance_from_source_m
        else _r(p.distance_from_source_m / 1000, 2),
        "arrival_h": _r(p.leading_edge_h),
        "peak_h": _r(p.peak_h),
        "peak_mg_l": None if p.peak_mg_l is None else float(f"{p.peak_mg_l:.4g}"),
        "trailing_h": _r(p.trailing_edge_h),
        "exceed_from_h": _r(p.exceed_start_h),
        "exceed_to_h": _r(p.exceed_end_h),
        "max_multiple": _r(p.max_exceedance_multiple, 1),
        "jobson_arrival_h": _r(p.jobson_leading_h),
        "jobson_peak_h": _r(p.jobson_peak_h),
    }
