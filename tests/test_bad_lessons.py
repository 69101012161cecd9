"""The bad-lesson corpus: tests/bad_lessons/mutations.yaml (one mistake each, applied to the
example lesson) and the whole files beside it. Every one exits 2 through the CLI with a message
naming the file, the field and the line, no traceback, and nothing written."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import cli

from .conftest import LESSONS

HERE = Path(__file__).parent / "bad_lessons"
MUTATIONS = yaml.safe_load((HERE / "mutations.yaml").read_text("utf-8"))
WHOLE_FILES = sorted(HERE.glob("*.yaml"))
WHOLE_FILES.remove(HERE / "mutations.yaml")
EXAMPLE = (LESSONS / "lesson-1.2.32.yaml").read_text("utf-8")


def test_corpus_is_complete():
    assert len(MUTATIONS) + len(WHOLE_FILES) >= 25
    for case in MUTATIONS:
        assert EXAMPLE.count(case["old"]) >= case.get("count", 1), f"{case['name']}: 'old' no longer in the lesson"


def _run(path, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", "--lessons", str(path), "--out", str(out), "--variants", "1",
                                      "--targets", "moodle"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    return " ".join(result.output.split())


@pytest.mark.parametrize("case", MUTATIONS, ids=[c["name"] for c in MUTATIONS])
def test_mutated_lesson_gives_a_clear_error(case, tmp_path):
    path = tmp_path / f"{case['name']}.yaml"
    path.write_text(EXAMPLE.replace(case["old"], case["new"], case.get("count", 1)), "utf-8")
    text = _run(path, tmp_path)
    assert str(path) in text and case["says"] in text, text
    if "field" in case:
        assert f"field '{case['field']}'" in text, text
    assert re.search(r"line \d+", text), text


@pytest.mark.parametrize("path", WHOLE_FILES, ids=[p.stem for p in WHOLE_FILES])
def test_broken_file_gives_a_clear_error(path, tmp_path):
    head = path.read_bytes()[:400].decode("utf-8", "replace")
    says = dict(re.findall(r"^# (says): (.+)$", head, flags=re.M)).get("says", "empty")
    text = _run(path, tmp_path)
    assert str(path) in text and says in text, text
