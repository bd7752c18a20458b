"""Report documents: built from :class:`ReportData`, written as Markdown and HTML.

A report is first built as a small document model (sections of paragraphs,
key–value lists, tables and SVG figures), then written out twice, so the
Markdown and the HTML always say the same thing. Strings come from the
``rpt`` catalog in the report's own language (``t(key, lang=...)``), not the
screen's.

HTML output is a single well-formed (XHTML-style) file: inline CSS, inline
SVG, no scripts, no external fonts or images; A4 print CSS with page breaks
before the attachments and a signature block. An exercise report carries the
"EXERCISE / 演练" marker in a fixed banner (repeated on every printed page)
and at the top of every section; the Markdown one on its first line, under
every section heading and in the footer.

Two regions of the output are *stamps* that change with the report's state
(draft → reviewed → released): the state line and the signature block. They
sit between ``<!-- stamp:NAME -->`` markers and are rewritten on review and
release without touching the reviewed content (:func:`restamp`).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from incident import __version__
from incident.core.clock import fmt_local
from incident.core.i18n import bilingual, t
from incident.reports.charts import ChartText, MapPoint, MapText, Obs, Series, point_map_svg, trend_chart_svg
from incident.reports.data import ReportData, ResultRow

EXERCISE_MARK = "EXERCISE / 演练"
KINDS = ("flash", "monitoring", "summary")
CHRONOLOGY_MAX = 40

# ---------------------------------------------------------------- document model


@dataclass
class Cell:
    text: str
    cls: str = ""  # exceed | suspected | nd | num | qc


@dataclass
class Para:
    text: str
    cls: str = ""


@dataclass
class Bullets:
    items: list[str]


@dataclass
class KV:
    rows: list[tuple[str, str]]


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    note: str = ""
    cls: str = ""


@dataclass
class Figure:
    svg: str
    caption: str
    fallback: str  # one line for text-only viewers


@dataclass
class Sub:
    title: str


@dataclass
class Photo:
    src: str  # relative to the report file: photos/<sha256>.<ext> (copied beside it on export)
    caption: str


Block = Para | Bullets | KV | Table | Figure | Sub | Photo


@dataclass
class Section:
    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    page_break: bool = False


@dataclass
class Stamp:
    state: str = "draft"
    version: int = 1
    report_id: int | None = None
    created_by: str = ""
    created_at: datetime | None = None
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    released_by: str | None = None
    released_at: datetime | None = None
    seal: str | None = None  # the sealed chain head at release (incident.evidence.seal)


@dataclass
class Document:
    kind: str
    lang: str
    title: str
    subtitle: str
    meta: list[tuple[str, str]]
    exercise: bool
    sections: list[Section]
    footer: list[str]


# ---------------------------------------------------------------- formatting helpers


def fmt_conc(x: float | None) -> str:
    """Three significant figures, never in exponent form (0.000512, 0.0481, 1.23, 123)."""
    if x is None:
        return "—"
    if x == 0:
        return "0"
    digits = 2 - math.floor(math.log10(abs(x)))
    return f"{x:.{max(digits, 0)}f}"


def fmt_limit(x: float | None) -> str:
    """A limit or detection limit as written in the standard: 0.017, 0.0005, 1 (no trailing zeros)."""
    if x is None:
        return "—"
    return f"{x:.6f}".rstrip("0").rstrip(".") if abs(x) >= 1e-6 else f"{x:g}"


def fmt_multiple(m: float) -> str:
    return f"{m:.2g}" if m < 1 else f"{m:.1f}" if m < 100 else f"{m:.0f}"


class Words:
    """The report's language: ``w("key")`` reads ``rpt.key`` in the report's language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, key: str, **params: object) -> str:
        return t(f"rpt.{key}", lang=self.lang, **params)

    def opt(self, group: str, key: str | None) -> str:
        if not key:
            return "—"
        text = t(f"rpt.{group}.{key}", lang=self.lang)
        return key if text == f"rpt.{group}.{key}" else text

    def name(self, en: str | None, zh: str | None) -> str:
        return bilingual(en, zh, lang=self.lang)


def result_text(r: ResultRow, w: Words) -> str:
    if r.kind == "qualitative":
        return w("detected") if r.detected else w("not_detected")
    if r.non_detect:
        return (
            w("nd", dl=fmt_limit(r.detection_limit_mg_l))
            if r.detection_limit_mg_l is not None
            else w("not_detected")
        )
    if r.kind == "semi_quantitative":
        lo = fmt_conc(r.value_mg_l)
        hi = (
            fmt_conc(r.value_mg_l * r.value_high / r.value)
            if r.value and r.value_high and r.value_mg_l is not None
            else "?"
        )
        return f"{lo}–{hi}"
    if r.value_mg_l is None and r.value is not None:
        return f"{r.value:g} {r.unit}"
    return fmt_conc(r.value_mg_l)


def result_with_unit(r: ResultRow, w: Words) -> str:
    text = result_text(r, w)
    if r.kind == "qualitative" or r.non_detect or (r.value_mg_l is None and r.value is not None):
        return text
    return f"{text} mg/L"


def multiple_text(r: ResultRow, w: Words) -> str:
    if r.multiple is None:
        if r.limit_mg_l is None or r.kind == "qualitative":
            return "—"
        return w("within_limit")
    return w("times_over", m=fmt_multiple(r.multiple))


def qc_text(r: ResultRow, w: Words) -> str:
    return w("sep").join(w.opt("qc_kind", k) for k in r.qc_flags)


def held_text(r: ResultRow, w: Words) -> str:
    return w("sep").join(w.opt("hold_kind", h.kind) for h in r.open_holds)


def status_text(r: ResultRow, w: Words) -> str:
    parts = [w.opt("status", r.status)]
    if r.qc_flags:
        parts.append(w("qc_flagged", flag=qc_text(r, w)))
    if r.held:
        parts.append(w("held_flag", flag=held_text(r, w)))
    if r.corrected:
        parts.append(w("corrected"))
    return "; ".join(parts)


def substance_name(data: ReportData, w: Words) -> str:
    if data.pollutant:
        return w.name(data.pollutant.get("name"), data.pollutant.get("name_zh"))
    return data.substance or w("unknown")


