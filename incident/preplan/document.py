"""The pre-plan document of one intake: Markdown (with SVG files beside it) and one self-contained
HTML file (inline SVG, inline CSS, no fonts or tiles from anywhere), in English and Chinese."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from incident.core.i18n import bilingual, t

if TYPE_CHECKING:
    from incident.core.rivers import RiverNetworkData
    from incident.preplan.places import PlacedIntake, PlacedRegister


class _Inputs(Protocol):
    """What the document reads of the placed inputs (the package's PreplanInputs)."""

    @property
    def network(self) -> RiverNetworkData: ...

    @property
    def placed(self) -> PlacedRegister: ...


FLOW_ORDER = {"low": 0, "median": 1, "high": 2}
KIND_LABELS = {
    "en": {},
    "zh": {
        "enterprise": "企业",
        "outfall": "排污口",
        "bridge": "桥梁",
        "road_crossing": "道路穿越",
        "pipeline": "管道",
        "tank_farm": "储罐区",
        "wharf": "码头",
        "gate": "闸门",
        "dam": "水坝",
        "reservoir": "水库",
        "tributary_mouth": "支流河口",
        "weir_site": "筑坝点",
        "boom_site": "围油栏布设点",
    },
}


def _h(x: float | None, lang: str) -> str:
    return t("preplan.doc.never", lang=lang) if x is None else f"{x:.1f}"


def _kind(kind: str, lang: str) -> str:
    return KIND_LABELS.get(lang, {}).get(kind, kind.replace("_", " "))


def _name(obj: dict[str, Any], lang: str, key: str = "name") -> str:
    return bilingual(obj.get(key), obj.get(f"{key}_zh"), lang)


# ---------------------------------------------------------------- figures


def map_svg(rows: list[dict[str, Any]], inputs: _Inputs, intake_id: str, lang: str, width: int = 640) -> str:
    """The river, this intake, the sources upstream of it and the interception points between."""
    net = inputs.network
    sources = {r["source_id"] for r in rows}
    ips = {ip["id"] for r in rows for ip in r["interception_points"]}
    lons = [lon for r in net.reaches for lon, _ in r.coords]
    lats = [lat for r in net.reaches for _, lat in r.coords]
    lon0, lon1, lat0, lat1 = min(lons), max(lons), min(lats), max(lats)
    pad = 24
    scale = min((width - 2 * pad) / max(lon1 - lon0, 1e-9), (width - 2 * pad) / max(lat1 - lat0, 1e-9))
    height = int((lat1 - lat0) * scale + 2 * pad + 20)

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return pad + (lon - lon0) * scale, pad + (lat1 - lat) * scale

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#fbfbf8"/>',
    ]
    for r in net.reaches:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(lon, lat) for lon, lat in r.coords))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="#5b9bd5" stroke-width="3"/>')
    for s in inputs.placed.sources:
        if s.model.id not in sources:
            continue
        x, y = xy(s.position.lon, s.position.lat)
        parts.append(
            f'<path d="M{x:.1f},{y - 6:.1f} L{x + 6:.1f},{y + 5:.1f} L{x - 6:.1f},{y + 5:.1f} Z" '
            f'fill="#d9534f"><title>{html.escape(_name(s.model.model_dump(), lang))}</title></path>'
        )
        parts.append(f'<text x="{x + 8:.1f}" y="{y + 4:.1f}" fill="#a33">{html.escape(s.model.id)}</text>')
    for p in inputs.placed.interception_points:
        if p.model.id not in ips:
            continue
        x, y = xy(p.position.lon, p.position.lat)
        parts.append(
            f'<path d="M{x:.1f},{y - 6:.1f} L{x + 6:.1f},{y:.1f} L{x:.1f},{y + 6:.1f} L{x - 6:.1f},{y:.1f} Z" '
            f'fill="#f0ad4e"><title>{html.escape(_name(p.model.model_dump(), lang))}</title></path>'
        )
        parts.append(
            f'<text x="{x - 8:.1f}" y="{y + 4:.1f}" text-anchor="end" fill="#a60">{p.model.id}</text>'
        )
    for i in inputs.placed.intakes:
        x, y = xy(i.position.lon, i.position.lat)
        this = i.model.id == intake_id
        size = 7 if this else 5
        fill = "#2e7d32" if this else "#9ccc9c"
        parts.append(
            f'<rect x="{x - size:.1f}" y="{y - size:.1f}" width="{2 * size}" height="{2 * size}" fill="{fill}">'
            f"<title>{html.escape(_name(i.model.model_dump(), lang))}</title></rect>"
        )
        parts.append(
            f'<text x="{x + 10:.1f}" y="{y + 4:.1f}" fill="#1b5e20">{html.escape(i.model.id)}</text>'
        )
    ly = height - 8
    parts.append(f'<path d="M{pad},{ly - 8} L{pad + 6},{ly + 2} L{pad - 6},{ly + 2} Z" fill="#d9534f"/>')
    parts.append(f'<text x="{pad + 10}" y="{ly}">{t("preplan.doc.legend_source", lang=lang)}</text>')
    parts.append(f'<rect x="{pad + 110}" y="{ly - 9}" width="10" height="10" fill="#2e7d32"/>')
    parts.append(f'<text x="{pad + 124}" y="{ly}">{t("preplan.doc.legend_intake", lang=lang)}</text>')
    parts.append(
        f'<path d="M{pad + 210},{ly - 9} L{pad + 215},{ly - 4} L{pad + 210},{ly + 1} L{pad + 205},{ly - 4} Z" '
        'fill="#f0ad4e"/>'
    )
    parts.append(f'<text x="{pad + 220}" y="{ly}">{t("preplan.doc.legend_ip", lang=lang)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def chart_svg(rows: list[dict[str, Any]], reserve_h: float, lang: str, width: int = 640) -> str:
    """Arrival windows at the intake, one bar per source (P10–P90, tick at P50), median flow (or the
    first scenario there is)."""
    flows = sorted({r["flow"] for r in rows}, key=lambda f: FLOW_ORDER.get(f, 9))
    flow = "median" if "median" in flows else (flows[0] if flows else "median")
    bars = [r for r in rows if r["flow"] == flow and r["arrival_p10_h"] is not None]
    bars.sort(key=lambda r: (r["arrival_p50_h"] if r["arrival_p50_h"] is not None else 1e9, r["source_id"]))
    left, right, top, row_h = 70, 20, 10, 18
    height = top + row_h * max(len(bars), 1) + 40
    t_max = max([reserve_h] + [r["arrival_p90_h"] or r["arrival_p10_h"] for r in bars] + [1.0]) * 1.1
    span = width - left - right

    def x(hours: float) -> float:
        return left + span * hours / t_max

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    step = _nice_step(t_max)
    tick = 0.0
    axis_y = top + row_h * max(len(bars), 1) + 4
    while tick <= t_max:
        parts.append(f'<line x1="{x(tick):.1f}" y1="{top}" x2="{x(tick):.1f}" y2="{axis_y}" stroke="#eee"/>')
        parts.append(f'<text x="{x(tick):.1f}" y="{axis_y + 14}" text-anchor="middle">{tick:g}</text>')
        tick += step
    for i, r in enumerate(bars):
        y = top + i * row_h
        p10, p50 = r["arrival_p10_h"], r["arrival_p50_h"]
        p90 = r["arrival_p90_h"] if r["arrival_p90_h"] is not None else t_max
        parts.append(
            f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{html.escape(r["source_id"])}</text>'
        )
        parts.append(
            f'<rect x="{x(p10):.1f}" y="{y + 3}" width="{max(x(p90) - x(p10), 1):.1f}" height="{row_h - 6}" '
            f'fill="#d9534f" fill-opacity="0.45"><title>{p10:.1f}–{p90:.1f} h</title></rect>'
        )
        if p50 is not None:
            parts.append(
                f'<line x1="{x(p50):.1f}" y1="{y + 1}" x2="{x(p50):.1f}" y2="{y + row_h - 1}" '
                'stroke="#8b0000" stroke-width="2"/>'
            )
    parts.append(
        f'<line x1="{x(reserve_h):.1f}" y1="{top}" x2="{x(reserve_h):.1f}" y2="{axis_y}" '
        'stroke="#2e7d32" stroke-dasharray="4 3" stroke-width="1.5"/>'
    )
    parts.append(
        f'<text x="{left + span / 2:.0f}" y="{axis_y + 30}" text-anchor="middle">'
        f"{t('preplan.doc.hours', lang=lang)} ({flow})</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _nice_step(span: float) -> float:
    for step in (1, 2, 5, 10, 12, 24, 48, 72, 120, 240):
        if span / step <= 10:
            return float(step)
    return span / 10


# ---------------------------------------------------------------- tables


def _tables(
    rows: list[dict[str, Any]], inputs: _Inputs, lang: str
) -> list[tuple[str, list[str], list[list[str]]]]:
    """(heading, header, body rows) for the document's tables."""

    def tr(key: str, **kw: object) -> str:
        return t(f"preplan.doc.{key}", lang=lang, **kw)

    placed = {s.model.id: s for s in inputs.placed.sources}
    first: dict[Any, dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: (r["distance_km"], FLOW_ORDER.get(r["flow"], 9))):
        first.setdefault(r["source_id"], r)
    sources = sorted(first.values(), key=lambda r: r["distance_km"])
    src_table = []
    for r in sources:
        s = placed.get(r["source_id"])
        contact = " ".join(x for x in (s.model.contact.name, s.model.contact.phone) if x) if s else ""
        src_table.append(
            [
                f"{r['source_id']} {_name(r, lang, 'source_name')}",
                _kind(r["source_kind"], lang),
                f"{r['distance_km']:.1f}",
                _name(r, lang, "substance_name"),
                f"{r['release_kg']:g} kg / {r['release_h']:g} h",
                contact,
            ]
        )
    arr_table = []
    ordered = sorted(rows, key=lambda r: (r["distance_km"], r["source_id"], FLOW_ORDER.get(r["flow"], 9)))
    for r in ordered:
        above = r["hours_above_standard"]
        shut = tr("yes") if above <= r["reserve_h"] else tr("no")
        arr_table.append(
            [
                r["source_id"],
                r["flow"],
                " / ".join(_h(r[k], lang) for k in ("arrival_p10_h", "arrival_p50_h", "arrival_p90_h")),
                f"{r['peak_mg_l']:.3g}",
                f"{r['peak_mg_l'] / r['standard_mg_l']:.1f}",
                f"{above:.1f}",
                shut,
                " / ".join(
                    _h(r["standard_release"][k], lang)
                    for k in ("arrival_p10_h", "arrival_p50_h", "arrival_p90_h")
                ),
                f"{r['standard_release']['peak_mg_l']:.3g}",
            ]
        )
    ip_table = []
    for r in [r for r in ordered if r["flow"] == "median"] or ordered:
        if not r["interception_points"]:
            ip_table.append([r["source_id"], tr("none"), "", "", "", ""])
        for ip in r["interception_points"]:
            act = ip["hours_to_act"]
            act_text = "" if act is None else (f"{act:.1f}" if act >= 0 else f"{act:.1f} ({tr('too_late')})")
            ip_table.append(
                [
                    r["source_id"],
                    f"{ip['id']} {_name(ip, lang)} ({_kind(ip['kind'], lang)})",
                    f"{ip['distance_km']:.1f}",
                    _h(ip["arrival_p10_h"], lang),
                    f"{ip['response_h']:g}",
                    act_text,
                ]
            )
    std = rows[0]["standard_release"] if rows else {"release_kg": 0, "release_h": 0}
    return [
        (
            tr("sources"),
            [tr("source"), tr("kind"), tr("distance"), tr("substance"), tr("release"), tr("contact")],
            src_table,
        ),
        (
            tr("arrivals"),
            [
                tr("source"),
                tr("flow"),
                tr("arrival"),
                tr("peak"),
                tr("times"),
                tr("above"),
                tr("shut"),
                tr("standard_release", kg=f"{std['release_kg']:g}", h=f"{std['release_h']:g}")
                + " "
                + tr("arrival"),
                tr("peak"),
            ],
            arr_table,
        ),
        (
            tr("interception"),
            [tr("source"), tr("point"), tr("distance"), tr("arrival_p10"), tr("response"), tr("to_act")],
            ip_table,
        ),
    ]


def _facts(rows: list[dict[str, Any]], intake: PlacedIntake, lang: str) -> list[tuple[str, str]]:
    def tr(key: str, **kw: object) -> str:
        return t(f"preplan.doc.{key}", lang=lang, **kw)

    flows = sorted({(r["flow"], r["discharge_factor"]) for r in rows}, key=lambda f: FLOW_ORDER.get(f[0], 9))
    n = rows[0]["n_members"] if rows else 0
    version = rows[0]["model_version"] if rows else ""
    return [
        (tr("population"), f"{intake.model.population_served:,}"),
        (tr("reserve"), f"{intake.model.reserve_h:g}"),
        (tr("position"), f"{intake.position.reach_id} km {intake.position.km:.2f}"),
        (tr("flows"), ", ".join(f"{name} ×{factor:g}" for name, factor in flows)),
        (tr("model"), f"{version}; " + tr("members", n=n)),
        (tr("generated"), datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ]


def markdown(
    rows: list[dict[str, Any]],
    inputs: _Inputs,
    intake: PlacedIntake,
    lang: str,
    map_file: str,
    chart_file: str,
) -> str:
    def tr(key: str, **kw: object) -> str:
        return t(f"preplan.doc.{key}", lang=lang, **kw)

    name = _name(intake.model.model_dump(), lang)
    out = [f"# {tr('title', intake=f'{intake.model.id} {name}')}", "", tr("intro"), ""]
    out += [f"| {tr('facts')} | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in _facts(rows, intake, lang)]
    out += ["", f"![{tr('map')}]({map_file})", "", f"*{tr('map')}*", ""]
    for heading, header, body in _tables(rows, inputs, lang):
        out += [f"## {heading}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in body]
        out.append("")
    out += [f"![{tr('chart')}]({chart_file})", "", f"*{tr('chart')}*", "", tr("notes"), ""]
    return "\n".join(out)


CSS = (
    "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "table{border-collapse:collapse;margin:0.5rem 0 1.5rem;font-size:0.9rem}"
    "th,td{border:1px solid #ccc;padding:0.2rem 0.5rem;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}figure{margin:1rem 0}figcaption{font-style:italic;font-size:0.9rem}"
)


def html_document(rows: list[dict[str, Any]], inputs: _Inputs, intake: PlacedIntake, lang: str) -> str:
    def tr(key: str, **kw: object) -> str:
        return t(f"preplan.doc.{key}", lang=lang, **kw)

    e = html.escape
    name = _name(intake.model.model_dump(), lang)
    title = tr("title", intake=f"{intake.model.id} {name}")
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{e(title)}</h1><p>{e(tr('intro'))}</p>",
        f"<table><tr><th colspan='2'>{e(tr('facts'))}</th></tr>",
    ]
    out += [f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in _facts(rows, intake, lang)]
    out.append("</table>")
    out.append(
        f"<figure>{map_svg(rows, inputs, intake.model.id, lang)}<figcaption>{e(tr('map'))}</figcaption></figure>"
    )
    for heading, header, body in _tables(rows, inputs, lang):
        out.append(
            f"<h2>{e(heading)}</h2><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>"
        )
        out += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in body]
        out.append("</table>")
    out.append(
        f"<figure>{chart_svg(rows, intake.model.reserve_h, lang)}<figcaption>{e(tr('chart'))}</figcaption></figure>"
    )
    out.append(f"<p>{e(tr('notes'))}</p></body></html>")
    return "\n".join(out)


def write_documents(
    rows: list[dict[str, Any]], inputs: _Inputs, out_dir: Path, langs: tuple[str, ...]
) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for intake in inputs.placed.intakes:
        mine = [r for r in rows if r["intake_id"] == intake.model.id]
        for lang in langs:
            stem = f"preplan_{intake.model.id}_{lang}"
            map_path, chart_path = out_dir / f"{stem}_map.svg", out_dir / f"{stem}_chart.svg"
            map_path.write_text(map_svg(mine, inputs, intake.model.id, lang), encoding="utf-8")
            chart_path.write_text(chart_svg(mine, intake.model.reserve_h, lang), encoding="utf-8")
            md = out_dir / f"{stem}.md"
            md.write_text(
                markdown(mine, inputs, intake, lang, map_path.name, chart_path.name), encoding="utf-8"
            )
            page = out_dir / f"{stem}.html"
            page.write_text(html_document(mine, inputs, intake, lang), encoding="utf-8")
            written += [md, page, map_path, chart_path]
    return written
