"""Bad lesson data: a one-paragraph message naming file, field, line and fix; exit code 2; no
traceback; nothing written."""
from __future__ import annotations


import pytest
from click.testing import CliRunner

from generator.cli import cli
from generator.errors import LessonError
from generator.lesson import load_lesson


def mutate(path, old, new, count=1):
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), "utf-8")
    return path


def error_for(path) -> LessonError:
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    return info.value


def line_of(path, needle):
    for i, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


def test_real_lesson_is_valid():
    from .conftest import LESSONS
    lesson = load_lesson(LESSONS / "lesson-1.2.32.yaml")
    assert len(lesson.exercises) == 9 and len(lesson.quiz.true_false) == 4
    assert len(lesson.quiz.conceptual) == 3 and len(lesson.quiz.coding) == 1


def test_typo_in_field_name_suggests_the_right_one(lesson_copy):
    mutate(lesson_copy, "family: steepest_ascent", "famly: steepest_ascent")
    err = error_for(lesson_copy)
    assert "unknown field 'famly'" in err.message and "Did you mean 'family'" in err.message
    assert err.field == "exercises[2].problems[0].famly"
    assert err.line == line_of(lesson_copy, "famly:")
    assert str(lesson_copy) in err.message


@pytest.mark.parametrize("old, new, field, words", [
    ("family: steepest_ascent", "family: steepest_ascnt", "exercises[2].problems[0].family", "Did you mean 'steepest_ascent'"),
    ("level: 2\n    prompt: Compute directional", "level: two\n    prompt: Compute directional", "exercises[3].level", "integer"),
    ("title: Gradients and Directional Derivatives\n", "\n", "title", "missing"),
    ('id: "1.2.32.9"', 'id: "1.2.32.8"', "(top level)", "duplicate exercise"),
    ("params: {variables: 2, choices: 3}", "params: {variables: 7, choices: 3}", "exercises[8].problems[0]", "variables"),
    ("params: {variables: 2, form: polynomial}", "params: {variables: 2, form: polynomial, degree: 50}",
     "exercises[1].problems[1]", "degree"),
    ("coefficients: [-3, 3], point_range: [-2, 2]", "coefficients: [3, -3], point_range: [-2, 2]",
     "exercises[7].problems[0]", "empty"),
    ('fixed: {function: "x**2 + 3*y"}', 'fixed: {function: "x**2 + 3y"}', "quiz.coding[0].problems[0].fixed.function", "3*y"),
    ('fixed: {function: "x**2 + 3*y"}', 'fixed: {function: "__import__(\'os\')"}', "quiz.coding[0].problems[0].fixed.function", "not an allowed"),
    ("id: lesson-1.2.32", "id: ../../x", "id", "pattern"),
    ("answer: true\n      reason: \"$grad", "answer: maybe\n      reason: \"$grad", "quiz.true_false[0].answer", "boolean"),
    ('while holding {{c1::every other variable constant}}"',
     'while holding every other variable constant"', "key_takeaways[0].cloze", "deletion"),
])
def test_bad_values_name_the_field(lesson_copy, old, new, field, words):
    mutate(lesson_copy, old, new)
    err = error_for(lesson_copy)
    assert err.field == field, err.message
    assert words.lower() in err.message.lower(), err.message
    assert err.line is not None


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (b"id: [unclosed\n", "YAML syntax error"),
    (b"a: &x [1, 2]\nb: *x\n", "anchors and aliases"),
    (b"id: caf\xe9\n", "not UTF-8"),
    (b"- just\n- a list\n", "top level must be a mapping"),
    (b"id: a\nid: b\n", "appears twice"),
    (b"x" * 1_000_001, "limited to"),
])
def test_unreadable_files(tmp_path, content, words):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    err = error_for(path)
    assert words in err.message


def test_billion_laughs_is_refused_before_expansion(tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert "anchors and aliases" in error_for(path).message


def test_cli_reports_bad_lesson_with_exit_2_and_writes_nothing(lesson_copy, tmp_path):
    mutate(lesson_copy, "family: steepest_ascent", "famly: steepest_ascent")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", "--lessons", str(lesson_copy), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "famly" in result.output and "line" in result.output
    assert not out.exists()
    assert not list(tmp_path.glob(".out.*"))


def test_validate_command(lesson_copy):
    ok = CliRunner().invoke(cli, ["validate", str(lesson_copy), "--variants", "1", "--targets", "moodle"])
    assert ok.exit_code == 0 and "ok" in ok.output
    mutate(lesson_copy, "level: 3\n    prompt: Compute gradient for", "level: 9\n    prompt: Compute gradient for")
    bad = CliRunner().invoke(cli, ["validate", str(lesson_copy), "--variants", "1", "--targets", "moodle"])
    assert bad.exit_code == 2 and "level 9" in bad.output


def test_schema_is_json_schema():
    import json
    result = CliRunner().invoke(cli, ["schema"])
    schema = json.loads(result.output)
    assert schema["type"] == "object" and "exercises" in schema["properties"]
    assert set(schema["required"]) >= {"id", "title", "objectives", "levels", "revised"}