def _paras(text: str) -> list[Para]:
    return [Para(p.strip()) for p in re.split(r"\n\s*\n", text or "") if p.strip()]


# ---------------------------------------------------------------- shared sections


def basics_blocks(data: ReportData, w: Words) -> list[Block]:
    where = "—"
    if data.source_reach:
        where = w(
            "where_value",
            river=w.name(data.river_name, data.river_name_zh),
            reach=data.source_reach,
            km=f"{data.source_km:.1f}",
        )
    coords = (
        f"{data.source_lat:.5f}, {data.source_lon:.5f} ({data.source_datum})"
        if data.source_lat is not None and data.source_lon is not None
        else "—"
    )
    release = fmt_local(data.release_start)
    if data.release_duration_h:
        release += " " + w("over_hours", h=f"{data.release_duration_h:g}")
    kv = KV(
        [
            (w("f_code"), data.code),
            (w("f_title"), w.name(data.title, data.title_zh)),
            (w("f_medium"), w.opt("medium", data.medium)),
            (w("f_alert"), fmt_local(data.alert_at)),
            (w("f_release"), release),
            (w("f_where"), where),
            (w("f_coords"), coords),
            (w("f_substance"), substance_name(data, w)),
            (w("f_mass"), f"{data.mass_kg:,.0f} kg" if data.mass_kg is not None else w("unknown")),
            (
                w("f_standard"),
                f"{fmt_limit(data.limit_mg_l)} mg/L ({w.name(data.standard, data.standard_zh)})"
                if data.limit_mg_l is not None
                else w("no_standard"),
            ),
            (w("f_status"), w.opt("incident_status", data.status)),
        ]
    )
    blocks: list[Block] = [kv, *_paras(data.description)]
    blocks.append(Sub(w("receptors_title")))
    blocks.append(receptor_table(data, w))
    cited = forecast_citation(data, w)
    if cited:
        blocks.append(Para(cited))
    return blocks


def receptor_table(data: ReportData, w: Words) -> Block:
    if not data.receptors:
        return Para(w("no_receptors"))
    rows = []
    for r in data.receptors:
        arrival = fmt_local(r.arrival_at) if r.arrival_at else w("arrival_unknown")
        if r.arrival_source:
            arrival += f" ({w.opt('arrival_source', r.arrival_source)})"
        rows.append(
            [
                Cell(w.name(r.name, r.name_zh), "intake" if r.kind == "drinking_water_intake" else ""),
                Cell(w.opt("rkind", r.kind)),
                Cell(f"{r.km:.1f}", "num"),
                Cell(f"{r.distance_km:.1f}", "num"),
                Cell(f"{r.population_served:,}" if r.population_served else "—", "num"),
                Cell(arrival),
            ]
        )
    return Table(
        [w("h_receptor"), w("h_kind"), w("h_km"), w("h_distance_km"), w("h_population"), w("h_arrival")],
        rows,
    )


def work_blocks(data: ReportData, w: Words) -> list[Block]:
    normal_points = sorted({r.point_label for r in data.results if r.point_label != "—"})
    blocks: list[Block] = [
        Para(
            w(
                "work_summary",
                alert=fmt_local(data.alert_at),
                as_of=fmt_local(data.as_of),
                revisions=data.plan_revisions,
                rounds=sum(1 for r in data.rounds if r.status == "sampled"),
                samples=data.samples,
                results=len(data.results),
                points=len(normal_points),
                crews=len(data.crews),
            )
        )
    ]
    blocks.append(Sub(w("plan_title", rev=data.plan_revision or "—")))
    if data.points:
        if data.plan_reason:
            blocks.append(Para(w("plan_reason", reason=data.plan_reason)))
        blocks.append(
            Table(
                [w("h_point"), w("h_role"), w("h_name"), w("h_km"), w("h_distance_km"), w("h_coords")],
                [
                    [
                        Cell(p.number),
                        Cell(w.opt("role", p.role)),
                        Cell(p.name + (f" ({w('removed')})" if p.removed else "")),
                        Cell(f"{p.km:.2f}", "num"),
                        Cell(f"{p.distance_from_source_m / 1000:+.2f}", "num"),
                        Cell(f"{p.lat:.5f}, {p.lon:.5f}"),
                    ]
                    for p in data.points
                ],
                note=w("distance_note"),
            )
        )
    else:
        blocks.append(Para(w("no_plan")))
    blocks.append(Sub(w("rounds_title")))
    if data.rounds:
        blocks.append(
            Table(
                [w("h_round"), w("h_planned"), w("h_purpose"), w("h_status"), w("h_samples")],
                [
                    [
                        Cell(str(r.number), "num"),
                        Cell(fmt_local(r.planned_at)),
                        Cell(w.opt("purpose", r.purpose)),
                        Cell(w.opt("round_status", r.status)),
                        Cell(str(r.samples), "num"),
                    ]
                    for r in data.rounds
                ],
            )
        )
    else:
        blocks.append(Para(w("no_rounds")))
    blocks.append(Sub(w("crews_title")))
    if data.crews:
        blocks.append(
            Table(
                [w("h_crew"), w("h_leader"), w("h_headcount"), w("h_unit"), w("h_points")],
                [
                    [
                        Cell(c.name),
                        Cell(c.leader or "—"),
                        Cell(str(c.headcount) if c.headcount is not None else "—", "num"),
                        Cell(c.home_unit or "—"),
                        Cell(", ".join(c.points) or "—"),
                    ]
                    for c in data.crews
                ],
            )
        )
    else:
        blocks.append(Para(w("no_crews")))
    blocks.append(Sub(w("qa_title")))
    blocks.extend(qa_blocks(data, w))
    if data.chronology:
        blocks.append(Sub(w("chronology_title")))
        shown = data.chronology[-CHRONOLOGY_MAX:]
        blocks.append(
            Table(
                [w("h_time"), w("h_actor"), w("h_activity")],
                [[Cell(fmt_local(e.at)), Cell(e.actor), Cell(e.summary)] for e in shown],
                note=w("chronology_more", n=len(data.chronology) - len(shown))
                if len(shown) < len(data.chronology)
                else "",
            )
        )
    return blocks


