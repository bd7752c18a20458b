"""The playbook format: shipped playbooks validate; each kind of mistake is refused by file:line and field."""

from __future__ import annotations

import re

import pytest

from incident.cli import main
from incident.playbook.formats import (
    PlaybookInvalid,
    load_playbook_file,
    parse_deadline,
    parse_playbook,
    reflow,
    shipped_files,
)
from playbooks import PLAYBOOK_DIR

GOOD = """\
id = "tiny"
title.en = "Tiny"
title.zh = "小"
start = "one"

[[phase]]
id = "initial"
title.en = "Initial"
title.zh = "初步"

[[role]]
id = "lead"
title.en = "Lead"
title.zh = "组长"

[[step]]
id = "one"
phase = "initial"
role = "lead"
deadline = "1h"
next = "two"
title.en = "One"
title.zh = "一"
instructions.en = "Do one."
instructions.zh = "做一。"
checklist = [
  { id = "a", en = "Item A", zh = "甲" },
]

[[step.branch]]
when = { pollutant_class = "oil" }
goto = "three"

[[step]]
id = "two"
phase = "initial"
next = "three"
title.en = "Two"
title.zh = "二"
instructions.en = "Do two."
instructions.zh = "做二。"
action = { name = "report.draft", params = { kind = "flash" } }

[[step]]
id = "three"
phase = "initial"
title.en = "Three"
title.zh = "三"
instructions.en = "Do three."
instructions.zh = "做三。"
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def problems(text: str, source: str = "bad.toml") -> list[str]:
    with pytest.raises(PlaybookInvalid) as info:
        parse_playbook(text, source)
    return [p.render() for p in info.value.problems]


def test_the_template_is_valid():
    pb = parse_playbook(GOOD, "tiny.toml")
    assert [s.id for s in pb.steps] == ["one", "two", "three"]
    assert pb.step("one").deadline_min == 60
    assert pb.step("one").following({"pollutant_class": "oil"}) == "three"
    assert pb.step("one").following({"pollutant_class": "organic"}) == "two"
    assert pb.step("two").action.params_dict == {"kind": "flash"}


@pytest.mark.parametrize("path", shipped_files(), ids=lambda p: p.stem)
def test_every_shipped_playbook_validates(path):
    pb = load_playbook_file(path)
    assert pb.id == path.stem
    for step in pb.steps:
        assert step.title.en and step.title.zh
        assert step.instructions.en and step.instructions.zh


def test_the_four_playbooks_of_the_issue_are_shipped():
    ids = {load_playbook_file(p).id for p in shipped_files()}
    assert ids == {"river_chemical_spill", "heavy_metal_intake", "oil_on_river", "drinking_water_source"}


def test_river_chemical_spill_is_the_full_hj589_flow():
    pb = load_playbook_file(PLAYBOOK_DIR / "river_chemical_spill.toml")
    assert [p.id for p in pb.phases] == ["initial", "plan", "tracking", "reporting", "termination"]
    survey = pb.step("field_survey")
    fields = {f.id for f in survey.form}
    # HJ 589 Appendix A, field by field
    assert {
        "reporting_unit",
        "location",
        "coordinates",
        "arrival_time",
        "wind",
        "air_temp_c",
        "pressure_kpa",
        "precipitation",
        "flow_direction",
        "velocity_ms",
        "discharge_m3s",
        "protective_measures",
        "surveyor",
        "recorder",
        "incident_time",
        "cause",
        "media",
        "pollutants",
        "properties",
        "amount_kg",
        "receptors",
        "byproducts",
        "judgement",
    } <= fields
    assert "sketch" in {c.id for c in survey.checklist}
    assert pb.step("flash_report").deadline_min == 60
    names = {s.action.name for s in pb.steps if s.action}
    assert {"forecast.run", "plan.propose", "crews.assign", "report.draft", "termination.check"} <= names
    # branches on pollutant class and on intakes
    assert pb.step("flash_report").following({"pollutant_class": "heavy_metal"}) == "rapid_test_metal"
    assert pb.step("flash_report").following({"pollutant_class": "oil"}) == "oil_survey"
    assert pb.step("initial_judgement").following({"intake_threatened": True}) == "intake_warning"
    assert pb.step("initial_judgement").following({"intake_threatened": False}) == "flash_report"


# ---------------------------------------------------------------- each failure kind


def test_unknown_step_reference_in_next_names_line_field_and_fix():
    text = GOOD.replace('next = "two"', 'next = "tow"')
    found = problems(text)
    assert len(found) == 1, found
    line = line_of(text, 'next = "tow"')
    assert f"bad.toml:{line}" in found[0]
    assert 'step "one" next' in found[0]
    assert "unknown step 'tow'" in found[0]
    assert "did you mean 'two'" in found[0]


def test_unknown_step_reference_in_a_branch():
    text = GOOD.replace('goto = "three"', 'goto = "four"')
    found = problems(text)
    line = line_of(text, 'goto = "four"')
    assert any(
        f"bad.toml:{line}" in p and "branch #1 goto" in p and "unknown step 'four'" in p for p in found
    )


def test_cycle_in_branches_is_refused_at_the_edge_that_closes_it():
    text = GOOD.replace('instructions.zh = "做三。"\n', 'instructions.zh = "做三。"\nnext = "one"\n')
    found = problems(text)
    cycle = [p for p in found if "cycle" in p]
    assert len(cycle) == 1, found
    line = line_of(text, 'next = "one"')
    assert f"bad.toml:{line}" in cycle[0]
    assert 'step "three" next' in cycle[0]
    assert "one → two → three → one" in cycle[0] or "one → three → one" in cycle[0]
    assert "fix:" in cycle[0]


def test_missing_translation_names_the_language_and_line():
    text = GOOD.replace('title.zh = "二"\n', "")
    found = problems(text)
    assert len(found) == 1, found
    assert 'step "two" title.zh' in found[0]
    assert "missing translation" in found[0]
    line = line_of(text, 'title.en = "Two"')
    assert f"bad.toml:{line}" in found[0]
    assert 'add title.zh = "..."' in found[0]


def test_missing_translation_in_a_checklist_item():
    text = GOOD.replace('{ id = "a", en = "Item A", zh = "甲" }', '{ id = "a", en = "Item A" }')
    found = problems(text)
    assert len(found) == 1, found
    line = line_of(text, 'id = "a"')
    assert f"bad.toml:{line}" in found[0]
    assert "checklist a zh" in found[0]


def test_unknown_action_is_refused_with_the_known_names():
    text = GOOD.replace('name = "report.draft"', 'name = "report.write"')
    found = problems(text)
    assert len(found) >= 1
    assert f"bad.toml:{line_of(text, 'report.write')}" in found[0]
    assert 'step "two" action' in found[0]
    assert "unknown action 'report.write'" in found[0]
    assert "report.draft" in found[0]  # the fix lists (and suggests) the right name


def test_bad_action_parameter_is_refused():
    text = GOOD.replace('kind = "flash"', 'kind = "weekly"')
    found = problems(text)
    assert any(
        "kind = 'weekly' is not accepted by report.draft" in p and "flash, monitoring, summary" in p
        for p in found
    )


@pytest.mark.parametrize("value", ['"1 hour"', '"0m"', "60", '"-5m"', '"45d"', '"h"'])
def test_bad_deadline_is_refused(value):
    text = GOOD.replace('deadline = "1h"', f"deadline = {value}")
    found = problems(text)
    assert len(found) == 1, found
    assert f"bad.toml:{line_of(text, 'deadline =')}" in found[0]
    assert 'step "one" deadline' in found[0]
    assert "bad deadline" in found[0]
    assert '"45m", "1h", "1h30m"' in found[0]


def test_toml_syntax_error_names_the_line():
    text = GOOD.replace('title.zh = "二"', 'title.zh = "二')
    found = problems(text)
    assert len(found) == 1
    line = line_of(text, 'title.zh = "二')
    assert f"bad.toml:{line}" in found[0]
    assert "TOML syntax" in found[0] and "not valid TOML" in found[0]


def test_unknown_phase_role_variable_and_field_are_refused():
    text = (
        GOOD.replace('phase = "initial"\nnext = "three"', 'phase = "intial"\nnext = "three"')
        .replace('role = "lead"', 'role = "boss"')
        .replace("pollutant_class = ", "pollutant_klass = ")
        .replace('title.en = "Three"', 'titel = "x"\ntitle.en = "Three"')
    )
    found = "\n".join(problems(text))
    assert "unknown phase 'intial'" in found and "did you mean 'initial'" in found
    assert "unknown role 'boss'" in found
    assert "unknown variable 'pollutant_klass'" in found
    assert "unknown field 'titel'" in found and "did you mean 'title'" in found


def test_unreachable_step_and_bad_branch_value():
    text = GOOD.replace('next = "three"\ntitle.en = "Two"', 'title.en = "Two"').replace(
        'goto = "three"', 'goto = "two"'
    )
    found = "\n".join(problems(text))
    assert 'step "three": this step is never reached' in found
    text = GOOD.replace('pollutant_class = "oil"', 'pollutant_class = "petrol"')
    assert "pollutant_class is never 'petrol'" in "\n".join(problems(text))


def test_all_problems_are_reported_at_once():
    text = GOOD.replace('next = "two"', 'next = "tow"').replace('deadline = "1h"', 'deadline = "soon"')
    assert len(problems(text)) == 2


def test_deadlines_and_reflow():
    assert parse_deadline("1h30m") == 90
    assert parse_deadline("2d") == 2880
    assert parse_deadline("45 min") == 45
    with pytest.raises(ValueError):
        parse_deadline("1.5h")
    assert reflow("one\ntwo\n\nthree") == "one two\n\nthree"
    assert reflow("中文\n继续") == "中文继续"


# ---------------------------------------------------------------- CLI


def test_cli_validate_ok_and_refusal(tmp_path, capsys):
    assert main(["playbook", "validate"]) == 0
    out = capsys.readouterr().out
    assert out.count(": OK") == 4
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace('next = "two"', 'next = "tow"'), encoding="utf-8")
    assert main(["playbook", "validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert re.search(rf"{re.escape(str(bad))}:21: step \"one\" next: unknown step 'tow'", err), err
    assert "fix:" in err


def test_cli_list_and_show(capsys):
    assert main(["playbook", "list"]) == 0
    out = capsys.readouterr().out
    assert "river_chemical_spill" in out and "heavy_metal_intake" in out
    assert main(["playbook", "show", "river_chemical_spill"]) == 0
    out = capsys.readouterr().out
    assert "field_survey" in out and "if intake_threatened=True: intake_warning" in out
    assert main(["playbook", "show", "no_such"]) == 2
    assert "no playbook 'no_such'" in capsys.readouterr().err


def test_the_documented_example_validates():
    page = (PLAYBOOK_DIR.parent / "docs" / "formats" / "playbook.md").read_text(encoding="utf-8")
    start = page.index('```toml\nid = "tiny_spill"') + len("```toml\n")
    example = page[start : page.index("```", start)]
    pb = parse_playbook(example, "docs/formats/playbook.md")
    assert pb.step("judgement").following({"pollutant_class": "heavy_metal"}) == "metal_test"


def test_playbook_catalogs_have_the_same_keys_in_both_languages():
    import tomllib

    from incident.core.i18n import LOCALE_DIR

    def keys(lang):
        with (LOCALE_DIR / lang / "playbook.toml").open("rb") as fh:
            data = tomllib.load(fh)
        return {f"{section}.{key}" for section, table in data.items() for key in table}

    assert keys("en") == keys("zh")
    from incident.playbook.actions import KNOWN_ACTIONS

    assert {label for label in KNOWN_ACTIONS.values()} <= keys("en")


# ---------------------------------------------------------------- the pydantic input layer (playbook/inputs.py)


def test_duplicate_ids_are_refused_on_every_table_with_the_other_problems():
    text = GOOD.replace('id = "three"', 'id = "two"')  # two steps "two"; "three" is gone
    with pytest.raises(PlaybookInvalid) as info:
        parse_playbook(text, "bad.toml")
    found = [p.render() for p in info.value.problems]
    dup = [p for p in found if "duplicate step id 'two'" in p]
    assert [p.split(":")[1] for p in dup] == [
        str(line_of(text, 'id = "two"', 1)),
        str(line_of(text, 'id = "two"', 2)),
    ]
    assert sum("unknown step 'three'" in p for p in found) == 2  # next and goto, in the same pass


def test_form_field_problems_name_the_form_line_and_field():
    form = (
        '[[step.form]]\nid = "x"\ntype = "txt"\nlabel.en = "X"\n\n'
        '[[step.form]]\nid = "y"\ntype = "choice"\nlabel.en = "Y"\nlabel.zh = "Y"\n'
        'choices = [{ value = "a", en = "A" }]\nsets = "Bad"\nrequired = "yes"\n\n'
    )
    text = GOOD.replace('[[step]]\nid = "three"', form + '[[step]]\nid = "three"')
    found = problems(text)
    expected = {
        ('type = "txt"', 'step "two" form x type', "unknown field type 'txt'"),
        ('label.en = "X"', 'step "two" form x label.zh', "missing translation"),
        ('value = "a"', 'step "two" form y choice a zh', "missing translation"),
        ('sets = "Bad"', 'step "two" form y sets', "bad variable name 'Bad'"),
        ('required = "yes"', 'step "two" form y required', "'yes' is not yes/no"),
    }
    for needle, field, message in expected:
        assert any(p.startswith(f"bad.toml:{line_of(text, needle)}: {field}: {message}") for p in found), (
            needle,
            found,
        )
    assert len(found) == len(expected), found


def test_refusals_are_in_chinese_too():
    text = GOOD.replace('next = "two"', 'next = "tow"').replace('title.zh = "二"\n', "")
    with pytest.raises(PlaybookInvalid) as info:
        parse_playbook(text, "bad.toml")
    zh = info.value.render("zh")
    assert zh.startswith("bad.toml: 2 处问题") and "未采用该预案" in zh
    assert "bad.toml:21: step \"one\" next: 未知步骤 'tow'" in zh
    assert 'bad.toml:38: step "two" title.zh: 缺少译文' in zh and '请添加 title.zh = "..."' in zh
    for p in info.value.problems:
        assert p.message("zh") != p.message("en") and p.fix_text("zh")


@pytest.mark.parametrize(
    "edit",
    [
        ('version = 1\nstart = "one"', 'version = 1e999\nstart = "one"'),
        ('deadline = "1h"', 'deadline = "99999999999999999999999d"'),
        ('deadline = "1h"', 'deadline = "１h"'),
        ('kind = "flash"', "kind = nan"),
        ('pollutant_class = "oil"', "pollutant_class = inf"),
        ('pollutant_class = "oil"', "pollutant_class = 99999999999999999999"),
        ('next = "two"', 'next = "\\u202etwo"'),
        ('id = "one"', 'id = "\\u0000"'),
        ("checklist = [", "checklist = 3\nx = ["),
        ('role = "lead"', "role = { id = 1 }"),
    ],
)
def test_hostile_values_get_only_the_playbook_refusal(edit):
    text = GOOD.replace('start = "one"', 'version = 1\nstart = "one"').replace(*edit)
    assert text != GOOD
    found = problems(text)
    assert found and all(re.match(r"bad\.toml:\d+: ", p) for p in found), found


def test_a_form_field_setting_a_builtin_variable_is_checked_with_its_choices():
    form = (
        '[[step.form]]\nid = "cls"\ntype = "choice"\nlabel.en = "C"\nlabel.zh = "类"\nsets = "pollutant_class"\n'
        'choices = [{ value = "oil", en = "Oil", zh = "油" }, { value = "gas", en = "Gas", zh = "气" }]\n\n'
        '[[step.form]]\nid = "empty"\ntype = "choice"\nlabel.en = "E"\nlabel.zh = "空"\nsets = "intake_threatened"\n\n'
    )
    text = GOOD.replace('[[step]]\nid = "three"', form + '[[step]]\nid = "three"')
    found = problems(text)
    assert len(found) == 3, found
    sets_line = line_of(text, 'sets = "pollutant_class"')
    assert any(
        p.startswith(f'bad.toml:{sets_line}: step "two" form cls sets: ')
        and "'pollutant_class' takes heavy_metal, organic, oil, other" in p
        for p in found
    ), found
    assert any("form empty choices: a choice field has no choices" in p for p in found), found
    assert any("'intake_threatened' is yes/no but the field is 'choice'" in p for p in found), found
