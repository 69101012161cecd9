"""Property: whatever a teacher does to a valid lesson file, gen either builds it or explains the
problem cleanly (a GenError, exit code 2). Never a crash, never a hang."""
from __future__ import annotations

import os

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.errors import GenError
from generator.pipeline import build

from .conftest import LESSONS, small_options

BASE = yaml.safe_load((LESSONS / "lesson-1.2.32.yaml").read_text("utf-8"))
EXAMPLES = int(os.environ.get("GEN_FUZZ_EXAMPLES", "200"))

values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
    st.text(max_size=40), st.sampled_from(["gradient", "famly", "x**2 + 3*y", "3y", "^^", "-5", "[]", ""]),
    st.lists(st.integers(-50, 50), max_size=4), st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
)


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


ALL_PATHS = [p for p in paths(BASE) if p]


def apply(doc, path, action, value):
    import copy
    doc = copy.deepcopy(doc)
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    key = path[-1]
    if action == "delete":
        del parent[key]
    elif action == "replace":
        parent[key] = value
    elif action == "rename" and isinstance(parent, dict):
        parent[str(key) + "x"] = parent.pop(key)
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[key]))
    return doc


mutation = st.tuples(st.sampled_from(ALL_PATHS), st.sampled_from(["delete", "replace", "rename", "duplicate"]),
                     values)


OUTCOMES = {"built": 0, "clean error": 0}


def check_mutations(tmp_path_factory, mutations):
    doc = BASE
    for path, action, value in mutations:
        try:
            doc = apply(doc, path, action, value)
        except (KeyError, IndexError, TypeError):
            continue
    tmp = tmp_path_factory.mktemp("fuzz")
    lesson = tmp / "lesson.yaml"
    lesson.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    try:
        build([lesson], tmp / "out", small_options(variants=1, targets=("moodle",)))
        OUTCOMES["built"] += 1
    except GenError as exc:
        assert exc.exit_code == 2 and str(exc.message).strip()
        assert not (tmp / "out").exists()
        OUTCOMES["clean error"] += 1


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(mutation, min_size=1, max_size=3))
def test_mutated_lessons_build_or_fail_cleanly(tmp_path_factory, mutations):
    check_mutations(tmp_path_factory, mutations)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(mutation, min_size=1, max_size=5))
def test_mutated_lessons_many(tmp_path_factory, mutations):
    check_mutations(tmp_path_factory, mutations)


def teardown_module():
    print(f"\nfuzz outcomes: {OUTCOMES}")
