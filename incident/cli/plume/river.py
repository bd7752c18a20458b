"""`incident river check FILE`: validate a river network and print what it holds."""

from __future__ import annotations

from incident.cli.shell import add_json, emit, number, table


def register(sub) -> None:
    p = sub.add_parser("river", help="river network files (GeoJSON)")
    rsub = p.add_subparsers(dest="river_command", metavar="ACTION", required=True)
    c = rsub.add_parser(
        "check", help="validate a river GeoJSON and list reaches, length and receptors with km"
    )
    c.add_argument("file", help="river network GeoJSON, e.g. incident/data/demo/jade_river.geojson")
    add_json(c)
    c.set_defaults(handler=cmd_check)
    s = rsub.add_parser("snap", help="snap a WGS84 lat/lon to the nearest reach and km")
    s.add_argument("file", help="river network GeoJSON")
    s.add_argument(
        "lat", type=number(minimum=-90, maximum=90), help="latitude, WGS84 decimal degrees, e.g. 24.685"
    )
    s.add_argument(
        "lon", type=number(minimum=-180, maximum=180), help="longitude, WGS84 decimal degrees, e.g. 109.325"
    )
    add_json(s)
    s.set_defaults(handler=cmd_snap)


def cmd_check(args) -> int:
    from incident.core.rivers import load_river_file, summary_rows

    net = load_river_file(args.file)
    receptors = [
        {
            "id": r.receptor_id,
            "name": r.name,
            "kind": r.kind,
            "reach": r.reach_id,
            "km": round(r.km, 3),
            "off_river_m": round(r.distance_off_m),
        }
        for r in net.receptors
    ]
    if getattr(args, "json", False):
        emit(
            args,
            {
                "name": net.name,
                "reaches": summary_rows(net),
                "receptors": receptors,
                "total_length_km": round(net.total_length_km, 3),
                "main_stem_km": round(net.main_stem_km, 3),
            },
        )
        return 0
    print(
        f"{net.name}: OK — {len(net.reaches)} reaches, {net.total_length_km:.1f} km in all "
        f"(main stem {net.main_stem_km:.1f} km), {len(net.receptors)} receptors\n"
    )
    table(
        summary_rows(net),
        ["reach", "name", "branch", "downstream", "km_start", "km_end", "discharge_m3s", "velocity_ms"],
    )
    print()
    table(receptors, ["id", "kind", "reach", "km", "off_river_m", "name"])
    return 0


def cmd_snap(args) -> int:
    from incident.core.rivers import load_river_file

    net = load_river_file(args.file)
    snap = net.snap(args.lat, args.lon)
    emit(
        args,
        {
            "reach": snap.reach_id,
            "km": round(snap.km, 3),
            "offset_m": round(snap.offset_m, 1),
            "off_river_m": round(snap.distance_off_m, 1),
            "river_lat": round(snap.lat, 6),
            "river_lon": round(snap.lon, 6),
        },
    )
    return 0
