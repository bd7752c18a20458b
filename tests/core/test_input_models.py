"""Every input model refuses bad input only with the project's own refusal.

Each pydantic model a file or form is parsed into (``incident.core.inputs.InputModel``) gets a valid
example below; hypothesis mutates it with huge numbers, NaN and infinity, wrong types, odd Unicode
(superscript and full-width digits, right-to-left marks, NUL) and missing or extra fields. The contract:
``model_validate`` returns a model holding only finite numbers, or raises a ``ValidationError`` that
``core.inputs.refusals`` turns into UserErrors, each located and rendering in en and zh. Anything
else (an OverflowError from a validator, a NaN let through) fails with the input that caused it.

A model added under incident/ without an example here fails ``test_every_input_model_is_covered``.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import incident
from incident.core.errors import UserError
from incident.core.inputs import InputModel, parse, refusals
from tests.fuzz.strategies import mutated, nasty_floats, nasty_ints, nasty_text, typed_numbers

#: one valid example per input model, by "module:Class"
SEEDS: dict[str, dict[str, Any]] = {
    "incident.results.importer:ResultRow": {
        "point": "S1",
        "round": "2",
        "sampled_at": "2026-07-01 10:00",
        "sampler": "Li Wei",
        "sample_type": "normal",
        "parameter": "cadmium",
        "value": "0.004",
        "unit": "mg/L",
        "method_kind": "lab",
    },
    "incident.core.rivers:ReachProperties": {
        "id": "M01",
        "name": "Jade main 1",
        "downstream": "M02",
        "discharge_m3s": 120.0,
        "width_m": 80,
        "depth_m": 2.5,
        "manning_n": 0.03,
        "lateral_inflow_m2s": 0,
        "length_m": 12000,
    },
    "incident.core.rivers:ReceptorProperties": {
        "id": "W1",
        "kind": "drinking_water_intake",
        "name": "Works 1",
        "name_zh": "一水厂",
        "population_served": 180000,
    },
    "incident.core.rivers:LineGeometry": {
        "type": "LineString",
        "coordinates": [[109.0, 24.2], [109.0, 24.1]],
    },
    "incident.core.rivers:PointGeometry": {"type": "Point", "coordinates": [109.0, 24.15]},
    "incident.core.rivers:ReachFeature": {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[109.0, 24.2], [109.0, 24.1, 12.0]]},
        "properties": {"id": "R1", "discharge_m3s": 50, "width_m": 40, "depth_m": 1.5},
    },
    "incident.core.rivers:ReceptorFeature": {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [109.0, 24.15]},
        "properties": {"id": "S1", "kind": "automatic_station", "name": "Station 1"},
    },
    "incident.plume.scenario_inputs:ScenarioTable": {
        "river": "jade_river.geojson",
        "name": "Jade",
        "start": "2026-11-23 03:10",
        "horizon_h": 48,
    },
    "incident.plume.scenario_inputs:SpillTable": {
        "lat": 24.68,
        "lon": 109.3,
        "mass_kg": 8000,
        "duration_h": 0.5,
    },
    "incident.plume.scenario_inputs:InletTable": {
        "reach": "U1",
        "times_h": [0, 8.4, 24],
        "conc_mg_l": [0.1, 1.7, 0.1],
    },
    "incident.plume.scenario_inputs:PointTable": {"reach": "M03", "km": 47.0, "label": "Bridge"},
    "incident.plume.scenario_inputs:SubstanceTable": {
        "name": "nitrobenzene",
        "standard_mg_l": 0.017,
        "detection_mg_l": 0.0002,
        "decay_per_day": 0.05,
    },
    "incident.plume.scenario_inputs:GridTable": {"dx_m": 50, "dt_s": 30},
    "incident.plume.trace_inputs:TraceRow": {
        "station": "X9",
        "reach": "M05",
        "km": "83.0",
        "time": "2026-05-01 20:00",
        "value_mg_l": "0.0871",
        "detection_limit_mg_l": "0.0005",
    },
    "incident.plume.scenario_inputs:ScenarioFile": {
        "scenario": {"river": "r.geojson", "horizon_h": 24},
        "spill": [{"reach": "M03", "km": 45, "mass_kg": 100}],
        "inlet": [{"times_h": [0, 1], "conc_mg_l": [0, 1]}],
        "point": [{"reach": "M03", "offset_m": 200}],
        "substance": {"name": "benzene", "half_life_h": 24},
        "grid": {"dx_m": 100},
    },
    "incident.readiness.inventory_csv:EquipmentRow": {
        "asset_tag": "PH-01",
        "category": "instrument",
        "type": "pH meter",
        "condition": "working",
        "in_service": "yes",
    },
    "incident.readiness.inventory_csv:CalibrationRow": {
        "asset_tag": "PH-01",
        "schedule": "two-point",
        "interval_days": "30",
        "last_done": "2026-05-01",
    },
    "incident.readiness.inventory_csv:ConsumableRow": {
        "item": "buffer",
        "lot": "B1",
        "quantity": "12.5",
        "expires_on": "2027-01-31",
        "min_stock": "2",
    },
    "incident.drills.scenario_inputs:DrillTable": {
        "name": "Night drill",
        "river": "../demo/jade_river.geojson",
        "speed": 60,
        "horizon_h": 48,
        "seed": 2026,
    },
    "incident.drills.scenario_inputs:ReportedTable": {
        "title": "Truck in the river",
        "reach": "M03",
        "km": 45.0,
        "pollutant_class": "heavy_metal",
        "mass_kg": 900,
    },
    "incident.drills.scenario_inputs:TruthTable": {
        "lat": 24.68,
        "lon": 109.32,
        "substance": "cadmium",
        "mass_kg": 900,
        "half_life_h": 48,
        "offset_min": -30,
    },
    "incident.drills.scenario_inputs:InjectTable": {
        "at_min": 25,
        "title": "Call",
        "message": "Fish dying",
        "from": "Media",
    },
    "incident.drills.scenario_inputs:TargetTable": {
        "capability": "On site",
        "metric": "on_site",
        "within_min": 60,
    },
    "incident.drills.scenario_inputs:MethodTable": {
        "key": "photometer_portable",
        "instrument": "INS-PHO-01",
        "style": "range",
        "ranges_mg_l": [0.005, 0.01, 0.05],
        "detection_limit_mg_l": 0.005,
        "turnaround_min": 10,
    },
    "incident.drills.scenario_inputs:LabTable": {
        "cv": 0.15,
        "default_method": "hj700_icpms",
        "method": [{"key": "hj700_icpms", "detection_limit_mg_l": 0.00005}],
    },
    "incident.drills.scenario_inputs:DrillFile": {
        "drill": {"name": "d", "river": "r.geojson"},
        "reported": {"title": "t", "reach": "M03", "km": 4},
        "truth": {"reach": "M03", "km": 4, "substance": "cadmium", "mass_kg": 10},
        "inject": [{"at_min": 0, "title": "a", "message": "b"}],
        "target": [{"capability": "c", "metric": "forecast_arrival_error:W1", "max_error_pct": 25}],
        "lab": {"method": [{"key": "hj700_icpms", "detection_limit_mg_l": 0.001}]},
    },
    "incident.results.importer:MappingFile": {
        "columns": {"sample": "样品编号", "value": "结果"},
        "defaults": {"method_kind": "online", "round": 1},
        "parameters": {"Cd": "cadmium"},
    },
    "incident.sampling.routing:RoadProperties": {"name": "G323", "road_class": "primary", "oneway": False},
    "incident.sampling.routing:LineRoad": {
        "type": "LineString",
        "coordinates": [[109.0, 24.0], [109.1, 24.0]],
    },
    "incident.sampling.routing:MultiLineRoad": {
        "type": "MultiLineString",
        "coordinates": [[[109.0, 24.0], [109.1, 24.0]], [[109.1, 24.0], [109.1, 24.1]]],
    },
    "incident.sampling.routing:RoadFeature": {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[109.0, 24.0], [109.1, 24.0]]},
        "properties": {"speed_kmh": 60, "oneway": True},
    },
    "incident.readiness.inventory:CalibrationEntry": {
        "name": "curve",
        "interval_days": 90,
        "last_done": "today-85",
    },
    "incident.readiness.inventory:EquipmentEntry": {
        "asset_tag": "INS-GC-01",
        "category": "instrument",
        "type": "portable GC",
        "calibration": [{"name": "tuning", "interval_days": 180, "last_done": "2026-01-05"}],
    },
    "incident.readiness.inventory:ConsumableEntry": {
        "item": "vials",
        "lot": "VV-2501",
        "quantity": 40,
        "expires_on": "today+300",
        "min_stock": 10,
    },
    "incident.readiness.inventory:TemplateItem": {"kind": "equipment", "type": "portable GC", "quantity": 1},
    "incident.readiness.inventory:KitTemplateEntry": {
        "name": "VOC kit",
        "name_zh": "挥发性有机物采样包",
        "items": [{"kind": "consumable", "type": "vials", "quantity": 20}],
    },
    "incident.readiness.inventory:KitConsumable": {"item": "vials", "lot": "VV-2501", "quantity": 40},
    "incident.readiness.inventory:KitEntry": {
        "name": "KIT-1",
        "template": "VOC kit",
        "equipment": ["INS-GC-01"],
        "consumables": [{"item": "vials", "lot": "VV-2501"}],
    },
    "incident.readiness.inventory:InventoryFile": {
        "equipment": [{"asset_tag": "A", "category": "ppe", "type": "suit"}],
        "consumable": [{"item": "vials", "quantity": 4}],
        "kit_template": [{"name": "T"}],
        "kit": [{"name": "K", "template": "T", "equipment": ["A"]}],
    },
    "incident.sampling.roster:QualificationEntry": {
        "kind": "hazmat",
        "certificate_no": "C-1",
        "expires_on": "today+200",
    },
    "incident.sampling.roster:ResponderEntry": {
        "key": "r01",
        "name": "Li Wei",
        "name_zh": "李伟",
        "phone": "138",
        "qualifications": [{"kind": "sampling", "expires_on": "2027-05-01"}],
    },
    "incident.sampling.roster:CrewEntry": {
        "name": "Crew A",
        "leader": "r01",
        "base_lat": 24.7,
        "base_lon": 109.3,
        "vehicle": "VEH-01",
        "kit": "KIT-1",
        "members": ["r01", "r02"],
    },
    "incident.sampling.roster:RosterFile": {
        "responder": [{"key": "r01", "name": "Li"}],
        "crew": [{"name": "A", "base_lat": 24, "base_lon": 109, "members": ["r01"]}],
    },
    "incident.stations._hj212:ReadingFields": {"Avg": "0.35", "Min": "-0.1", "Max": "12.", "Flag": "M"},
    "incident.stations._hj212:PacketFields": {
        "QN": "20240701110000123",
        "ST": "21",
        "CN": "2051",
        "PW": "123456",
        "MN": "ST0001",
        "Flag": "5",
        "PNUM": "2",
        "PNO": "1",
        "DataTime": "20240701110000",
        "readings": {"w21003": {"Avg": "0.35", "Flag": "N"}, "w01001": {"Rtd": ".5"}},
    },
    "incident.evidence.backup:ChainHead": {"chain": "incident:INC-2026-0001", "seq": 12, "hash": "ab" * 32},
    "incident.evidence.backup:BackupHeader": {
        "format": "incident-backup",
        "version": 1,
        "code": "INC-2026-0001",
        "exported_at": "2026-07-01T02:00:00.000000+00:00",
        "schema_revision": "perf_1",
        "chain_head": {"chain": "incident:INC-2026-0001", "seq": 12, "hash": "ab" * 32},
        "tables": {"incident": 1, "result": 40},
        "exercise": True,
        "mark": "EXERCISE — not a real incident",
    },
    "incident.evidence.backup:BackupRow": {
        "table": "result",
        "role": "incident",
        "row": {"id": 7, "value": 0.004, "unit": "mg/L", "flagged": False, "note": None},
    },
    "incident.evidence.backup:BackupEnd": {"rows": 41, "sha256": "0f" * 32},
    "incident.core.inputs:NumberText": {"value": "12,500.5"},
    "incident.core.inputs:WholeNumberText": {"value": "3"},
    "incident.stations._hj212:StationCsvRow": {
        "mn": "STA",
        "time": "2026-01-05 10:00",
        "parameter": "w21003",
        "value": "0.31",
        "flag": "M",
        "interval": "hourly",
    },
    "incident.readiness.rules:QualificationRule": {
        "template": "*",
        "kind": "water_sampling",
        "holder": "crew",
    },
    "incident.readiness.rules:ReadinessFile": {
        "teams_required": 2,
        "warning_days": [30, 7],
        "qualification": [{"template": "heavy-metal sampling kit", "kind": "heavy_metal_field_test"}],
    },
    "incident.playbook.inputs:PhaseTable": {"id": "initial", "title": {"en": "Initial", "zh": "初步"}},
    "incident.playbook.inputs:RoleTable": {"id": "lead", "title": {"en": "Lead", "zh": "组长"}},
    "incident.playbook.inputs:ChecklistEntry": {"id": "sketch", "en": "Sketch", "zh": "示意图"},
    "incident.playbook.inputs:ChoiceEntry": {"value": "oil", "en": "Oil", "zh": "油类"},
    "incident.playbook.inputs:FormTable": {
        "id": "class",
        "type": "choice",
        "label": {"en": "Class", "zh": "类别"},
        "help": {"en": "Pick one", "zh": "选一个"},
        "choices": [
            {"value": "oil", "en": "Oil", "zh": "油类"},
            {"value": "other", "en": "Other", "zh": "其他"},
        ],
        "required": True,
        "sets": "pollutant_class",
    },
    "incident.playbook.inputs:ActionTable": {"name": "report.draft", "params": {"kind": "flash"}},
    "incident.playbook.inputs:BranchTable": {"when": {"pollutant_class": ["oil", "other"]}, "goto": "boom"},
    "incident.playbook.inputs:StepTable": {
        "id": "one",
        "phase": "initial",
        "title": {"en": "One", "zh": "一"},
        "instructions": {"en": "Do one.", "zh": "做一。"},
        "role": "lead",
        "deadline": "1h30m",
        "next": "two",
        "checklist": [{"id": "a", "en": "A", "zh": "甲"}],
        "form": [{"id": "n", "type": "number", "label": {"en": "N", "zh": "数"}}],
        "action": {"name": "forecast.run", "params": {"horizon_h": 24, "ensemble": True}},
        "branch": [{"when": {"intake_threatened": True}, "goto": "warn"}],
    },
    "incident.playbook.inputs:PlaybookFile": {
        "id": "tiny",
        "version": 2,
        "title": {"en": "Tiny", "zh": "小"},
        "description": {"en": "A tiny one", "zh": "很小"},
        "applies_to": ["oil"],
        "start": "one",
        "source": "HJ 589",
        "phase": [{"id": "initial", "title": {"en": "Initial", "zh": "初步"}}],
        "role": [{"id": "lead", "title": {"en": "Lead", "zh": "组长"}}],
        "step": [
            {
                "id": "one",
                "phase": "initial",
                "title": {"en": "One", "zh": "一"},
                "instructions": {"en": "Do one.", "zh": "做一。"},
                "next": "two",
                "branch": [{"when": {"pollutant_class": "oil"}, "goto": "two"}],
            },
            {
                "id": "two",
                "phase": "initial",
                "title": {"en": "Two", "zh": "二"},
                "instructions": {"en": "2", "zh": "二"},
            },
        ],
    },
    "incident.preplan.inputs:Place": {"reach": "main", "km": 3.5},
    "incident.preplan.inputs:Substance": {"substance": "cadmium", "max_release_kg": 200.0},
    "incident.preplan.inputs:Contact": {"name": "Wang", "phone": "13800000000"},
    "incident.preplan.inputs:RiskSource": {
        "id": "RS1",
        "name": "Smelter",
        "kind": "enterprise",
        "place": {"lon": 113.2, "lat": 23.1},
        "substances": [{"substance": "cadmium", "max_release_kg": 50, "release_duration_h": 2}],
        "contact": {"name": "Wang"},
    },
    "incident.preplan.inputs:Intake": {
        "id": "W1",
        "name": "Works 1",
        "place": {"reach": "main", "km": 12},
        "population_served": 180000,
        "reserve_h": 12,
    },
    "incident.preplan.inputs:InterceptionPoint": {
        "id": "G1",
        "name": "Gate 1",
        "kind": "gate",
        "place": {"reach": "main", "km": 8},
        "response_h": 3,
    },
}

# what a file or a form can hold that naive code mishandles
odd_unicode = st.sampled_from(
    [
        "²",  # superscript two: str.isdigit() says yes, int() says no
        "¹²³",
        "１２",  # full-width digits (Chinese IME)
        "１２.５",
        "٣",  # Arabic-Indic three
        "\u200f12",  # right-to-left mark before a number
        "12\u200e",  # left-to-right mark after
        "\u202eevil",  # right-to-left override
        "\u00a012",  # no-break space
        "\ufeff1",  # BOM
        "\x00",
        "1\x00",
        "½",
        "Ⅻ",
        "e\u0301",
        "\ud800",  # a lone surrogate
    ]
)
huge = st.sampled_from([10**400, -(10**400), 10**5000, "9" * 5000, "1e999", 1e308, 2**63, 2**64])
leaves = st.one_of(
    st.none(),
    st.booleans(),
    nasty_ints,
    nasty_floats,
    nasty_text,
    typed_numbers,
    odd_unicode,
    huge,
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _all_modules() -> None:
    for info in pkgutil.walk_packages(incident.__path__, "incident."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _input_models() -> dict[str, type[BaseModel]]:
    return {
        _name(c): c
        for c in _subclasses(InputModel)
        if c.__module__.startswith("incident.") and not c.__name__.startswith("_")
    }


def test_every_input_model_is_covered():
    """Every pydantic model under incident/ is an InputModel with an example here (a new one must join)."""
    from sqlmodel import SQLModel

    _all_modules()
    models = {
        _name(c)
        for c in _subclasses(BaseModel)
        if c.__module__.startswith("incident.")
        and c is not InputModel
        and not c.__name__.startswith("_")
        and not issubclass(c, SQLModel)  # database rows, written by the project, not read from a person
    }
    not_input = sorted(n for n in models if n not in _input_models())
    assert not_input == [], "derive every file/form model from incident.core.inputs.InputModel"
    assert sorted(models - set(SEEDS)) == [], "add a valid example to SEEDS for each new input model"
    assert sorted(set(SEEDS) - models) == [], "SEEDS names a model that no longer exists"


def _models() -> list[tuple[str, type[BaseModel]]]:
    _all_modules()
    return sorted(_input_models().items())


def test_the_examples_are_valid():
    for name, model in _models():
        model.model_validate(SEEDS[name])  # else the mutations test nothing deep


def _finite_everywhere(value: Any) -> bool:
    """Finite floats, and integers a database column or numpy can hold (64 bits)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, dict):
        return all(_finite_everywhere(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite_everywhere(v) for v in value)
    return True


def _check(model: type[BaseModel], data: Any) -> None:
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        problems = refusals(exc, where="input.csv, line 7")
        assert problems, "a ValidationError with no refusal"
        for p in problems:
            assert isinstance(p, UserError) and p.key and p.where == "input.csv, line 7"
            for lang in ("en", "zh"):
                text = p.render(lang)
                assert text.startswith("input.csv, line 7") and len(text) < 2000
        with pytest.raises(UserError):  # the one call rooms make
            parse(model, data, where="input.csv, line 7")
        return
    assert _finite_everywhere(parsed.model_dump()), "a NaN, infinity or an integer past 64 bits got through"


#: each is put in every place of every example, one at a time (the sweep hypothesis may miss)
HOSTILE = (
    10**400, -(10**400), 10**5000, "9" * 5000, 2**63, 2**64, 1e308, -1e308, 5e-324, math.nan, math.inf,
    -math.inf, "nan", "NaN", "inf", "-Infinity", "1e999", "²", "¹²", "１２", "１２.５", "٣", "\u200f12",
    "12\u200e", "\u202e3", "\ufeff1", "\x00", "\ud800", "", " ", None, True, [], [1, 2], {}, {"a": 1},
    -1, 0, "-0", "0x10", "1_000",
)  # fmt: skip


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _replaced(doc: Any, path: tuple, value: Any) -> Any:
    import copy

    out = copy.deepcopy(doc)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return out


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_each_hostile_value_in_each_place(name):
    _all_modules()
    model = _input_models()[name]
    seed = SEEDS[name]
    for path in _paths(seed):
        for value in HOSTILE:
            _check(model, _replaced(seed, path, value))
    for key in model.model_fields:  # fields the example leaves out, too
        if key not in seed:
            for value in HOSTILE:
                _check(model, {**seed, key: value})


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_bad_input_gives_only_the_projects_refusals(name):
    _all_modules()
    model = _input_models()[name]
    seed = SEEDS[name]

    @settings(
        max_examples=40,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(st.one_of(mutated(seed, leaves, max_mutations=4), leaves))
    def run(data):
        _check(model, data)

    run()
