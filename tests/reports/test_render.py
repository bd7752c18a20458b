"""Generated reports: valid self-contained HTML with the 4 parts and the attachments, in English and Chinese."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest

from incident.core.store.engine import session_scope
from incident.plume.forecast_types import IncidentForecast, PointForecast
from incident.reports import lifecycle as reports
from incident.reports.render import fmt_conc, fmt_limit, preview_markdown
from tests.reports.demo_records import RELEASE
from tests.reports.helpers import SVG, XHTML, by_class, check_html, section, text_of

PARTS = {
    "en": [
        "1. Incident basics",
        "2. Monitoring work done",
        "3. Conclusions and recommendations",
        "4. Attachments",
    ],
    "zh": ["一、事件基本情况", "二、应急监测工作开展情况", "三、监测结论与建议", "四、附件"],
}
OVER = {"en": "33.1 times over", "zh": "超标33.1倍"}


def _draft(engine, code, kind, lang="en", **kw):
    with session_scope(engine) as s:
        info = reports.draft_report(s, code, kind, actor="tester", lang=lang, **kw)
        return reports.get_report(s, code, info.id)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_monitoring_report_is_valid_html_with_4_parts_and_attachments(records, as_of, lang):
    engine, demo = records
    content = _draft(engine, demo.code, "monitoring", lang)
    root = check_html(content.html)
    assert root.get("lang") == ("zh-CN" if lang == "zh" else "en")

    titles = [text_of(section(root, f"part-{i}").find(XHTML + "h2")) for i in range(1, 5)]
    assert titles == PARTS[lang]

    attachments = section(root, "part-4")
    # trend chart: one line per point with observations, the limit as a dashed line at 0.017
    trend = by_class(attachments, SVG + "svg", "trend-chart")
    assert len(trend) == 1
    series = [g.get("data-label") for g in by_class(trend[0], SVG + "g", "series")]
    assert series == ["S1", "S2", "S3", "S4"]  # ordered by distance from the source
    limit = by_class(trend[0], SVG + "line", "limit-line")
    assert len(limit) == 1 and limit[0].get("stroke-dasharray")
    assert "0.017" in text_of(trend[0])
    # data table: the exceedance multiple, the non-detect, the suspected rapid result
    data = by_class(attachments, XHTML + "table", "data-table")[0]
    exceed = [text_of(td) for td in by_class(data, XHTML + "td", "exceed")]
    assert OVER[lang] in exceed
    assert any("<0.0005" in text_of(td) for td in by_class(data, XHTML + "td", "nd"))
    assert by_class(data, XHTML + "td", "suspected")
    rows = data.find(XHTML + "tbody").findall(XHTML + "tr")
    assert len(rows) == 8  # 2 rounds × 4 points; the blank and the parallel are QC, not data
    # the mistyped 5.8 was corrected: only the correction is reported
    assert "5.80" not in text_of(data) and "0.580" in text_of(data)
    # method table
    methods = by_class(attachments, XHTML + "table", "method-table")[0]
    assert "HJ 648-2013 GC" in text_of(methods) and "Agilent 8860 GC" in text_of(methods)
    # point map: source, numbered points, north arrow, scale bar
    pmap = by_class(attachments, SVG + "svg", "point-map")
    assert len(pmap) == 1
    labels = [text_of(t) for t in pmap[0].iter(SVG + "text")]
    for number in ("S1", "S2", "S3", "S4"):
        assert number in labels
    assert by_class(pmap[0], SVG + "g", "north-arrow") and by_class(pmap[0], SVG + "g", "scale-bar")
    assert by_class(pmap[0], SVG + "g", "source") and by_class(pmap[0], SVG + "g", "intake")
    # the first report carries the pollutant information
    assert "98-95-3" in text_of(attachments)


def test_html_is_self_contained_and_print_ready(records, as_of):
    engine, demo = records
    html = _draft(engine, demo.code, "monitoring").html
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "@page { size: A4" in html
    assert "break-before: page" in html
    root = check_html(html)
    sig = root.find(f".//{XHTML}table[@class='signatures']")
    assert sig is not None and len(sig.find(XHTML + "tbody").findall(XHTML + "tr")) == 3


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_markdown_has_the_same_parts_and_embedded_figures(records, as_of, lang):
    engine, demo = records
    md = _draft(engine, demo.code, "monitoring", lang).markdown
    for title in PARTS[lang]:
        assert f"\n## {title}\n" in md
    figures = re.findall(r"!\[[^\]]*\]\(data:image/svg\+xml;base64,([^)]*)\)", md)
    assert len(figures) == 2
    svg = base64.b64decode(figures[0]).decode()
    assert "trend-chart" in svg and "limit-line" in svg
    assert f"**▲ {OVER[lang]}**" in md
    assert "base64" not in preview_markdown(md)


def test_second_monitoring_report_has_no_pollutant_attachment(records, as_of):
    engine, demo = records
    first = _draft(engine, demo.code, "monitoring")
    second = _draft(engine, demo.code, "monitoring")
    assert first.info.number == 1 and second.info.number == 2
    assert "98-95-3" in first.html and "98-95-3" not in second.html
    assert "Emergency Monitoring Report No. 2" in second.html


def test_conclusions_are_drawn_from_the_data(records, as_of):
    engine, demo = records
    content = _draft(engine, demo.code, "monitoring", inputs={"conclusions": "Expert group met at 11:00."})
    part3 = text_of(section(check_html(content.html), "part-3"))
    assert "Highest Nitrobenzene concentration so far: 0.580 mg/L at S2" in part3
    assert "Latest results over the limit: S2 (11.4 times over), S3 (4.6 times over)." in part3
    assert "Latest results within the limit: S1, S4." in part3
    assert "Suspected (rapid test, not yet confirmed): S3" in part3
    assert "Expert group met at 11:00." in part3
    # the intake's expected arrival comes from the plan (no forecast given)
    assert "Xishan Waterworks intake: pollution expected from 2026-07-14 14:20 (plan)" in part3


def test_flash_report_says_what_where_when_intakes_results_next(records, as_of):
    engine, demo = records
    for lang, expect in (
        (
            "en",
            [
                "Nitrobenzene, about 8,000 kg lost",
                "reach M03, km 45.0",
                "alert 2026-07-14 08:30",
                "Xishan Waterworks intake: 23.0 km downstream, serves 180,000 people",
                "S2 at 11:23: 0.210 mg/L, 11.4 times over",
                "Next sampling round 3 at 2026-07-14 14:20.",
            ],
        ),
        ("zh", ["硝基苯,泄漏量约8,000 kg", "西山水厂取水口:位于下游23.0 km", "超标11.4倍", "第3轮采样"]),
    ):
        content = _draft(engine, demo.code, "flash", lang)
        text = text_of(check_html(content.html))
        for phrase in expect:
            assert phrase in text, phrase
        assert len(content.markdown) < 4000  # short: what a duty officer phones in


def test_summary_report_has_lessons_and_key_times(records, as_of):
    engine, demo = records
    content = _draft(engine, demo.code, "summary", inputs={"lessons": "Tubes ran out at S3."})
    root = check_html(content.html)
    assert text_of(section(root, "part-3").find(XHTML + "h2")) == "3. Lessons learned"
    part3 = text_of(section(root, "part-3"))
    assert "Tubes ran out at S3." in part3
    assert "First sample" in part3 and "0 h 50 min" in part3
    assert by_class(section(root, "part-4"), SVG + "svg", "trend-chart")


def test_forecast_adds_arrival_times_and_curves(records, as_of):
    engine, demo = records
    times = np.linspace(0, 8, 33)
    curve = 0.05 * np.exp(-((times - 6.5) ** 2) / 0.5)
    fc = IncidentForecast(
        release_start=RELEASE,
        horizon_h=8,
        substance="nitrobenzene",
        standard_mg_l=0.017,
        detection_mg_l=0.0005,
        points=[
            PointForecast(
                label="W1",
                name="Xishan",
                reach_id="M04",
                offset_m=11000,
                km=67.99,
                distance_from_source_m=22990,
                kind="drinking_water_intake",
                leading_edge_h=5.25,
                peak_h=6.5,
                peak_mg_l=0.05,
            )
        ],
        times_h=times,
        curves_mg_l=curve[None, :],
    )
    content = _draft(engine, demo.code, "monitoring", forecast=fc)
    root = check_html(content.html)
    assert "2026-07-14 13:35 (forecast)" in text_of(section(root, "part-1"))
    trend = by_class(root, SVG + "svg", "trend-chart")[0]
    s4 = [g for g in by_class(trend, SVG + "g", "series") if g.get("data-label") == "S4"][0]
    assert by_class(s4, SVG + "polyline", "forecast")


def test_number_formats():
    assert fmt_conc(0.58) == "0.580"
    assert fmt_conc(0.000512) == "0.000512"
    assert fmt_conc(123.4) == "123"
    assert fmt_limit(0.017) == "0.017" and fmt_limit(0.0001) == "0.0001" and fmt_limit(1.0) == "1"


def test_report_catalogs_have_the_same_keys_in_both_languages():
    import tomllib
    from pathlib import Path

    import incident

    def flat(d, prefix=""):
        out = set()
        for k, v in d.items():
            out |= flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k}
        return out

    root = Path(incident.__file__).parent / "locale"
    en = flat(tomllib.loads((root / "en" / "reports.toml").read_text(encoding="utf-8")))
    zh = flat(tomllib.loads((root / "zh" / "reports.toml").read_text(encoding="utf-8")))
    assert en == zh
