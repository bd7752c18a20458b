"""Small self-contained SVG charts for reports: a trend chart and a point map.

Pure Python, no external assets: the SVG text is inlined in the HTML report
(and embedded as a data URI in the Markdown one), so a report opens offline
and prints the same everywhere. Output is well-formed XML.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from incident.core.clock import to_local

# Okabe–Ito: distinguishable with the common colour-vision deficiencies, and in grey print.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
FONT = "font-family=\"'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif\""


def _a(text: str) -> str:
    """Escape for an XML attribute value."""
    return escape(str(text), {'"': "&quot;"})


def _f(x: float) -> str:
    return f"{x:.1f}"


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 2.5, 5 × 10^k steps)."""
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 12))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def fmt_tick(v: float) -> str:
    if v == 0:
        return "0"
    text = f"{v:.6f}".rstrip("0").rstrip(".")
    return text if abs(v) >= 1e-4 else f"{v:.1e}"


# ---------------------------------------------------------------- trend chart


@dataclass
class Obs:
    at: datetime
    value: float
    non_detect: bool = False  # plotted at the detection limit, open marker
    suspected: bool = False  # rapid positive awaiting confirmation, triangle marker
    exceeds: bool = False


@dataclass
class Series:
    label: str
    observations: list[Obs] = field(default_factory=list)
    forecast: list[tuple[datetime, float]] = field(default_factory=list)


@dataclass
class ChartText:
    title: str
    y_label: str
    limit_label: str
    forecast_label: str
    nd_label: str
    suspected_label: str
    no_data: str


