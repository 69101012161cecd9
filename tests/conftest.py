from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lesson_data"
SCHEMAS = ROOT.parent / "shared" / "schemas"


def small_options(**kw):
    from generator.pipeline import Options
    base = dict(seed=42, variants=3, anki_variants=2, copies=2)
    base.update(kw)
    return Options(**base)


@pytest.fixture(scope="session")
def small_build(tmp_path_factory):
    """One small build of the real lesson, shared by the output tests."""
    from generator.pipeline import build
    out = tmp_path_factory.mktemp("small") / "build"
    files = build([LESSONS], out, small_options())
    manifest = json.loads(files["manifest.json"])
    return out, files, manifest


@pytest.fixture
def lesson_copy(tmp_path):
    """A writable copy of the real lesson file, to mutate."""
    path = tmp_path / "lesson.yaml"
    shutil.copy(LESSONS / "lesson-1.2.32.yaml", path)
    return path
