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
from incident.drills.scenario_inputs import DEFAULT_CV as DEFAULT_CV  # one copy of each constant
from incident.drills.scenario_inputs import DEFAULT_SPEED as DEFAULT_SPEED
from incident.drills.scenario_inputs import DEFAULT_TURNAROUND_MIN as DEFAULT_TURNAROUND_MIN
from incident.drills.scenario_inputs import ERROR_METRICS as ERROR_METRICS
from incident.drills.scenario_inputs import MAX_SPEED as MAX_SPEED
from incident.drills.scenario_inputs import TIMELINE_METRICS as TIMELINE_METRICS

RESULT_STYLES = ("value", "range", "qualitative")
INJECT_KINDS = ("message", "call", "flow_change", "media", "other")


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


def load_drill_scenario(path: str | Path) -> DrillScenario:
    """Read and check a scenario file (``scenario_inputs.DrillFile``); raise one refusal listing every
    problem, each with the file, line and field."""
    from pydantic import ValidationError

    from incident.core.inputs import SourceMap, refusals, toml_where
    from incident.core.rivers import load_river_file
    from incident.drills.scenario_inputs import DrillFile
    from incident.playbook import find_playbook

    path = Path(path)
    data = read_toml(path)
    text = path.read_bytes()
    at = toml_where(SourceMap(text.decode("utf-8", errors="replace")), str(path))
    problems: list[UserError] = []
    # the river first: the positions and receptors are checked against it in the same pass
    drill = data.get("drill")
    river_name = drill.get("river") if isinstance(drill, dict) else None
    river_path = None
    net = None
    if isinstance(river_name, str) and river_name.strip():
        river_path = Path(river_name) if Path(river_name).is_absolute() else (path.parent / river_name)
        try:
            net = load_river_file(river_path)
        except UserError as exc:
            problems.append(exc)
        except ValueError:  # a NUL byte in the path
            problems.append(
                UserError(
                    "errors.plume.river_not_file_path",
                    where=at(("drill", "river")),
                    river_name=repr(river_name),
                )
            )
    doc: DrillFile | None = None
    try:
        doc = DrillFile.model_validate(data, context={"net": net})
    except ValidationError as exc:
        problems += refusals(exc, where=at)
    if doc is not None:
        try:
            find_playbook(doc.drill.playbook)
        except UserError as exc:
            problems.append(exc.relocated(at(("drill", "playbook"))))
    if problems or doc is None:
        raise (
            problems[0]
            if len(problems) == 1
            else ValidationErrors(str(path), problems, outcome="errors.outcome.drill_not_started")
        )
    rep, tr, lab = doc.reported, doc.truth, doc.lab
    decay = tr.decay_per_day
    if tr.half_life_h:
        decay = math.log(2) / (tr.half_life_h / 24)
    methods = [
        LabMethod(
            key=m.key,
            detection_limit_mg_l=m.detection_limit_mg_l,
            turnaround_min=m.turnaround_min,
            cv=m.cv if m.cv is not None else lab.cv,
            style=m.style,
            ranges_mg_l=list(m.ranges_mg_l) if m.style == "range" else [],
            instrument=m.instrument,
            lab=m.lab,
        )
        for m in lab.method
    ]
    return DrillScenario(
        name=doc.drill.name,
        name_zh=doc.drill.name_zh,
        river=str(Path(river_path).resolve()) if river_path else "",
        playbook=doc.drill.playbook,
        speed=doc.drill.speed,
        horizon_h=doc.drill.horizon_h,
        seed=doc.drill.seed,
        reported=Reported(
            title=rep.title,
            title_zh=rep.title_zh,
            position=Position(rep.reach, rep.km, rep.lat, rep.lon),
            substance=rep.substance,
            pollutant_class=rep.pollutant_class,
            mass_kg=rep.mass_kg,
            release_duration_h=rep.release_duration_h,
            description=rep.description,
            caller=rep.caller,
        ),
        truth=Truth(
            position=Position(tr.reach, tr.km, tr.lat, tr.lon),
            offset_min=tr.offset_min,
            substance=tr.substance,
            mass_kg=tr.mass_kg,
            duration_h=tr.duration_h,
            decay_per_day=decay,
            background_mg_l=tr.background_mg_l,
            velocity_factor=tr.velocity_factor,
            dispersion_factor=tr.dispersion_factor,
        ),
        injects=sorted(
            (Inject(i.at_min, i.title, i.message, i.sender, i.kind) for i in doc.inject),
            key=lambda x: x.at_min,
        ),
        targets=[
            Target(
                capability=t.capability,
                capability_zh=t.capability_zh,
                metric=t.metric,
                within_min=t.within_min if t.metric in TIMELINE_METRICS else None,
                max_error_pct=t.max_error_pct if t.metric.partition(":")[0] in ERROR_METRICS else None,
            )
            for t in doc.target
        ],
        methods=methods,
        default_method=(lab.default_method or methods[0].key).lower(),
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