def qa_blocks(data: ReportData, w: Words) -> list[Block]:
    blanks = [r for r in data.qc_results if r.sample_type == "field_blank"]
    parallels = [r for r in data.qc_results if r.sample_type == "parallel"]
    flagged = [r for r in data.results + data.qc_results if r.qc_flags]
    items = [
        w("qa_counts", blanks=len(blanks), parallels=len(parallels), flagged=len(flagged)),
        w("custody_counts", transfers=data.custody_transfers, samples=data.samples),
    ]
    if data.samples_without_custody:
        items.append(w("custody_missing", codes=", ".join(data.samples_without_custody)))
    if data.suspected:
        items.append(w("suspected_pending", n=len(data.suspected)))
    blocks: list[Block] = [Bullets(items)]
    if flagged:
        blocks.append(
            Table(
                [w("h_sample"), w("h_type"), w("h_parameter"), w("h_result"), w("h_qc")],
                [
                    [
                        Cell(r.sample),
                        Cell(w.opt("sample_type", r.sample_type)),
                        Cell(r.parameter),
                        Cell(result_text(r, w)),
                        Cell(qc_text(r, w), "qc"),
                    ]
                    for r in flagged
                ],
                cls="qc-table",
            )
        )
    return blocks


def _latest_by_point(data: ReportData) -> dict[str, ResultRow]:
    latest: dict[str, ResultRow] = {}
    for r in data.counted:
        if data.substance and r.parameter != data.substance:
            continue
        if r.point_label not in latest or r.sampled_at >= latest[r.point_label].sampled_at:
            latest[r.point_label] = r
    return latest


def finding_lines(data: ReportData, w: Words) -> list[str]:
    """Conclusions drawn from the data (stated, not guessed)."""
    lines: list[str] = []
    name = substance_name(data, w)
    quant = [r for r in data.counted if r.value_mg_l is not None and not r.non_detect]
    if not data.results:
        return [w("no_results_yet")]
    top = max(quant, key=lambda r: r.value_mg_l or 0, default=None)
    if top is not None:
        lines.append(
            w(
                "max_observed",
                substance=top.parameter if top.parameter != data.substance else name,
                value=fmt_conc(top.value_mg_l),
                point=top.point,
                at=fmt_local(top.sampled_at),
                over=w("max_over", m=multiple_text(top, w)) if top.counts_as_exceedance else "",
            )
        )
    latest = _latest_by_point(data)
    over = [r for r in latest.values() if r.counts_as_exceedance]
    ok = [r for r in latest.values() if not r.counts_as_exceedance and r.limit_mg_l is not None]
    if over:
        lines.append(
            w(
                "latest_over",
                points=w("sep").join(f"{r.point} ({multiple_text(r, w)})" for r in sorted(over, key=_dist)),
            )
        )
    if ok:
        lines.append(w("latest_ok", points=w("sep").join(r.point_label for r in sorted(ok, key=_dist))))
    # trend at each point from its last two quantitative values
    for point in sorted(latest, key=lambda p: _dist(latest[p])):
        series = sorted(
            (
                r
                for r in data.counted
                if r.point == point and r.parameter == latest[point].parameter and r.plotted_mg_l is not None
            ),
            key=lambda r: r.sampled_at,
        )
        if len(series) >= 2 and not (series[-2].non_detect and series[-1].non_detect):
            a, b = series[-2].plotted_mg_l or 0, series[-1].plotted_mg_l or 0
            trend = "rising" if b > a * 1.1 else "falling" if b < a * 0.9 else "steady"
            lines.append(
                w(
                    "trend_line",
                    point=point,
                    trend=w.opt("trend", trend),
                    a=result_with_unit(series[-2], w),
                    b=result_with_unit(series[-1], w),
                )
            )
    for r in data.suspected:
        lines.append(
            w(
                "suspected_line",
                point=r.point,
                sample=r.sample,
                value=result_with_unit(r, w),
                method=r.method,
            )
        )
    for r in data.held:
        lines.append(
            w(
                "held_line",
                point=r.point,
                sample=r.sample,
                value=result_with_unit(r, w),
                reason=w("sep").join(h.reason for h in r.open_holds),
            )
        )
    for rc in data.receptors:
        if rc.kind == "drinking_water_intake" and rc.arrival_at is not None:
            lines.append(
                w(
                    "intake_arrival",
                    name=w.name(rc.name, rc.name_zh),
                    at=fmt_local(rc.arrival_at),
                    source=w.opt("arrival_source", rc.arrival_source),
                )
            )
    if data.status in ("termination_proposed", "terminated"):
        lines.append(w("termination_" + data.status))
    return lines


def _dist(r: ResultRow) -> float:
    return r.point_distance_m if r.point_distance_m is not None else math.inf


def recommendation_lines(data: ReportData, w: Words) -> list[str]:
    lines: list[str] = []
    latest = _latest_by_point(data)
    if any(r.counts_as_exceedance for r in latest.values()):
        lines.append(w("rec_continue"))
    if data.suspected:
        lines.append(w("rec_confirm"))
    intakes = [rc for rc in data.receptors if rc.kind == "drinking_water_intake"]
    if intakes and data.exceedances:
        lines.append(w("rec_intakes", names=w("sep").join(w.name(rc.name, rc.name_zh) for rc in intakes[:3])))
    if data.samples_without_custody:
        lines.append(w("rec_custody"))
    return lines


# ---------------------------------------------------------------- attachments


def trend_figure(data: ReportData, w: Words, parameter: str) -> Figure:
    by_point: dict[str, Series] = {}
    for r in data.results:
        if r.parameter != parameter or r.plotted_mg_l is None or r.point == "—":
            continue
        s = by_point.setdefault(r.point_label, Series(r.point_label))
        s.observations.append(
            Obs(r.sampled_at, r.plotted_mg_l, r.non_detect, r.status == "suspected", r.exceeds)
        )
    fc = data.forecast
    if fc is not None and parameter == (data.substance or parameter):
        for label, s in by_point.items():
            p = data.point_by_number(label)
            keys = {label} | ({p.receptor_id} if p and p.receptor_id else set())
            for i, fp in enumerate(fc.points):
                if fp.label in keys:
                    s.forecast = [
                        (fc.at(float(h)), float(c))
                        for h, c in zip(fc.times_h, fc.curves_mg_l[i], strict=False)
                    ]
                    break
    order = {p.number: p.distance_from_source_m for p in data.all_points.values()}
    series = sorted(by_point.values(), key=lambda s: order.get(s.label, math.inf))
    limit = data.limit_mg_l if parameter == data.substance else None
    if limit is None:
        limit = next((r.limit_mg_l for r in data.results if r.parameter == parameter), None)
    title = w("trend_title", parameter=_param_name(parameter, data, w))
    svg = trend_chart_svg(
        series,
        limit=limit,
        text=ChartText(
            title=title,
            y_label=w("chart_y"),
            limit_label=w("chart_limit"),
            forecast_label=w("chart_forecast"),
            nd_label=w("chart_nd"),
            suspected_label=w("chart_suspected"),
            no_data=w("chart_no_data"),
        ),
        chart_id=f"trend-{re.sub(r'[^a-z0-9]+', '-', parameter.lower())}",
    )
    return Figure(svg, title, w("trend_fallback", n=sum(len(s.observations) for s in series)))