def trend_chart_svg(
    series: list[Series],
    *,
    limit: float | None,
    text: ChartText,
    width: int = 720,
    height: int = 380,
    chart_id: str = "trend",
) -> str:
    """Concentration vs local time, one line per point, the limit as a dashed line."""
    left, right, top, bottom = 64, 150, 34, 52
    pw, ph = width - left - right, height - top - bottom
    times = [o.at for s in series for o in s.observations] + [t for s in series for t, _ in s.forecast]
    values = [o.value for s in series for o in s.observations] + [v for s in series for _, v in s.forecast]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{_a(chart_id)}" class="chart trend-chart" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{_a(text.title)}" {FONT} font-size="11">',
        f"<title>{escape(text.title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="13" font-weight="bold">'
        f"{escape(text.title)}</text>",
    ]
    if not times:
        out.append(
            f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" fill="#555">'
            f"{escape(text.no_data)}</text></svg>"
        )
        return "\n".join(out)
    t0, t1 = min(times), max(times)
    if t1 - t0 < timedelta(hours=1):
        t1 = t0 + timedelta(hours=1)
    pad = (t1 - t0) * 0.04
    t0, t1 = t0 - pad, t1 + pad
    vmax = max(values + ([limit * 1.15] if limit else []))
    yt = nice_ticks(0.0, vmax * 1.05 if vmax > 0 else 1.0)
    ymax = yt[-1]

    def X(at: datetime) -> float:
        return left + pw * (at - t0).total_seconds() / (t1 - t0).total_seconds()

    def Y(v: float) -> float:
        return top + ph * (1 - v / ymax)

    # grid and axes
    out.append('<g class="grid" stroke="#dddddd" stroke-width="1">')
    for v in yt:
        out.append(f'<line x1="{left}" y1="{_f(Y(v))}" x2="{left + pw}" y2="{_f(Y(v))}"/>')
    out.append("</g>")
    out.append('<g class="y-axis" text-anchor="end">')
    for v in yt:
        out.append(f'<text x="{left - 6}" y="{_f(Y(v) + 4)}">{fmt_tick(v)}</text>')
    out.append("</g>")
    out.append(
        f'<text x="14" y="{top + ph / 2:.0f}" text-anchor="middle" transform="rotate(-90 14 {top + ph / 2:.0f})">'
        f"{escape(text.y_label)}</text>"
    )
    span_h = (t1 - t0).total_seconds() / 3600
    step_h = next((s for s in (1, 2, 3, 6, 12, 24, 48, 96) if span_h / s <= 8), 168)
    local0 = to_local(t0)
    first = local0.replace(minute=0, second=0, microsecond=0)
    first += timedelta(hours=(step_h - first.hour % step_h) % step_h or 0)
    if first < local0:
        first += timedelta(hours=step_h)
    out.append('<g class="x-axis" text-anchor="middle">')
    tick = first
    last_day = None
    while tick <= to_local(t1):
        x = X(tick)
        out.append(f'<line x1="{_f(x)}" y1="{top + ph}" x2="{_f(x)}" y2="{top + ph + 4}" stroke="#333"/>')
        out.append(f'<text x="{_f(x)}" y="{top + ph + 16}">{tick.strftime("%H:%M")}</text>')
        if tick.date() != last_day:
            out.append(f'<text x="{_f(x)}" y="{top + ph + 29}" fill="#555">{tick.strftime("%m-%d")}</text>')
            last_day = tick.date()
        tick += timedelta(hours=step_h)
    out.append("</g>")
    out.append(
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333" stroke-width="1"/>'
    )
    out.append(
        f'<text x="{left + pw / 2:.0f}" y="{height - 8}" text-anchor="middle" fill="#555">UTC+8</text>'
    )

    # the limit
    legend: list[str] = []
    ly = top + 4
    if limit is not None:
        y = Y(limit)
        out.append(
            f'<line class="limit-line" x1="{left}" y1="{_f(y)}" x2="{left + pw}" y2="{_f(y)}" '
            'stroke="#C00000" stroke-width="1.5" stroke-dasharray="6 4"/>'
        )
        out.append(
            f'<text x="{left + pw - 4}" y="{_f(y - 4)}" text-anchor="end" fill="#C00000">'
            f"{escape(text.limit_label)} {fmt_tick(limit)}</text>"
        )

    # series
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        obs = sorted(s.observations, key=lambda o: o.at)
        out.append(f'<g class="series" data-label="{_a(s.label)}">')
        if s.forecast:
            pts = " ".join(f"{_f(X(t))},{_f(Y(v))}" for t, v in s.forecast)
            out.append(
                f'<polyline class="forecast" points="{pts}" fill="none" stroke="{color}" '
                'stroke-width="1.2" stroke-dasharray="2 3" opacity="0.8"/>'
            )
        if len(obs) > 1:
            pts = " ".join(f"{_f(X(o.at))},{_f(Y(o.value))}" for o in obs)
            out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        for o in obs:
            x, y = X(o.at), Y(o.value)
            if o.suspected:
                out.append(
                    f'<path d="M{_f(x)},{_f(y - 5)} L{_f(x + 5)},{_f(y + 4)} L{_f(x - 5)},{_f(y + 4)} Z" '
                    f'fill="#ffffff" stroke="{color}" stroke-width="1.5"/>'
                )
            elif o.non_detect:
                out.append(
                    f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3.5" fill="#ffffff" stroke="{color}" stroke-width="1.5"/>'
                )
            else:
                out.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3.5" fill="{color}"/>')
        out.append("</g>")
        legend.append(
            f'<line x1="{left + pw + 12}" y1="{ly + 4}" x2="{left + pw + 32}" y2="{ly + 4}" '
            f'stroke="{color}" stroke-width="2"/>'
            f'<text x="{left + pw + 36}" y="{ly + 8}">{escape(s.label)}</text>'
        )
        ly += 16
    # legend of markers
    ly += 6
    if limit is not None:
        legend.append(
            f'<line x1="{left + pw + 12}" y1="{ly + 4}" x2="{left + pw + 32}" y2="{ly + 4}" '
            'stroke="#C00000" stroke-width="1.5" stroke-dasharray="6 4"/>'
            f'<text x="{left + pw + 36}" y="{ly + 8}">{escape(text.limit_label)}</text>'
        )
        ly += 16
    if any(s.forecast for s in series):
        legend.append(
            f'<line x1="{left + pw + 12}" y1="{ly + 4}" x2="{left + pw + 32}" y2="{ly + 4}" '
            'stroke="#555" stroke-width="1.2" stroke-dasharray="2 3"/>'
            f'<text x="{left + pw + 36}" y="{ly + 8}">{escape(text.forecast_label)}</text>'
        )
        ly += 16
    if any(o.non_detect for s in series for o in s.observations):
        legend.append(
            f'<circle cx="{left + pw + 22}" cy="{ly + 4}" r="3.5" fill="#fff" stroke="#555" stroke-width="1.5"/>'
            f'<text x="{left + pw + 36}" y="{ly + 8}">{escape(text.nd_label)}</text>'
        )
        ly += 16
    if any(o.suspected for s in series for o in s.observations):
        legend.append(
            f'<path d="M{left + pw + 22},{ly - 1} L{left + pw + 27},{ly + 8} L{left + pw + 17},{ly + 8} Z" '
            'fill="#fff" stroke="#555" stroke-width="1.5"/>'
            f'<text x="{left + pw + 36}" y="{ly + 8}">{escape(text.suspected_label)}</text>'
        )
    out.append('<g class="legend">' + "".join(legend) + "</g>")
    out.append("</svg>")
    return "\n".join(out)


# ---------------------------------------------------------------- point map


@dataclass
class MapPoint:
    label: str
    lat: float
    lon: float
    kind: str  # source | intake | station | boundary | other | point:<role>
    title: str = ""  # tooltip / long name


@dataclass
class MapText:
    title: str
    north: str
    flow: str
    source: str
    intake: str
    station: str
    point: str
    control: str
    datum_note: str


