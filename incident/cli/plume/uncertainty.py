"""`incident recalibrate CODE` and `incident trace FILE.csv --river FILE`.

Calibration fits the plume to the incident's own results and stores a *pending* calibration; a
responder accepts (`--accept ID`) or rejects (`--reject ID`) it, and both are logged. Forecasts of the
incident use the latest accepted calibration. Tracing ranks candidate source positions for detections
and non-detects at stations.
"""

from __future__ import annotations

import math
import sys

from incident.cli.shell import add_json, as_json, engine_from, number, settings_from, table, whole


def register(sub) -> None:
    c = sub.add_parser(
        "recalibrate",
        help="fit the plume to the incident's results (mass, release time, velocity, dispersion)",
        description="Fits mass, release start, velocity factor and dispersion factor to the incident's "
        "logged results (non-detects censored at their detection limit; QC-flagged, superseded and "
        "blank results left out), prints estimates with 95 % intervals, the fit per point and the "
        "forecast before and after, and stores the calibration as pending. Accept or reject it with "
        "--accept/--reject ID; forecasts then use the latest accepted calibration.",
    )
    c.add_argument("code", help="incident code, e.g. INC-2026-0001")
    group = c.add_mutually_exclusive_group()
    group.add_argument("--accept", type=whole(), metavar="ID", help="accept pending calibration ID")
    group.add_argument("--reject", type=whole(), metavar="ID", help="reject pending calibration ID")
    group.add_argument("--list", action="store_true", help="list the incident's calibrations")
    c.add_argument("--reason", default="", help="why (recorded with --accept/--reject)")
    c.add_argument(
        "--horizon", type=number(), default=72.0, help="hours for the before/after forecast (default 72)"
    )
    add_json(c)
    c.set_defaults(handler=cmd_calibrate)

    t = sub.add_parser(
        "trace",
        help="unknown source: rank likely spill reaches, km and times from station results (CSV)",
        description="Reads detections and non-detects at stations (CSV with station, time, value_mg_l, "
        "detection_limit_mg_l; reach and km for stations that are not receptors of the river file; "
        'value "ND" for not detected) and ranks candidate source positions upstream of every detection, '
        "with the fitted release time and mass.",
    )
    t.add_argument("file", help="observations CSV (UTF-8)")
    t.add_argument("--river", required=True, metavar="FILE", help="river network GeoJSON")
    t.add_argument(
        "--spacing", type=number(), default=1000.0, metavar="M", help="candidate spacing in m (default 1000)"
    )
    t.add_argument(
        "--duration",
        type=number(),
        default=0.0,
        metavar="H",
        help="assumed release duration in hours (default 0: instantaneous)",
    )
    t.add_argument(
        "--decay",
        type=number(),
        default=0.0,
        metavar="PER_DAY",
        help="first-order decay rate, 1/day (default 0)",
    )
    t.add_argument("--top", type=whole(), default=10, help="how many candidates to list (default 10)")
    add_json(t)
    t.set_defaults(handler=cmd_trace)


def _r(value, digits=2):
    return None if value is None or not math.isfinite(value) else round(value, digits)


def _point_rows(before, after, shift_h: float) -> list[dict]:
    """Before/after per point, both in hours after the recorded release start."""

    def later(h):
        return None if h is None else h + shift_h

    rows = []
    for b, a in zip(before.points, after.points, strict=True):
        rows.append(
            {
                "point": b.label,
                "arrival_before_h": _r(b.leading_edge_h),
                "arrival_after_h": _r(later(a.leading_edge_h)),
                "peak_before_mg_l": None if b.peak_mg_l is None else float(f"{b.peak_mg_l:.4g}"),
                "peak_after_mg_l": None if a.peak_mg_l is None else float(f"{a.peak_mg_l:.4g}"),
                "exceed_to_before_h": _r(b.exceed_end_h),
                "exceed_to_after_h": _r(later(a.exceed_end_h)),
            }
        )
    return rows