def _param_name(parameter: str, data: ReportData, w: Words) -> str:
    from incident.reports.data import pollutants

    info = pollutants().get(parameter)
    return w.name(info.get("name"), info.get("name_zh")) if info else parameter


def method_table(data: ReportData, w: Words) -> Block:
    if not data.methods:
        return Para(w("no_methods"))
    return Table(
        [
            w("h_parameter"),
            w("h_method"),
            w("h_method_kind"),
            w("h_principle"),
            w("h_instrument"),
            w("h_dl"),
            w("h_n"),
        ],
        [
            [
                Cell(_param_name(m.parameter, data, w)),
                Cell(m.method or "—"),
                Cell(w.opt("method_kind", m.method_kind)),
                Cell(m.principle or "—"),
                Cell("; ".join(m.instruments) or "—"),
                Cell(fmt_limit(m.dl_mg_l), "num"),
                Cell(str(m.count), "num"),
            ]
            for m in data.methods
        ],
        cls="method-table",
    )


def data_table(data: ReportData, w: Words) -> Block:
    if not data.results:
        return Para(w("no_results_yet"))
    rows = []
    for r in data.results:
        marks = ["exceed"] if r.exceeds else ["nd"] if r.non_detect else []
        if r.status == "suspected":
            marks.append("suspected")
        cls = " ".join(marks)
        rows.append(
            [
                Cell(str(r.round) if r.round is not None else "—", "num"),
                Cell(r.point_label),
                Cell(fmt_local(r.sampled_at)),
                Cell(r.sample),
                Cell(_param_name(r.parameter, data, w)),
                Cell(result_text(r, w), ("num " + cls).strip()),
                Cell(fmt_limit(r.limit_mg_l), "num"),
                Cell(multiple_text(r, w), cls),
                Cell(
                    f"{w.opt('method_kind', r.method_kind)}; {status_text(r, w)}",
                    "suspected" if r.status == "suspected" else "qc" if r.flagged else "",
                ),
            ]
        )
    return Table(
        [
            w("h_round"),
            w("h_point"),
            w("h_time"),
            w("h_sample"),
            w("h_parameter"),
            w("h_result_mgl"),
            w("h_limit_mgl"),
            w("h_multiple"),
            w("h_status"),
        ],
        rows,
        note=w("data_note"),
        cls="data-table",
    )


def map_figure(data: ReportData, w: Words) -> Figure:
    net = data.network
    features: list[MapPoint] = []
    if data.source_lat is not None and data.source_lon is not None:
        lat, lon = data.source_lat, data.source_lon
        if net is not None and data.source_reach and data.source_km is not None:
            lat, lon = net.point_at(data.source_reach, net.offset_for_km(data.source_reach, data.source_km))
        features.append(MapPoint(w("map_source"), lat, lon, "source", substance_name(data, w)))
    pts = data.points
    for p in pts:
        if not p.removed:
            features.append(MapPoint(p.number, p.lat, p.lon, f"point:{p.role}", f"{p.number} {p.name}"))
    for rc in data.receptors:
        if net is None:
            break
        rd = next((r for r in net.receptors if r.receptor_id == rc.receptor_id), None)
        if rd is None:
            continue
        kind = {"drinking_water_intake": "intake", "automatic_station": "station"}.get(rc.kind, "other")
        # receptors far beyond the last point only crowd the map: keep the first intake past the points
        last_km = max((p.distance_from_source_m for p in pts), default=0) / 1000
        if rc.distance_km > last_km + 5 and any(f.kind == "intake" for f in features):
            continue
        features.append(MapPoint(w.name(rc.name, rc.name_zh), rd.lat, rd.lon, kind, rc.receptor_id))
    reaches = [r.coords for r in net.reaches] if net else []
    arrow = None
    if net is not None and data.source_reach and data.source_km is not None:
        off = net.offset_for_km(data.source_reach, data.source_km)
        arrow = (
            net.point_at(data.source_reach, max(off - 1500, 0)),
            net.point_at(data.source_reach, max(off - 500, 0)),
        )
    title = w("map_title")
    svg = point_map_svg(
        reaches,
        features,
        text=MapText(
            title=title,
            north=w("map_north"),
            flow=w("map_flow"),
            source=w("map_source"),
            intake=w("map_intake"),
            station=w("map_station"),
            point=w("map_point"),
            control=w("map_control"),
            datum_note=w("map_datum"),
        ),
        flow_arrow=arrow,
    )
    return Figure(svg, title, w("map_fallback", n=len(pts)))


def pollutant_blocks(data: ReportData, w: Words) -> list[Block]:
    info = data.pollutant
    if not info:
        return [Para(w("no_pollutant_info", substance=data.substance or w("unknown")))]
    return [
        KV(
            [
                (w("p_name"), w.name(info.get("name"), info.get("name_zh"))),
                (w("p_cas"), info.get("cas") or "—"),
                (w("p_formula"), info.get("formula") or "—"),
                (w("p_properties"), w.name(info.get("properties"), info.get("properties_zh"))),
                (w("p_hazards"), w.name(info.get("hazards"), info.get("hazards_zh"))),
                (
                    w("p_limit"),
                    f"{fmt_limit(info.get('limit_mg_l'))} mg/L — "
                    + w.name(info.get("standard"), info.get("standard_zh")),
                ),
            ]
        ),
        Para(w("pollutant_source")),
    ]


