"""The corpus in tests/bad_lessons/: each file is one mistake; its header says which field the
message must name and what it must say. Every one exits 2 through the CLI, with no traceback and
nothing written."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import cli

CORPUS = sorted((Path(__file__).parent / "bad_lessons").glob("*.yaml"))


def expectations(path: Path) -> dict:
    head = path.read_bytes()[:400].decode("utf-8", "replace")
    return dict(re.findall(r"^# (says|field): (.+)$", head, flags=re.M))


def test_corpus_is_complete():
    assert len(CORPUS) >= 25


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_bad_lesson_gives_a_clear_error(path, tmp_path):
    want = expectations(path)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", "--lessons", str(path), "--out", str(out), "--variants", "1",
                                      "--targets", "moodle"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert str(path) in text
    assert "empty" in text if path.stem.endswith("empty") else want["says"] in text
    if "field" in want:
        assert f"field '{want['field']}'" in text
    if path.stem[:2] not in ("21", "22", "24"):     # where a line exists, it is named
        assert re.search(r"line \d+", text), text
    assert not out.exists()