def cmd_calibrate(args) -> int:
    import incident.plume as usvc
    from incident.core.clock import fmt_local
    from incident.core.store.engine import session_scope

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        if args.list:
            cals = usvc.list_calibrations(s, args.code)
            rows = [
                {
                    "id": c.id,
                    "created": fmt_local(c.created_at),
                    "by": c.created_by,
                    "decision": c.decision,
                    "decided_by": c.decided_by,
                    "mass_kg": round(c.params["mass_kg"]),
                    "start_shift_h": round(c.params["start_shift_h"], 2),
                    "velocity_x": round(c.params["velocity_factor"], 3),
                    "dispersion_x": round(c.params["dispersion_factor"], 2),
                }
                for c in cals
            ]
            if args.json:
                as_json(rows)
            else:
                table(rows)
            return 0
        if args.accept is not None or args.reject is not None:
            accept = args.accept is not None
            info = usvc.decide(
                s,
                args.code,
                args.accept if accept else args.reject,
                accept=accept,
                actor=settings.user,
                reason=args.reason,
            )
            if args.json:
                as_json(
                    {"id": info.id, "decision": info.decision, "by": info.decided_by, "params": info.params}
                )
            else:
                print(f"calibration #{info.id} {info.decision} by {info.decided_by}; logged")
                if accept:
                    print(f"forecasts of {args.code} now use it: `incident forecast {args.code}`")
            return 0
        report = usvc.calibrate_incident(s, args.code, actor=settings.user, horizon_h=args.horizon)
    fit = report.fit
    if args.json:
        as_json(
            {
                "id": report.calibration_id,
                "incident": report.code,
                "decision": "pending",
                "params": report.params(),
                "fit": report.fit_summary(),
                "points": _point_rows(report.before, report.after, report.shift_h) if report.before else [],
            }
        )
        return 0
    print(
        f"{report.code}: calibration #{report.calibration_id} (pending) from {fit.n_observations} results "
        f"({fit.n_detected} detected, {fit.n_censored} non-detects)"
    )
    if report.skipped:
        print("left out: " + ", ".join(f"{n} {why}" for why, n in report.skipped.items()))
    e, ci = fit.estimates, fit.intervals_95
    prior = fit.prior
    start_lo = report.release_start.timestamp() + ci["start_s"][0]
    start_hi = report.release_start.timestamp() + ci["start_s"][1]
    from datetime import UTC, datetime

    def local(ts: float) -> str:
        return "—" if not math.isfinite(ts) else fmt_local(datetime.fromtimestamp(ts, UTC))

    table(
        [
            {
                "parameter": "mass (kg)",
                "before": f"{prior['mass_kg']:.0f}",
                "fitted": f"{e['mass_kg']:.0f}",
                "95 % interval": f"{ci['mass_kg'][0]:.0f} – {ci['mass_kg'][1]:.0f}",
            },
            {
                "parameter": "release start",
                "before": fmt_local(report.release_start),
                "fitted": fmt_local(report.estimated_start),
                "95 % interval": f"{local(start_lo)} – {local(start_hi)}",
            },
            {
                "parameter": "velocity factor",
                "before": "1",
                "fitted": f"{e['velocity_factor']:.3f}",
                "95 % interval": f"{ci['velocity_factor'][0]:.3f} – {ci['velocity_factor'][1]:.3f}",
            },
            {
                "parameter": "dispersion factor",
                "before": "1",
                "fitted": f"{e['dispersion_factor']:.2f}",
                "95 % interval": f"{ci['dispersion_factor'][0]:.2f} – {ci['dispersion_factor'][1]:.2f}",
            },
        ]
    )
    print(
        f"\nmisfit (typical factor between model and samples): before ×{math.exp(fit.rms_log_prior):.2f}, "
        f"after ×{fit.factor_error:.2f}; non-detects the model exceeds: {fit.censored_violations}"
    )
    table(
        [
            {
                "point": report.points[pf.point],
                "samples": pf.n,
                "non_detects": pf.n_censored,
                "bias": f"×{math.exp(pf.mean_residual_ln):.2f}",
                "scatter": f"×{math.exp(pf.rms_residual_ln):.2f}",
            }
            for pf in fit.per_point
        ]
    )
    if report.before is not None:
        print("\nforecast before → after (hours after the recorded release start):")
        table(
            _point_rows(report.before, report.after, report.shift_h),
            None,
            [
                "point",
                "arr before",
                "arr after",
                "peak before",
                "peak after",
                "exceed to bef",
                "exceed to aft",
            ],
        )
    for w in fit.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(
        f"\naccept: incident recalibrate {report.code} --accept {report.calibration_id}    "
        f"reject: incident recalibrate {report.code} --reject {report.calibration_id}"
    )
    return 0


def cmd_trace(args) -> int:
    import incident.plume as usvc
    from incident.core.clock import fmt_local

    settings_from(args)
    rep = usvc.trace_file(
        args.file,
        args.river,
        spacing_m=args.spacing,
        duration_h=args.duration,
        decay_per_day=args.decay,
        top=args.top,
    )
    rows = [
        {
            "rank": c.rank,
            "reach": c.reach_id,
            "km": round(c.km, 1),
            "lat": round(c.lat, 5),
            "lon": round(c.lon, 5),
            "release": fmt_local(c.release),
            "mass_kg": float(f"{c.mass_kg:.3g}"),
            "weight": round(c.weight, 3),
            "misfit": f"×{c.misfit_factor:.2f}",
        }
        for c in rep.candidates
    ]
    reaches = [{"reach": r, "weight": round(w, 3)} for r, w in rep.reaches if w >= 0.001]
    if args.json:
        as_json({"network": rep.network, "candidates": rows, "reaches": reaches, "warnings": rep.warnings})
        return 0
    print(
        f"{rep.network}: {rep.n_observations} observations at {rep.n_stations} stations; "
        f"{rep.n_positions} candidate positions upstream of every detection\n"
    )
    print("most likely reaches (share of likelihood):")
    table(reaches)
    print("\nbest candidates:")
    table(rows)
    for w in rep.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0