def attachment_blocks(data: ReportData, w: Words, *, with_pollutant: bool) -> list[Block]:
    blocks: list[Block] = []
    n = 1
    params = sorted({r.parameter for r in data.results}, key=lambda p: (p != data.substance, p))
    if not params and data.substance:
        params = [data.substance]
    blocks.append(Sub(w("att_trend", n=n)))
    for p in params:
        blocks.append(trend_figure(data, w, p))
    n += 1
    blocks.append(Sub(w("att_methods", n=n)))
    blocks.append(method_table(data, w))
    n += 1
    blocks.append(Sub(w("att_data", n=n)))
    blocks.append(data_table(data, w))
    n += 1
    blocks.append(Sub(w("att_map", n=n)))
    blocks.append(map_figure(data, w))
    if with_pollutant:
        n += 1
        blocks.append(Sub(w("att_pollutant", n=n)))
        blocks.extend(pollutant_blocks(data, w))
    if data.survey is not None:
        n += 1
        blocks.append(Sub(w("att_survey", n=n)))
        blocks.extend(survey_blocks(data, w))
    n += 1
    blocks.append(Sub(w("att_photos", n=n)))
    blocks.extend(photo_blocks(data, w))
    return blocks


def survey_blocks(data: ReportData, w: Words) -> list[Block]:
    """HJ 589 Appendix A: every field, entered or filled from the incident, in the form's order."""
    survey = data.survey
    if survey is None:
        return []

    def S(k: str, **p: object) -> str:
        return t(f"survey.{k}", lang=w.lang, **p)

    rows = []
    for f in survey.fields:
        if f.name == "photos":
            value = S("photos_count", n=len(data.photos)) if data.photos else S("empty")
        else:
            value = f.value or S("empty")
            if f.source == "incident":
                value += f" ({S('source_incident')})"
        rows.append((f.label(w.lang), value))
    note = (
        S("revision", n=survey.revision, at=survey.recorded_at, by=survey.recorded_by)
        if survey.revision
        else S("no_revision")
    )
    return [KV(rows), Para(note)]


def photo_blocks(data: ReportData, w: Words) -> list[Block]:
    """The photos listed (number, caption, point, time, SHA-256) and shown from ``photos/`` beside the report."""
    from incident.reports.photos import PHOTO_DIR

    def S(k: str, **p: object) -> str:
        return t(f"survey.{k}", lang=w.lang, **p)

    if not data.photos:
        return [Para(S("no_photos"))]
    blocks: list[Block] = [
        Table(
            [S("h_no"), S("h_caption"), S("h_point"), S("h_taken"), S("h_file"), S("h_sha")],
            [
                [
                    Cell(str(p.number), "num"),
                    Cell(p.caption or p.original_name),
                    Cell(p.point or "—"),
                    Cell(fmt_local(p.taken_at) if p.taken_at else "—"),
                    Cell(f"{PHOTO_DIR}/{p.stored_name}"),
                    Cell(p.sha256),
                ]
                for p in data.photos
            ],
        )
    ]
    for p in data.photos:
        caption = f"{S('photos_title')} {p.number}: {p.caption or p.original_name}"
        blocks.append(Photo(f"{PHOTO_DIR}/{p.stored_name}", caption))
    return blocks


# ---------------------------------------------------------------- the three reports


def _meta(data: ReportData, w: Words, stamp: Stamp) -> list[tuple[str, str]]:
    return [
        (w("m_incident"), f"{data.code} · {w.name(data.title, data.title_zh)}"),
        (w("m_as_of"), fmt_local(data.as_of) + " (UTC+8)"),
        (w("m_version"), f"v{stamp.version}" + (f" · #{stamp.report_id}" if stamp.report_id else "")),
        (w("m_author"), stamp.created_by or "—"),
    ]


def forecast_citation(data: ReportData, w: Words) -> str | None:
    """Which stored forecast the report's arrival times and curves come from (id, hash, when, who)."""
    if data.forecast_id is None:
        return None
    return w(
        "forecast_cited",
        id=data.forecast_id,
        sha=(data.forecast_sha256 or "")[:16],
        at=fmt_local(data.forecast_made_at),
        by=data.forecast_made_by or "—",
    )


def _footer(data: ReportData, w: Words) -> list[str]:
    head = (data.log_head or "")[:16]
    lines = [w("footer_generated", version=__version__, code=data.code, n=data.log_entries, head=head or "—")]
    cited = forecast_citation(data, w)
    return lines + ([cited] if cited else [])


def build_monitoring(
    data: ReportData, lang: str, stamp: Stamp, number: int, inputs: dict[str, Any]
) -> Document:
    w = Words(lang)
    conclusions: list[Block] = [Sub(w("findings_title")), Bullets(finding_lines(data, w))]
    conclusions.extend(_paras(inputs.get("conclusions", "")))
    recs = recommendation_lines(data, w)
    conclusions.append(Sub(w("recommendations_title")))
    if recs:
        conclusions.append(Bullets(recs))
    conclusions.extend(_paras(inputs.get("recommendations", "")))
    if not recs and not inputs.get("recommendations"):
        conclusions.append(Para(w("no_recommendations")))
    if inputs.get("termination"):
        conclusions.append(Sub(w("termination_title")))
        conclusions.extend(_paras(inputs["termination"]))
    return Document(
        kind="monitoring",
        lang=lang,
        title=w("title_monitoring", n=number),
        subtitle=w.name(data.title, data.title_zh),
        meta=_meta(data, w, stamp),
        exercise=data.is_exercise,
        sections=[
            Section("part-1", w("part1"), basics_blocks(data, w)),
            Section("part-2", w("part2"), work_blocks(data, w)),
            Section("part-3", w("part3"), conclusions),
            Section(
                "part-4", w("part4"), attachment_blocks(data, w, with_pollutant=number == 1), page_break=True
            ),
        ],
        footer=_footer(data, w),
    )