def _project(lat0: float, lon0: float) -> Callable[[float, float], tuple[float, float]]:
    kx = 111.32 * math.cos(math.radians(lat0))
    ky = 110.57

    def proj(lat: float, lon: float) -> tuple[float, float]:
        return (lon - lon0) * kx, (lat - lat0) * ky

    return proj


def point_map_svg(
    reaches: list[list[tuple[float, float]]],
    features: list[MapPoint],
    *,
    text: MapText,
    flow_arrow: tuple[tuple[float, float], tuple[float, float]] | None = None,
    width: int = 720,
    height: int = 520,
    chart_id: str = "map",
) -> str:
    """Schematic map: river lines (lon, lat), source, receptors, numbered points, north arrow, scale bar."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{_a(chart_id)}" class="chart point-map" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{_a(text.title)}" {FONT} font-size="11">',
        f"<title>{escape(text.title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="13" font-weight="bold">'
        f"{escape(text.title)}</text>",
    ]
    if not features:
        out.append("</svg>")
        return "\n".join(out)
    lat0 = sum(f.lat for f in features) / len(features)
    lon0 = sum(f.lon for f in features) / len(features)
    proj = _project(lat0, lon0)
    xy = [proj(f.lat, f.lon) for f in features]
    xs, ys = [p[0] for p in xy], [p[1] for p in xy]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 2.0)  # km
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    top, margin, legend_h = 30, 40, 36
    aw, ah = width - 2 * margin, height - top - margin - legend_h
    scale = min(aw, ah) / (span * 1.15)  # px per km

    def P(lat: float, lon: float) -> tuple[float, float]:
        x, y = proj(lat, lon)
        return width / 2 + (x - cx) * scale, top + ah / 2 + margin / 2 - (y - cy) * scale

    clip = f"{chart_id}-clip"
    out.append(
        f'<defs><clipPath id="{_a(clip)}"><rect x="4" y="{top}" width="{width - 8}" '
        f'height="{height - top - legend_h}"/></clipPath></defs>'
    )
    out.append(f'<g class="river" clip-path="url(#{_a(clip)})" fill="none" stroke-linejoin="round">')
    for coords in reaches:
        pts = " ".join(f"{_f(P(lat, lon)[0])},{_f(P(lat, lon)[1])}" for lon, lat in coords)
        out.append(f'<polyline points="{pts}" stroke="#9cc9e8" stroke-width="7"/>')
        out.append(f'<polyline points="{pts}" stroke="#3a87c7" stroke-width="1.2"/>')
    if flow_arrow is not None:
        (alat, alon), (blat, blon) = flow_arrow
        (x1, y1), (x2, y2) = P(alat, alon), P(blat, blon)
        d = math.hypot(x2 - x1, y2 - y1) or 1
        ux, uy = (x2 - x1) / d, (y2 - y1) / d
        # offset the arrow beside the river
        ox, oy = -uy * 18, ux * 18
        ax1, ay1, ax2, ay2 = x1 + ox, y1 + oy, x1 + ox + ux * 40, y1 + oy + uy * 40
        hx, hy = ax2 - ux * 8, ay2 - uy * 8
        out.append(
            f'<g class="flow-arrow" stroke="#3a87c7" stroke-width="1.5">'
            f'<line x1="{_f(ax1)}" y1="{_f(ay1)}" x2="{_f(ax2)}" y2="{_f(ay2)}"/>'
            f'<path d="M{_f(ax2)},{_f(ay2)} L{_f(hx - uy * 4)},{_f(hy + ux * 4)} '
            f'L{_f(hx + uy * 4)},{_f(hy - ux * 4)} Z" fill="#3a87c7"/>'
            f'<text x="{_f((ax1 + ax2) / 2 + ox * 0.4)}" y="{_f((ay1 + ay2) / 2 + oy * 0.4 + 4)}" '
            f'text-anchor="{"end" if ox < 0 else "start"}" stroke="none" fill="#3a87c7">'
            f"{escape(text.flow)}</text></g>"
        )
    out.append("</g>")

    colours = {
        "upstream_control": "#009E73",
        "receptor": "#0072B2",
        "station": "#56B4E9",
        "boundary": "#CC79A7",
    }
    out.append('<g class="features">')
    placed: list[tuple[float, float]] = []
    for f in features:
        x, y = P(f.lat, f.lon)
        if not (0 <= x <= width and top <= y <= height):
            continue
        # push labels apart: try right, left, above, below
        label_pos = None
        for dx, dy, anchor in ((9, 4, "start"), (-9, 4, "end"), (0, -9, "middle"), (0, 15, "middle")):
            lx, ly = x + dx, y + dy
            if all(abs(lx - px) > 30 or abs(ly - py) > 11 for px, py in placed):
                label_pos = (lx, ly, anchor)
                break
        if label_pos is None:
            label_pos = (x + 9, y + 4 + 11 * sum(1 for px, py in placed if abs(px - x - 9) < 30), "start")
        placed.append((label_pos[0], label_pos[1]))
        tip = f"<title>{escape(f.title or f.label)}</title>"
        if f.kind == "source":
            star = []
            for k in range(10):
                r = 9 if k % 2 == 0 else 4
                ang = math.pi / 2 + k * math.pi / 5
                star.append(f"{_f(x + r * math.cos(ang))},{_f(y - r * math.sin(ang))}")
            out.append(
                f'<g class="source"><polygon points="{" ".join(star)}" fill="#C00000" stroke="#fff" '
                f'stroke-width="0.8"/>{tip}</g>'
            )
        elif f.kind == "intake":
            out.append(
                f'<g class="intake"><rect x="{_f(x - 5)}" y="{_f(y - 5)}" width="10" height="10" '
                f'fill="#0072B2" stroke="#fff"/>{tip}</g>'
            )
        elif f.kind in ("station", "boundary", "other"):
            out.append(
                f'<g class="station"><path d="M{_f(x)},{_f(y - 6)} L{_f(x + 6)},{_f(y)} L{_f(x)},{_f(y + 6)} '
                f'L{_f(x - 6)},{_f(y)} Z" fill="#ffffff" stroke="#555" stroke-width="1.2"/>{tip}</g>'
            )
        else:
            role = f.kind.split(":", 1)[-1]
            c = colours.get(role, "#D55E00")
            out.append(
                f'<g class="sampling-point"><circle cx="{_f(x)}" cy="{_f(y)}" r="5" fill="{c}" '
                f'stroke="#fff" stroke-width="1"/>{tip}</g>'
            )
        lx, ly, anchor = label_pos
        weight = ' font-weight="bold"' if f.kind.startswith("point") or f.kind == "source" else ""
        out.append(
            f'<text x="{_f(lx)}" y="{_f(ly)}" text-anchor="{anchor}"{weight} '
            f'paint-order="stroke" stroke="#fff" stroke-width="3">{escape(f.label)}</text>'
        )
    out.append("</g>")

    # north arrow (top right)
    nx, ny = width - 34, top + 14
    out.append(
        f'<g class="north-arrow"><path d="M{nx},{ny} L{nx + 8},{ny + 24} L{nx},{ny + 18} L{nx - 8},{ny + 24} Z" '
        f'fill="#222"/><text x="{nx}" y="{ny - 3}" text-anchor="middle" font-weight="bold">'
        f"{escape(text.north)}</text></g>"
    )
    # scale bar (bottom left): a round number of km about a fifth of the width
    target_km = (width / 5) / scale
    mag = 10 ** math.floor(math.log10(target_km))
    bar_km = max(m * mag for m in (1, 2, 5) if m * mag <= target_km) if target_km >= mag else mag
    bar_px = bar_km * scale
    sx, sy = 16, height - legend_h - 10
    out.append(
        f'<g class="scale-bar"><rect x="{sx}" y="{sy}" width="{_f(bar_px)}" height="4" fill="#222"/>'
        f'<text x="{sx}" y="{sy - 4}">0</text>'
        f'<text x="{_f(sx + bar_px)}" y="{sy - 4}" text-anchor="middle">{fmt_tick(bar_km)} km</text></g>'
    )
    # legend
    ly = height - 14
    out.append(
        f'<g class="legend" font-size="10">'
        f'<polygon points="16,{ly - 4} 20,{ly - 8} 24,{ly - 4} 20,{ly}" fill="#C00000"/>'
        f'<text x="28" y="{ly}">{escape(text.source)}</text>'
        f'<rect x="110" y="{ly - 8}" width="8" height="8" fill="#0072B2"/>'
        f'<text x="122" y="{ly}">{escape(text.intake)}</text>'
        f'<path d="M220,{ly - 9} L225,{ly - 4} L220,{ly + 1} L215,{ly - 4} Z" fill="#fff" stroke="#555"/>'
        f'<text x="230" y="{ly}">{escape(text.station)}</text>'
        f'<circle cx="340" cy="{ly - 4}" r="4" fill="#D55E00"/>'
        f'<text x="348" y="{ly}">{escape(text.point)}</text>'
        f'<circle cx="450" cy="{ly - 4}" r="4" fill="#009E73"/>'
        f'<text x="458" y="{ly}">{escape(text.control)}</text>'
        "</g>"
        f'<text x="{width - 8}" y="{sy + 4}" text-anchor="end" font-size="10" fill="#555">'
        f"{escape(text.datum_note)}</text>"
    )
    out.append("</svg>")
    return "\n".join(out)
