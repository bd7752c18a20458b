"""Exercise scenario files: the hidden truth, injects, capability targets and lab settings.

A scenario file (TOML, format in the README "Drills" section) says what the caller
*reports* (the only thing the players see when the drill starts) and, apart from
it, the *truth* the exercise control keeps hidden: where, when and how much was
really spilled. The truth is run through the same transport model as the players'
forecasts, and synthetic sample results are drawn from it.

Every problem names the file, the table and the field, and how to fix it; all
problems are reported at once.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from incident.core.datafiles import read_toml
from incident.core.errors import UserError, ValidationErrors

#: timeline milestones captured automatically (minutes after the alert on the exercise clock)
TIMELINE_METRICS = (
    "alert",
    "depart",
    "on_site",
    "first_sample",
    "first_data",
    "flash_drafted",
    "first_flash_report",
)
#: per-receptor forecast error metrics ("forecast_arrival_error:W1")
ERROR_METRICS = ("forecast_arrival_error", "forecast_peak_error")
RESULT_STYLES = ("value", "range", "qualitative")
INJECT_KINDS = ("message", "call", "flow_change", "media", "other")
DEFAULT_CV = 0.15
DEFAULT_TURNAROUND_MIN = 120.0
DEFAULT_SPEED = 1.0
MAX_SPEED = 600.0


@dataclass
class Position:
    reach: str | None = None
    km: float | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass
class Reported:
    title: str
    title_zh: str | None
    position: Position
    substance: str | None
    pollutant_class: str | None
    mass_kg: float | None
    release_duration_h: float | None
    description: str
    caller: str


@dataclass
class Truth:
    position: Position
    offset_min: float  # spill start relative to the alert (negative: before the alert)
    substance: str
    mass_kg: float
    duration_h: float
    decay_per_day: float
    background_mg_l: float
    velocity_factor: float
    dispersion_factor: float


@dataclass
class Inject:
    at_min: float
    title: str
    message: str
    sender: str
    kind: str


@dataclass
class Target:
    capability: str
    capability_zh: str | None
    metric: str
    within_min: float | None = None  # timeline targets: done within N minutes of the alert
    max_error_pct: float | None = None  # forecast targets: |error| within N % of the true travel time

    def describe(self) -> str:
        if self.within_min is not None:
            return f"{self.metric} ≤ {self.within_min:g} min"
        return f"|{self.metric}| ≤ {self.max_error_pct:g} %"


@dataclass
class LabMethod:
    key: str
    detection_limit_mg_l: float
    turnaround_min: float
    cv: float
    style: str = "value"  # value | range | qualitative
    ranges_mg_l: list[float] = field(default_factory=list)  # range style: bin edges
    instrument: str = ""  # asset tag (rapid methods name their instrument)
    lab: str = ""  # who reports it (entered_by of the result)


@dataclass
class DrillScenario:
    name: str
    name_zh: str | None
    river: str  # absolute path of the river file
    playbook: str
    speed: float
    horizon_h: float
    seed: int
    reported: Reported
    truth: Truth
    injects: list[Inject]
    targets: list[Target]
    methods: list[LabMethod]
    default_method: str
    source: str = ""  # the scenario file
    sha256: str = ""

    def method(self, key: str | None) -> LabMethod:
        wanted = (key or self.default_method).strip().lower()
        for m in self.methods:
            if m.key == wanted:
                return m
        raise UserError(
            "errors.drills.drill_s_lab_has",
            field="method",
            key_name=repr(key),
            value=", ".join(m.key for m in self.methods),
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DrillScenario:
        d = json.loads(text)
        rep = d["reported"]
        rep["position"] = Position(**rep["position"])
        tr = d["truth"]
        tr["position"] = Position(**tr["position"])
        return cls(
            **{
                **d,
                "reported": Reported(**rep),
                "truth": Truth(**tr),
                "injects": [Inject(**i) for i in d["injects"]],
                "targets": [Target(**t) for t in d["targets"]],
                "methods": [LabMethod(**m) for m in d["methods"]],
            }
        )


class _Reader:
    """Collects every problem in the file instead of stopping at the first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[UserError] = []

    def where(self, table: str, key: str | None = None) -> str:
        return f"{self.path}: {table}" + (f" {key}" if key else "")

    def fail(self, message_key: str, table: str, key: str | None, /, **params: Any) -> None:
        """Note a problem: ``message_key`` is an ``errors.drills`` catalog key, ``params`` its values."""
        self.problems.append(UserError(message_key, where=self.where(table, key), **params))

    def table(self, data: dict, key: str, table: str, *, required: bool = True) -> dict:
        value = data.get(key)
        if value is None:
            if required:
                self.fail("errors.drills.missing", table, None, key_name=key)
            return {}
        if not isinstance(value, dict):
            self.fail("errors.drills.not_table", table, key, key_name=key)
            return {}
        return value

    def tables(self, data: dict, key: str, table: str) -> list[dict]:
        """``[[key]]`` entries; anything that is not a list of tables is one problem and no entries."""
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail("errors.drills.not_list_tables", table, None, key_name=key, table=table)
            return []
        return value

    def text(self, t: dict, key: str, table: str, *, required: bool = False, default: str | None = None):
        if key not in t:
            if required:
                self.fail("errors.drills.missing_2", table, key, key_name=repr(key), key_name2=key)
            return default
        value = t[key]
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail("errors.drills.not_text", table, key, key_name=key, value=repr(value))
            return default
        return value.strip()

    def number(
        self,
        t: dict,
        key: str,
        table: str,
        *,
        required: bool = False,
        default: float | None = None,
        minimum: float | None = None,
        positive: bool = False,
    ) -> float | None:
        if key not in t:
            if required:
                self.fail("errors.drills.missing_3", table, key, key_name=repr(key), key_name2=key)
            return default
        value = t[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.fail("errors.drills.not_number", table, key, key_name=key, value=repr(value))
            return default
        if positive and value <= 0:
            self.fail("errors.drills.must", table, key, key_name=key, value=value)
            return default
        if minimum is not None and value < minimum:
            self.fail("errors.drills.must_2", table, key, key_name=key, value=value, minimum=minimum)
            return default
        return float(value)

    def position(self, t: dict, table: str) -> Position:
        if "reach" in t:
            reach = self.text(t, "reach", table)
            km = self.number(t, "km", table, required=True)
            return Position(reach=reach, km=km)
        if "lat" in t or "lon" in t:
            return Position(
                lat=self.number(t, "lat", table, required=True),
                lon=self.number(t, "lon", table, required=True),
            )
        self.fail("errors.drills.no_position", table, None)
        return Position()


def _check_position(r: _Reader, net, pos: Position, table: str) -> None:
    """The position must be on the river (reach known, km within it; lat/lon near the line)."""
    if pos.reach is not None:
        ids = [x.reach_id for x in net.reaches]
        if pos.reach not in ids:
            r.fail("errors.drills.unknown_reach", table, "reach", reach=repr(pos.reach), value=", ".join(ids))
            return
        if pos.km is not None:
            reach = net.reach(pos.reach)
            lo, hi = reach.km_start, reach.km_start + reach.length_m / 1000
            if not lo - 1e-6 <= pos.km <= hi + 1e-6:
                r.fail(
                    "errors.drills.km_outside_reach", table, "km", km=pos.km, reach=pos.reach, lo=lo, hi=hi
                )
    elif pos.lat is not None and pos.lon is not None:
        snap = net.snap(pos.lat, pos.lon)
        if snap.distance_off_m > 2000:
            r.fail(
                "errors.drills.point_km_river_nearest",
                table,
                "lat/lon",
                value=snap.distance_off_m / 1000,
                reach_id=snap.reach_id,
            )


def load_drill_scenario(path: str | Path) -> DrillScenario:
    """Read and check a scenario file; raise one ValidationErrors listing every problem."""
    from incident.core import standards
    from incident.core.rivers import load_river_file
    from incident.playbook import find_playbook

    path = Path(path)
    data = read_toml(path)
    text = path.read_bytes()
    r = _Reader(path)

    drill = r.table(data, "drill", "[drill]")
    name = r.text(drill, "name", "[drill]", required=True) or path.stem
    river_name = r.text(drill, "river", "[drill]", required=True)
    river_path = None
    net = None
    if river_name:
        river_path = Path(river_name) if Path(river_name).is_absolute() else (path.parent / river_name)
        try:
            net = load_river_file(river_path)
        except UserError as exc:
            r.problems.append(exc)
    playbook = r.text(drill, "playbook", "[drill]", default="river_chemical_spill") or "river_chemical_spill"
    try:
        find_playbook(playbook)
    except UserError as exc:
        r.problems.append(exc.relocated(r.where("[drill]", "playbook")))
    speed = r.number(drill, "speed", "[drill]", default=DEFAULT_SPEED, positive=True) or DEFAULT_SPEED
    if speed > MAX_SPEED:
        r.fail("errors.drills.speed_too_fast_play", "[drill]", "speed", speed=speed, max_speed=MAX_SPEED)
    horizon = r.number(drill, "horizon_h", "[drill]", default=48.0, positive=True) or 48.0
    seed = drill.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        # the synthetic results' random generator takes whole numbers ≥ 0 only
        r.fail("errors.drills.seed", "[drill]", "seed", seed=repr(seed))
        seed = 1

    rep = r.table(data, "reported", "[reported]")
    rep_pos = r.position(rep, "[reported]") if rep else Position()
    reported = Reported(
        title=r.text(rep, "title", "[reported]", required=True) or "",
        title_zh=r.text(rep, "title_zh", "[reported]"),
        position=rep_pos,
        substance=r.text(rep, "substance", "[reported]"),
        pollutant_class=r.text(rep, "pollutant_class", "[reported]"),
        mass_kg=r.number(rep, "mass_kg", "[reported]", minimum=0),
        release_duration_h=r.number(rep, "release_duration_h", "[reported]", minimum=0),
        description=r.text(rep, "description", "[reported]", default="") or "",
        caller=r.text(rep, "caller", "[reported]", default="") or "",
    )
    if reported.pollutant_class and reported.pollutant_class not in (
        "heavy_metal",
        "organic",
        "oil",
        "other",
    ):
        r.fail(
            "errors.drills.unknown_pollutant_class",
            "[reported]",
            "pollutant_class",
            pollutant_class=repr(reported.pollutant_class),
        )

    tr = r.table(data, "truth", "[truth]")
    truth_pos = r.position(tr, "[truth]") if tr else Position()
    decay = r.number(tr, "decay_per_day", "[truth]", default=0.0, minimum=0) or 0.0
    half_life = r.number(tr, "half_life_h", "[truth]", positive=True)
    if half_life:
        decay = math.log(2) / (half_life / 24)
    substance = r.text(tr, "substance", "[truth]", required=bool(tr)) or ""
    if substance:
        try:
            substance = standards.resolve_parameter(substance, where=r.where("[truth]", "substance")).key
        except UserError as exc:
            r.problems.append(exc)
    truth = Truth(
        position=truth_pos,
        offset_min=r.number(tr, "offset_min", "[truth]", default=0.0) or 0.0,
        substance=substance,
        mass_kg=r.number(tr, "mass_kg", "[truth]", required=bool(tr), positive=True) or 0.0,
        duration_h=r.number(tr, "duration_h", "[truth]", default=0.0, minimum=0) or 0.0,
        decay_per_day=decay,
        background_mg_l=r.number(tr, "background_mg_l", "[truth]", default=0.0, minimum=0) or 0.0,
        velocity_factor=r.number(tr, "velocity_factor", "[truth]", default=1.0, positive=True) or 1.0,
        dispersion_factor=r.number(tr, "dispersion_factor", "[truth]", default=1.0, positive=True) or 1.0,
    )
    if net is not None:
        _check_position(r, net, rep_pos, "[reported]")
        _check_position(r, net, truth_pos, "[truth]")

    injects = []
    for i, inj in enumerate(r.tables(data, "inject", "[[inject]]")):
        table = f"[[inject]] #{i + 1}"
        kind = r.text(inj, "kind", table, default="message") or "message"
        if kind not in INJECT_KINDS:
            r.fail(
                "errors.drills.unknown_kind", table, "kind", kind=repr(kind), value=", ".join(INJECT_KINDS)
            )
        injects.append(
            Inject(
                at_min=r.number(inj, "at_min", table, required=True, minimum=0) or 0.0,
                title=r.text(inj, "title", table, required=True) or "",
                message=r.text(inj, "message", table, required=True) or "",
                sender=r.text(inj, "from", table, default="") or "",
                kind=kind,
            )
        )
    injects.sort(key=lambda x: x.at_min)

    receptors = {x.receptor_id for x in net.receptors} if net is not None else set()
    targets = []
    for i, tg in enumerate(r.tables(data, "target", "[[target]]")):
        table = f"[[target]] #{i + 1}"
        metric = r.text(tg, "metric", table, required=True) or ""
        base, _, receptor = metric.partition(":")
        within = r.number(tg, "within_min", table, positive=True)
        max_err = r.number(tg, "max_error_pct", table, positive=True)
        if metric in TIMELINE_METRICS:
            if within is None:
                r.fail("errors.drills.timeline_target_needs_within", table, "within_min")
        elif base in ERROR_METRICS:
            if receptor not in receptors:
                r.fail(
                    "errors.drills.unknown_receptor",
                    table,
                    "metric",
                    receptor=repr(receptor),
                    metric=repr(metric),
                    base=base,
                    value=", ".join(sorted(receptors)),
                )
            if max_err is None:
                r.fail("errors.drills.forecast_target_needs_max", table, "max_error_pct")
        elif metric:
            r.fail(
                "errors.drills.unknown_metric",
                table,
                "metric",
                metric=repr(metric),
                value=", ".join(TIMELINE_METRICS),
            )
        targets.append(
            Target(
                capability=r.text(tg, "capability", table, required=True) or metric,
                capability_zh=r.text(tg, "capability_zh", table),
                metric=metric,
                within_min=within if metric in TIMELINE_METRICS else None,
                max_error_pct=max_err if base in ERROR_METRICS else None,
            )
        )
    names = [t.capability for t in targets]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        r.fail("errors.drills.capability_listed_twice", "[[target]]", "capability", dup=repr(dup))

    lab = r.table(data, "lab", "[lab]", required=False)
    default_cv = r.number(lab, "cv", "[lab]", default=DEFAULT_CV, minimum=0) or 0.0
    methods = []
    known = standards.methods()
    for i, m in enumerate(r.tables(lab, "method", "[[lab.method]]")):
        table = f"[[lab.method]] #{i + 1}"
        key = (r.text(m, "key", table, required=True) or "").lower()
        if key and key not in known:
            r.fail("errors.drills.unknown_method", table, "key", key_name=repr(key), value=", ".join(known))
        style = r.text(m, "style", table, default="value") or "value"
        if style not in RESULT_STYLES:
            r.fail(
                "errors.drills.unknown_style",
                table,
                "style",
                style=repr(style),
                value=", ".join(RESULT_STYLES),
            )
        ranges = m.get("ranges_mg_l", [])
        if style == "range":
            if (
                not isinstance(ranges, list)
                or len(ranges) < 2
                or not all(isinstance(x, int | float) and not isinstance(x, bool) and x > 0 for x in ranges)
                or any(b <= a for a, b in zip(ranges, ranges[1:], strict=False))
            ):
                r.fail("errors.drills.range_method_needs_ranges", table, "ranges_mg_l")
                ranges = []
        instrument = r.text(m, "instrument", table, default="") or ""
        if key in known and known[key].kind == "rapid" and not instrument:
            r.fail("errors.drills.rapid_method_field_results", table, "instrument", key_name=key)
        methods.append(
            LabMethod(
                key=key,
                detection_limit_mg_l=r.number(m, "detection_limit_mg_l", table, required=True, positive=True)
                or 0.001,
                turnaround_min=r.number(m, "turnaround_min", table, default=DEFAULT_TURNAROUND_MIN, minimum=0)
                or 0.0,
                cv=r.number(m, "cv", table, default=default_cv, minimum=0) or 0.0,
                style=style,
                ranges_mg_l=[float(x) for x in ranges] if style == "range" else [],
                instrument=instrument,
                lab=r.text(m, "lab", table, default="") or "",
            )
        )
    if not methods:
        r.fail("errors.drills.drill_s_lab_has_2", "[lab]", "method")
    default_method = (r.text(lab, "default_method", "[lab]") or (methods[0].key if methods else "")).lower()
    if methods and default_method not in {m.key for m in methods}:
        r.fail(
            "errors.drills.default_method_not_one",
            "[lab]",
            "default_method",
            default_method=repr(default_method),
            value=", ".join(m.key for m in methods),
        )

    if r.problems:
        raise (
            r.problems[0]
            if len(r.problems) == 1
            else ValidationErrors(str(path), r.problems, outcome="errors.outcome.drill_not_started")
        )
    return DrillScenario(
        name=name,
        name_zh=r.text(drill, "name_zh", "[drill]"),
        river=str(Path(river_path).resolve()) if river_path else "",
        playbook=playbook,
        speed=speed,
        horizon_h=horizon,
        seed=int(seed),
        reported=reported,
        truth=truth,
        injects=injects,
        targets=targets,
        methods=methods,
        default_method=default_method,
        source=str(path),
        sha256=hashlib.sha256(text).hexdigest(),
    )


def scenario_summary(sc: DrillScenario) -> dict[str, Any]:
    """What a controller may see before starting (no truth): name, playbook, counts."""
    return {
        "name": sc.name,
        "playbook": sc.playbook,
        "speed": sc.speed,
        "injects": len(sc.injects),
        "targets": [t.capability for t in sc.targets],
        "methods": [m.key for m in sc.methods],
        "sha256": sc.sha256,
    }