def build_summary(data: ReportData, lang: str, stamp: Stamp, number: int, inputs: dict[str, Any]) -> Document:
    w = Words(lang)
    key_times = key_time_rows(data, w)
    lessons: list[Block] = [*_paras(inputs.get("lessons", ""))] or [Para(w("lessons_missing"), "missing")]
    lessons.append(Sub(w("key_times_title")))
    lessons.append(Table([w("h_milestone"), w("h_time"), w("h_after_alert")], key_times))
    lessons.append(Sub(w("findings_title")))
    lessons.append(Bullets(finding_lines(data, w)))
    return Document(
        kind="summary",
        lang=lang,
        title=w("title_summary"),
        subtitle=w.name(data.title, data.title_zh),
        meta=_meta(data, w, stamp),
        exercise=data.is_exercise,
        sections=[
            Section("part-1", w("part1"), basics_blocks(data, w)),
            Section("part-2", w("part2"), work_blocks(data, w)),
            Section("part-3", w("part3_lessons"), lessons),
            Section("part-4", w("part4"), attachment_blocks(data, w, with_pollutant=True), page_break=True),
        ],
        footer=_footer(data, w),
    )


def key_time_rows(data: ReportData, w: Words) -> list[list[Cell]]:
    all_results = data.results + data.qc_results
    first_sample = min((r.sampled_at for r in all_results), default=None)
    last_sample = max((r.sampled_at for r in all_results), default=None)
    first_exceed = min((r.sampled_at for r in data.exceedances), default=None)
    rows = [
        ("alert", data.alert_at),
        ("first_sample", first_sample),
        ("first_exceedance", first_exceed),
        ("last_sample", last_sample),
    ]
    out = []
    for key, at in rows:
        after = "—"
        if at is not None:
            minutes = (at - data.alert_at).total_seconds() / 60
            after = f"{int(minutes // 60)} h {int(minutes % 60):02d} min"
        out.append([Cell(w.opt("milestone", key)), Cell(fmt_local(at)), Cell(after, "num")])
    return out


def build_flash(data: ReportData, lang: str, stamp: Stamp, number: int, inputs: dict[str, Any]) -> Document:
    w = Words(lang)
    where = "—"
    if data.source_reach:
        where = w(
            "where_value",
            river=w.name(data.river_name, data.river_name_zh),
            reach=data.source_reach,
            km=f"{data.source_km:.1f}",
        )
        if data.source_lat is not None:
            where += f"; {data.source_lat:.5f}, {data.source_lon:.5f} ({data.source_datum})"
    what = w(
        "flash_what",
        substance=substance_name(data, w),
        mass=f"{data.mass_kg:,.0f} kg" if data.mass_kg is not None else w("unknown"),
    )
    when = w("flash_when", alert=fmt_local(data.alert_at), release=fmt_local(data.release_start))
    intakes = [rc for rc in data.receptors if rc.kind == "drinking_water_intake"]
    threatened = [
        w(
            "flash_intake",
            name=w.name(rc.name, rc.name_zh),
            km=f"{rc.distance_km:.1f}",
            pop=f"{rc.population_served:,}" if rc.population_served else "—",
            arrival=(
                f"{fmt_local(rc.arrival_at)} ({w.opt('arrival_source', rc.arrival_source)})"
                if rc.arrival_at
                else w("arrival_unknown")
            ),
        )
        for rc in intakes
    ] or [w("flash_no_intakes")]
    latest = _latest_by_point(data)
    first_results = [
        w(
            "flash_result",
            point=r.point,
            at=fmt_local(r.sampled_at, with_date=False),
            value=result_with_unit(r, w),
            eval=multiple_text(r, w),
            status=w.opt("status", r.status),
        )
        for r in sorted(latest.values(), key=_dist)
    ] or [w("no_results_yet")]
    next_steps = [p.text for p in _paras(inputs.get("next_steps", ""))]
    upcoming = [r for r in data.rounds if r.status == "planned"]
    if upcoming:
        nxt = upcoming[0]
        next_steps.append(w("flash_next_round", n=nxt.number, at=fmt_local(nxt.planned_at)))
    if data.suspected:
        next_steps.append(w("rec_confirm"))
    if not next_steps:
        next_steps = [w("flash_next_default")]
    blocks: list[Block] = [
        KV(
            [
                (w("flash_k_what"), what),
                (w("flash_k_where"), where),
                (w("flash_k_when"), when),
                (w("flash_k_status"), w.opt("incident_status", data.status)),
            ]
        ),
        *_paras(data.description),
        Sub(w("flash_k_intakes")),
        Bullets(threatened),
        Sub(w("flash_k_results")),
        Bullets(first_results),
        Sub(w("flash_k_next")),
        Bullets(next_steps),
    ]
    if inputs.get("notes"):
        blocks.extend(_paras(inputs["notes"]))
    return Document(
        kind="flash",
        lang=lang,
        title=w("title_flash", n=number),
        subtitle=w.name(data.title, data.title_zh),
        meta=_meta(data, w, stamp),
        exercise=data.is_exercise,
        sections=[Section("flash", w("flash_section"), blocks)],
        footer=_footer(data, w),
    )


BUILDERS: dict[str, Callable[[ReportData, str, Stamp, int, dict[str, Any]], Document]] = {
    "flash": build_flash,
    "monitoring": build_monitoring,
    "summary": build_summary,
}


def build(
    kind: str, data: ReportData, lang: str, stamp: Stamp, number: int, inputs: dict[str, Any]
) -> Document:
    return BUILDERS[kind](data, lang, stamp, number, inputs)


# ---------------------------------------------------------------- stamps (state + signatures)

_STAMP_RE = r"<!-- stamp:{name} -->.*?<!-- /stamp:{name} -->"


def _literally(text: str) -> Callable[[re.Match[str]], str]:
    """A ``re.sub`` replacement that inserts ``text`` as it is (backslashes are not escapes)."""
    return lambda _m: text


def _wrap(name: str, body: str) -> str:
    return f"<!-- stamp:{name} -->{body}<!-- /stamp:{name} -->"


def _state_line(stamp: Stamp, w: Words) -> str:
    return w(f"state_{stamp.state}", v=stamp.version)


def _signatures(stamp: Stamp, w: Words) -> list[tuple[str, str, str]]:
    return [
        (w("sig_author"), stamp.created_by or "", fmt_local(stamp.created_at) if stamp.created_at else ""),
        (
            w("sig_reviewer"),
            stamp.reviewed_by or "",
            fmt_local(stamp.reviewed_at) if stamp.reviewed_at else "",
        ),
        (
            w("sig_release"),
            stamp.released_by or "",
            fmt_local(stamp.released_at) if stamp.released_at else "",
        ),
    ]


