"""A schematic river strip: reaches, km, receptors, sampling points and the plume at a time.

    km 44      57          78               95 …
    ┬───────────┬──────────┬─────────────────┬──
    ━✖━░░██████░░━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
     ▼ ▼ ▼        ●     ▼    ●
     S1S2S3       S4    S5   S6
                  W1         A2
    t +10.0 h · 18:00 · plume km 52–63 · max 3.1 mg/L

Flow is left to right. ``░`` above the detection limit, ``█`` above the
standard; ``●`` a mandatory point, ``▼`` another, ``✖`` the source.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text
from textual.widgets import Static

from incident.core.clock import fmt_local
from incident.core.i18n import t
from incident.sampling import StripModel

RECEPTOR_LETTER = {"drinking_water_intake": "W", "automatic_station": "A", "boundary_section": "B"}


def render_strip(
    model: StripModel,
    plume: list[tuple[float, float]],
    at_h: float,
    release: datetime | None,
    width: int = 76,
) -> Text:
    width = max(20, width)
    span = model.x1_m - model.x0_m or 1.0

    def col(dist: float) -> int:
        return min(width - 1, max(0, round((dist - model.x0_m) / span * (width - 1))))

    # ticks and km labels at reach starts
    ticks = [" "] * width
    labels = [" "] * width
    for dist, _rid, km in model.reaches:
        if model.x0_m <= dist <= model.x1_m:
            c = col(dist)
            ticks[c] = "┬"
            text = f"{km:.0f}"
            if all(ch == " " for ch in labels[c : c + len(text) + 1]) and c + len(text) <= width:
                labels[c : c + len(text)] = list(text)
    # plume: the highest concentration falling in each column
    peak = [0.0] * width
    for dist, conc in plume:
        if model.x0_m <= dist <= model.x1_m:
            c = col(dist)
            peak[c] = max(peak[c], conc)
    det = model.detection_mg_l or 0.0
    std = model.standard_mg_l
    above = [i for i, c in enumerate(peak) if c > det]
    cells = [("━", "blue")] * width
    for i, top in enumerate(peak):
        if std is not None and top > std:
            cells[i] = ("█", "bold red")
        elif top > det:
            cells[i] = ("░", "yellow")
    cells[col(0.0)] = ("✖", "bold magenta")
    river = Text()
    for ch, style in cells:
        river.append(ch, style=style)

    marks = [(" ", "")] * width
    name_rows = [[" "] * width, [" "] * width]
    skipped = 0
    for p in model.points:
        c = col(p.distance_from_source_m)
        symbol, style = ("●", "bold red") if p.mandatory else ("▼", "cyan")
        if not p.active:
            symbol, style = "×", "dim"
        marks[c] = (symbol, style)
        for row in name_rows:
            if c + len(p.number) <= width and all(ch == " " for ch in row[max(0, c - 1) : c + len(p.number)]):
                row[c : c + len(p.number)] = list(p.number)
                break
        else:
            skipped += 1
    markers = Text()
    for ch, style in marks:
        markers.append(ch, style=style)
    recep = [" "] * width
    for dist, rid, kind in model.receptors:
        c = col(dist)
        letter = rid if len(rid) <= 3 else RECEPTOR_LETTER.get(kind, "R")
        if all(ch == " " for ch in recep[max(0, c - 1) : c + len(letter)]) and c + len(letter) <= width:
            recep[c : c + len(letter)] = list(letter)
    recep_text = Text("".join(recep))
    recep_text.highlight_regex(r"W\d*", "bold red")

    when = fmt_local(release + timedelta(hours=at_h)) if release else ""
    if above and peak:
        lo, hi = (
            model.km_at(model.x0_m + above[0] / (width - 1) * span),
            model.km_at(model.x0_m + above[-1] / (width - 1) * span),
        )
        mx = max(c for _, c in plume) if plume else 0.0
        status = t(
            "river_strip.status",
            hours=f"{at_h:+.1f}",
            when=when,
            lo=f"{lo:.0f}",
            hi=f"{hi:.0f}",
            max=f"{mx:.3g}",
        )
    else:
        status = t("river_strip.status_none", hours=f"{at_h:+.1f}", when=when)
    if skipped:
        status += "  " + t("river_strip.more_points", n=skipped)
    out = Text()
    out.append("km " + "".join(labels)[3:] + "\n", style="dim")
    out.append("".join(ticks) + "\n", style="dim")
    out.append_text(river)
    out.append("\n")
    out.append_text(markers)
    out.append("\n" + "".join(name_rows[0]) + "\n" + "".join(name_rows[1]) + "\n")
    out.append_text(recep_text)
    out.append("\n" + status, style="bold")
    return out


class RiverStrip(Static):
    DEFAULT_CSS = """
    RiverStrip { height: 10; border: round $primary 50%; padding: 0 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.model: StripModel | None = None
        self.plume: list[tuple[float, float]] = []
        self.at_h = 0.0
        self.release: datetime | None = None

    def show(
        self, model: StripModel, plume: list[tuple[float, float]], at_h: float, release: datetime | None
    ) -> None:
        self.model, self.plume, self.at_h, self.release = model, plume, at_h, release
        self.redraw()

    def redraw(self) -> None:
        if self.model is None:
            return
        width = max(20, self.content_region.width or 76)
        self.update(render_strip(self.model, self.plume, self.at_h, self.release, width))

    def on_resize(self) -> None:
        self.redraw()
