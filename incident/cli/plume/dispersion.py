"""`incident dispersion`: the longitudinal dispersion coefficient for one river or a CSV of rivers."""

from __future__ import annotations

import csv
import io
import sys

from incident.cli.shell import add_json, as_json, number


def register(sub) -> None:
    p = sub.add_parser(
        "dispersion",
        help="estimate the longitudinal dispersion coefficient (default Disley 2015, bias-corrected) with its band",
        description="Kx from width, depth, velocity and shear velocity by Disley et al. (2015) with its bias "
        "on field tracer data removed, and a ÷4…×4 band that holds 92 % of those measurements in "
        "cross-validation (docs/forecast.md).",
    )
    p.add_argument(
        "--csv", metavar="FILE", help="rivers: columns width_m, depth_m, velocity_m_s, shear_velocity_m_s"
    )
    p.add_argument("--out", metavar="FILE", help="write the CSV with kx_m2s, kx_low_m2s, kx_high_m2s added")
    p.add_argument("--width", type=number(), help="width (m)")
    p.add_argument("--depth", type=number(), help="mean depth (m)")
    p.add_argument("--velocity", type=number(), help="mean velocity (m/s)")
    p.add_argument("--shear-velocity", type=number(), help="shear velocity u* (m/s)")
    add_json(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    from incident.cli.shell import settings_from
    from incident.core.errors import UserError
    from incident.plume import estimate_csv, estimate_one

    settings_from(args)  # the interface language, for refusals

    if args.csv:
        header, rows = estimate_csv(args.csv)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        if args.out:
            from incident.core.files import atomic_writer

            with atomic_writer(args.out, newline="", what="dispersion CSV") as fh:  # a refusal if unwritable
                fh.write(buf.getvalue())
            print(f"{len(rows)} rivers written to {args.out}")
        else:
            sys.stdout.write(buf.getvalue())
        return 0
    if None in (args.width, args.depth, args.velocity, args.shear_velocity):
        raise UserError("dispersion.need_input", where="incident dispersion")
    est = estimate_one(args.width, args.depth, args.velocity, args.shear_velocity)
    if args.json:
        as_json(est)
    else:
        print(
            f"Kx {est['kx_m2s']:.4g} m²/s ({est['method']}); band {est['kx_low_m2s']:.4g}–{est['kx_high_m2s']:.4g} m²/s"
        )
    return 0