def stamp_md(stamp: Stamp, lang: str) -> dict[str, str]:
    w = Words(lang)
    rows = [
        f"| {w('sig_role')} | {w('sig_name')} | {w('sig_time')} | {w('sig_signature')} |",
        "|---|---|---|---|",
    ]
    rows += [f"| {md(r)} | {md(n) or ' '} | {md(at) or ' '} | |" for r, n, at in _signatures(stamp, w)]
    if stamp.seal:
        rows += ["", f"{md(w('sig_seal'))}: `{stamp.seal}`"]
    return {
        "state": f"\n\n**{md(_state_line(stamp, w))}**\n\n",
        "signatures": "\n\n" + "\n".join(rows) + "\n\n",
    }


def stamp_html(stamp: Stamp, lang: str) -> dict[str, str]:
    w = Words(lang)
    rows = "".join(
        f"<tr><th>{escape(r)}</th><td>{escape(n)}</td><td>{escape(at)}</td><td class='sign'></td></tr>"
        for r, n, at in _signatures(stamp, w)
    )
    return {
        "state": f'<p class="state state-{stamp.state}">{escape(_state_line(stamp, w))}</p>',
        "signatures": (
            f'<table class="signatures"><thead><tr><th>{escape(w("sig_role"))}</th><th>{escape(w("sig_name"))}'
            f"</th><th>{escape(w('sig_time'))}</th><th>{escape(w('sig_signature'))}</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            + (
                f'<p class="seal">{escape(w("sig_seal"))}: <code>{escape(stamp.seal)}</code></p>'
                if stamp.seal
                else ""
            )
        ),
    }


def restamp(body: str, parts: dict[str, str]) -> str:
    """Rewrite the stamp regions of a rendered body (state line, signature block)."""
    for name, text in parts.items():
        pattern = _STAMP_RE.format(name=name)
        if not re.search(pattern, body, flags=re.S):
            raise ValueError(f"the report body has no stamp region {name!r}")
        body = re.sub(pattern, _literally(_wrap(name, text)), body, flags=re.S)
    return body


# ---------------------------------------------------------------- Markdown


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def to_markdown(doc: Document, stamp: Stamp) -> str:
    w = Words(doc.lang)
    out: list[str] = []
    if doc.exercise:
        out.append(f"**{EXERCISE_MARK}** — {md(w('exercise_note'))}")
        out.append("")
    out.append(f"# {md(doc.title)}")
    out.append("")
    out.append(f"**{md(doc.subtitle)}**")
    out.append("")
    for k, v in doc.meta:
        out.append(f"- {md(k)}: {md(v)}")
    stamps = stamp_md(stamp, doc.lang)
    out.append(_wrap("state", stamps["state"]))
    out.append("")
    for sec in doc.sections:
        out.append(f"## {md(sec.title)}")
        out.append("")
        if doc.exercise:
            out.append(f"**\\[{EXERCISE_MARK}\\]**")
            out.append("")
        for block in sec.blocks:
            out.extend(_md_block(block))
            out.append("")
    out.append(f"## {md(w('sig_title'))}")
    out.append("")
    if doc.exercise:
        out.append(f"**\\[{EXERCISE_MARK}\\]**")
        out.append("")
    out.append(_wrap("signatures", stamps["signatures"]))
    out.append("")
    out.append("---")
    out.extend(f"*{md(line)}*" for line in doc.footer)
    if doc.exercise:
        out.append("")
        out.append(f"**{EXERCISE_MARK}**")
    return "\n".join(out) + "\n"


def _md_cell(c: Cell) -> str:
    text = md(c.text)
    classes = c.cls.split()
    if "exceed" in classes:
        return f"**▲ {text}**"
    if "suspected" in classes:
        return f"*{text}*"
    return text


def _md_block(block: Block) -> list[str]:
    if isinstance(block, Para):
        return [md(block.text)]
    if isinstance(block, Sub):
        return [f"### {md(block.title)}"]
    if isinstance(block, Bullets):
        return [f"- {md(item)}" for item in block.items]
    if isinstance(block, KV):
        return ["| | |", "|---|---|"] + [f"| **{md(k)}** | {md(v)} |" for k, v in block.rows]
    if isinstance(block, Table):
        lines = []
        if block.caption:
            lines += [f"*{md(block.caption)}*", ""]
        lines.append("| " + " | ".join(md(h) for h in block.headers) + " |")
        lines.append(
            "|"
            + "|".join(
                "---:" if any("num" in r[i].cls for r in block.rows) else "---"
                for i in range(len(block.headers))
            )
            + "|"
        )
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
        if block.note:
            lines += ["", f"*{md(block.note)}*"]
        return lines
    if isinstance(block, Photo):
        return [f"![{md(block.caption)}]({block.src})", "", f"*{md(block.caption)}*"]
    if isinstance(block, Figure):
        data = base64.b64encode(block.svg.encode()).decode()
        return [f"![{md(block.caption)}](data:image/svg+xml;base64,{data})", "", f"*{md(block.fallback)}*"]
    raise TypeError(type(block).__name__)


def preview_markdown(body: str) -> str:
    """The Markdown without embedded images (for terminal previews)."""
    return re.sub(r"^!\[([^\]]*)\]\(data:image/svg\+xml;base64,[^)]*\)$", r"[\1]", body, flags=re.M)


# ---------------------------------------------------------------- HTML

CSS = """
@page { size: A4; margin: 18mm 15mm 18mm 15mm; }
* { box-sizing: border-box; }
html { font-family: 'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei',
  'Helvetica Neue', Arial, sans-serif; font-size: 10.5pt; color: #111; background: #fff; }
body { max-width: 190mm; margin: 0 auto; padding: 12mm 4mm; line-height: 1.45; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 2mm 0; }
h2 { font-size: 13pt; border-bottom: 1.5px solid #333; padding-bottom: 1mm; margin: 7mm 0 3mm 0; }
h3 { font-size: 11pt; margin: 5mm 0 2mm 0; }
p.subtitle { text-align: center; font-weight: bold; margin: 0 0 3mm 0; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; font-size: 9pt; }
th, td { border: 1px solid #888; padding: 1mm 1.5mm; vertical-align: top; text-align: left; }
thead th { background: #eef2f6; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.exceed { color: #a00000; font-weight: bold; background: #fde8e8; }
td.suspected { font-style: italic; background: #fff6da; }
td.nd { color: #555; }
td.qc { color: #a00000; }
table.kv th { width: 28%; background: #f5f5f5; }
table.meta { width: auto; border: none; margin: 0 auto 2mm auto; }
table.meta th, table.meta td { border: none; padding: 0 2mm; font-size: 9pt; }
table.signatures td.sign { width: 35%; height: 12mm; }
p.note { font-size: 8.5pt; color: #444; margin: 1mm 0 3mm 0; }
p.missing { color: #a00000; font-weight: bold; }
p.state { text-align: center; font-weight: bold; margin: 2mm 0; }
p.state-draft, p.state-reviewed { color: #a00000; }
figure { margin: 3mm 0; break-inside: avoid; page-break-inside: avoid; text-align: center; }
figure svg { max-width: 100%; height: auto; border: 1px solid #ccc; }
figcaption { font-size: 9pt; color: #333; }
section.page-break { break-before: page; page-break-before: always; }
footer { margin-top: 8mm; font-size: 8pt; color: #555; border-top: 1px solid #aaa; padding-top: 2mm; }
.exercise-banner { position: fixed; left: 0; right: 0; text-align: center; font-weight: bold;
  letter-spacing: 0.2em; color: #7a4b00; background: #ffe08a; border: 1px solid #c99700;
  padding: 0.5mm 0; font-size: 9pt; z-index: 10; }
.exercise-top { top: 0; }
.exercise-bottom { bottom: 0; }
p.exercise-mark { color: #7a4b00; font-weight: bold; font-size: 8.5pt; margin: 0 0 2mm 0; }
@media print {
  body { padding: 0; max-width: none; }
  a { color: inherit; text-decoration: none; }
}
""".strip()


def _h(text: str) -> str:
    return escape(str(text))


def to_html(doc: Document, stamp: Stamp) -> str:
    w = Words(doc.lang)
    html_lang = "zh-CN" if doc.lang == "zh" else "en"
    out: list[str] = [
        "<!DOCTYPE html>",
        f'<html xmlns="http://www.w3.org/1999/xhtml" lang="{html_lang}" xml:lang="{html_lang}">',
        "<head>",
        '<meta charset="utf-8"/>',
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
        f'<meta name="generator" content="incident {_h(__version__)}"/>',
        f"<title>{_h(doc.title)} — {_h(doc.subtitle)}</title>",
        f"<style>\n{CSS}\n</style>",
        "</head>",
        f'<body class="report report-{doc.kind}{" exercise" if doc.exercise else ""}">',
    ]
    if doc.exercise:
        banner = f"{EXERCISE_MARK} — {_h(w('exercise_note'))}"
        out.append(f'<div class="exercise-banner exercise-top">{banner}</div>')
        out.append(f'<div class="exercise-banner exercise-bottom">{banner}</div>')
    out.append("<header>")
    out.append(f"<h1>{_h(doc.title)}</h1>")
    out.append(f'<p class="subtitle">{_h(doc.subtitle)}</p>')
    out.append('<table class="meta"><tbody>')
    out += [f"<tr><th>{_h(k)}</th><td>{_h(v)}</td></tr>" for k, v in doc.meta]
    out.append("</tbody></table>")
    stamps = stamp_html(stamp, doc.lang)
    out.append(_wrap("state", stamps["state"]))
    out.append("</header>")
    for sec in doc.sections:
        cls = "part page-break" if sec.page_break else "part"
        out.append(f'<section id="{_h(sec.key)}" class="{cls}">')
        out.append(f"<h2>{_h(sec.title)}</h2>")
        if doc.exercise:
            out.append(f'<p class="exercise-mark">{EXERCISE_MARK}</p>')
        for block in sec.blocks:
            out.append(_html_block(block))
        out.append("</section>")
    out.append('<section id="signatures" class="signature-block">')
    out.append(f"<h2>{_h(w('sig_title'))}</h2>")
    if doc.exercise:
        out.append(f'<p class="exercise-mark">{EXERCISE_MARK}</p>')
    out.append(_wrap("signatures", stamps["signatures"]))
    out.append("</section>")
    out.append("<footer>")
    out += [f"<p>{_h(line)}</p>" for line in doc.footer]
    if doc.exercise:
        out.append(f'<p class="exercise-mark">{EXERCISE_MARK}</p>')
    out.append("</footer>")
    out.append("</body>")
    out.append("</html>")
    return "\n".join(out) + "\n"


def _html_block(block: Block) -> str:
    if isinstance(block, Para):
        cls = f' class="{_h(block.cls)}"' if block.cls else ""
        return f"<p{cls}>{_h(block.text)}</p>"
    if isinstance(block, Sub):
        return f"<h3>{_h(block.title)}</h3>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_h(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, KV):
        rows = "".join(f"<tr><th>{_h(k)}</th><td>{_h(v)}</td></tr>" for k, v in block.rows)
        return f'<table class="kv"><tbody>{rows}</tbody></table>'
    if isinstance(block, Table):
        head = "".join(f"<th>{_h(h)}</th>" for h in block.headers)
        body = "".join(
            "<tr>"
            + "".join((f'<td class="{_h(c.cls)}">' if c.cls else "<td>") + _h(c.text) + "</td>" for c in row)
            + "</tr>"
            for row in block.rows
        )
        cls = f' class="{_h(block.cls)}"' if block.cls else ""
        cap = f"<caption>{_h(block.caption)}</caption>" if block.caption else ""
        note = f'<p class="note">{_h(block.note)}</p>' if block.note else ""
        return f"<table{cls}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"
    if isinstance(block, Photo):
        return (
            f'<figure class="photo"><img src="{_h(block.src)}" alt="{_h(block.caption)}" '
            f'style="max-width:100%"/><figcaption>{_h(block.caption)}</figcaption></figure>'
        )
    if isinstance(block, Figure):
        return f"<figure>{block.svg}<figcaption>{_h(block.caption)}</figcaption></figure>"
    raise TypeError(type(block).__name__)
