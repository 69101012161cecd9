"""A newcomer's paths: a clone with nothing beside it, a regular (non-editable) install from a
wheel, and the README's set-up lines."""
from __future__ import annotations

import json
import os
import re
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from .conftest import ROOT, SCHEMA_FILES, SCHEMAS_ENV, in_ci, require_schemas

SHIPPED_LESSON = "lesson-1.2.32.yaml"


def _run(args, cwd, timeout=300):
    """Run a command as a user would: without CI, GEN_IMS_SCHEMAS, PYTHONPATH or pytest's settings."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("CI", SCHEMAS_ENV, "PYTHONPATH") and not k.startswith("PYTEST_")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=clean, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def tracked() -> list[str]:
    """The files git tracks; these tests need a git checkout (CI always has one)."""
    listed = (subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True)
              if shutil.which("git") else None)
    if listed is None or listed.returncode != 0:
        (pytest.fail if in_ci() else pytest.skip)("not a git checkout: cannot tell what a clone holds")
    return [rel for rel in listed.stdout.split("\0") if rel and (ROOT / rel).is_file()]


def _clone(tracked: list[str], dest: Path) -> Path:
    """What a clone holds (the tracked files, as they are in the working tree, so uncommitted edits
    are tested too), in a folder with nothing beside it (so no schema folder either)."""
    for rel in tracked:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    return dest


def _junit(path: Path) -> dict[str, tuple[str, str]]:
    """test id -> (outcome, message) from pytest's JUnit XML."""
    results = {}
    for case in etree.parse(str(path)).iter("testcase"):
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome, message = child.tag, child.get("message", "")
        results[f"{case.get('classname')}.{case.get('name')}"] = (outcome, message)
    return results


# --- the schema folder ------------------------------------------------------------------------

@pytest.mark.parametrize("environ, expected", [
    ({}, pytest.skip.Exception),
    ({"CI": "false"}, pytest.skip.Exception),
    ({"CI": "true"}, pytest.fail.Exception),
    ({SCHEMAS_ENV: "{missing}"}, pytest.fail.Exception),     # set on purpose, so never skipped
])
def test_missing_schemas_skip_outside_ci_and_fail_in_it(tmp_path, environ, expected):
    missing = tmp_path / "nowhere"
    environ = {k: v.format(missing=missing) for k, v in environ.items()}
    with pytest.raises(expected) as info:
        require_schemas(environ, default=missing)
    assert SCHEMAS_ENV in str(info.value)


def test_gen_ims_schemas_wins_over_the_default(tmp_path):
    chosen = tmp_path / "xsd"
    for name in SCHEMA_FILES:
        (chosen / name).parent.mkdir(parents=True, exist_ok=True)
        (chosen / name).write_text("<schema/>")
    assert require_schemas({SCHEMAS_ENV: str(chosen)}, default=tmp_path / "nowhere") == chosen
    assert require_schemas({}, default=chosen) == chosen


def test_a_fresh_clone_skips_only_the_schema_checks(tmp_path, tracked):
    """The schema-dependent tests, run in a clone with nothing beside it and neither CI nor
    GEN_IMS_SCHEMAS set: each one's other assertions pass, then its schema validation skips."""
    clone = _clone(tracked, tmp_path / "clone")
    where = _run([sys.executable, "-c", "import generator; print(generator.__file__)"], cwd=clone)
    assert Path(where.stdout.strip()).is_relative_to(clone), where
    report = tmp_path / "junit.xml"
    run = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "ims_schemas",
                f"--junitxml={report}"], cwd=clone)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    results = _junit(report)
    assert len(results) >= 3, results
    for test, (outcome, message) in results.items():
        assert outcome == "skipped" and SCHEMAS_ENV in message and "Only this schema" in message, (test, message)


@pytest.mark.slow
def test_a_git_clone_of_the_last_commit_passes_the_whole_suite(tmp_path, tracked):
    clone = tmp_path / "clone"                          # a real clone, so its own git-based tests run too
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, capture_output=True)
    run = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=clone, timeout=1800)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]


# --- the README's set-up lines ----------------------------------------------------------------

def test_ci_runs_exactly_the_readme_test_line():
    setup = (ROOT / "README.md").read_text("utf-8").split("\n## Set up", 1)[1].split("\n## ", 1)[0]
    build_line, test_line = re.findall(r"```sh\n(.+)\n```", setup)[:2]
    assert "gen build --seed 42" in build_line and "pytest" in test_line
    for line in (build_line, test_line):     # a stock Debian/Ubuntu python3 refuses pip outside a venv (PEP 668)
        assert line.startswith("python3 -m venv .venv && . .venv/bin/activate && "), line
    commands = [line for line in (ROOT / ".ci" / "run").read_text("utf-8").splitlines()
                if line.strip() and not line.startswith(("#", "set ", "cd ", "export "))]
    assert commands == [test_line]
    assert ".venv/" in (ROOT / ".gitignore").read_text("utf-8").split()


# --- a regular install ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wheel(tmp_path_factory, tracked) -> Path:
    """`pip wheel .` in a clone (not in this checkout: building writes scratch files beside the source)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = _clone(tracked, tmp / "src")
    run = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                "-w", tmp / "dist", src], cwd=tmp)
    assert run.returncode == 0, run.stderr[-3000:]
    [built] = (tmp / "dist").glob("*.whl")
    return built


def test_the_wheel_ships_every_template_and_the_example_lesson(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"generator/_shipped/templates/{p.relative_to(ROOT / 'templates').as_posix()}"
                for p in (ROOT / "templates").rglob("*") if p.is_file()}
    expected |= {f"generator/_shipped/lesson_data/{p.name}" for p in (ROOT / "lesson_data").glob("*.yaml")}
    assert f"generator/_shipped/lesson_data/{SHIPPED_LESSON}" in expected
    assert expected <= names, sorted(expected - names)
    assert not any(n.startswith(("templates/", "lesson_data/", "tests/")) for n in names)


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel) -> Path:
    """A fresh venv with the wheel installed (not editable) and the dependencies of this run visible."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                        cwd=root).stdout.strip())
    # --system-site-packages reaches only the base interpreter's packages; when this run is itself in a
    # venv (the README's .venv) its dependencies are there, so list them as plain paths. Plain paths,
    # not site dirs: their .pth files (the editable install of this checkout) must not run.
    (purelib / "outer-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    run = _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
                "--no-build-isolation", wheel], cwd=root)
    assert run.returncode == 0, run.stderr[-3000:]
    where = _run([python, "-c", "import generator.resources as r; print(r.__file__); print(r.example_lessons())"],
                 cwd=root)
    for path in where.stdout.split():
        assert Path(path).is_relative_to(purelib), where     # the installed copy, not this checkout
    return root


def test_a_wheel_install_builds_the_shipped_lesson_from_an_empty_folder(venv, tmp_path):
    gen = venv / "bin" / "gen"
    # Every default target: each one reads its own templates, and a target that looked for them
    # beside the package instead of in it would only fail here.
    run = _run([gen, "build", "--seed", "42", "--variants", "1"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    said = [line for line in run.stderr.splitlines() if "example lesson shipped with gen" in line]
    assert len(said) == 1 and "gen init" in said[0], run.stderr
    out = tmp_path / "build" / "lesson-1.2.32"
    manifest = json.loads((tmp_path / "build" / "manifest.json").read_text("utf-8"))
    written = {Path(entry["path"]).name for entry in manifest["outputs"]}
    for name in ("moodle.xml", "canvas-qti.zip", "lesson-1.2.32.apkg", "worksheet.pdf", "answer-key.pdf",
                 "worksheet.html", "notebook.ipynb", "notebook-teacher.ipynb"):
        assert name in written and (out / name).stat().st_size > 0, name
    quiet = _run([gen, "build", "-q", "--seed", "42", "--variants", "1", "--targets", "moodle", "--out", "b2"],
                 cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == "", quiet


def test_gen_init_copies_out_what_the_next_build_uses(venv, tmp_path):
    gen = venv / "bin" / "gen"
    run = _run([gen, "init", "course"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    course = tmp_path / "course"
    copied = {p.relative_to(course).as_posix() for p in course.rglob("*") if p.is_file()}
    shipped = {f"templates/{p.relative_to(ROOT / 'templates').as_posix()}"
               for p in (ROOT / "templates").rglob("*") if p.is_file()}
    assert copied == shipped | {f"lesson_data/{SHIPPED_LESSON}"}
    css = course / "templates" / "anki" / "style.css"
    css.write_text(css.read_text("utf-8") + "\n/* the teacher's own style */\n", "utf-8")

    again = _run([gen, "init", "course"], cwd=tmp_path)
    assert again.returncode == 2 and "never overwrites" in again.stderr, again
    assert "the teacher's own style" in css.read_text("utf-8")

    build = _run([gen, "build", "--seed", "42", "--variants", "1", "--targets", "anki"], cwd=course)
    assert build.returncode == 0, build.stderr
    assert "example lesson" not in build.stderr                 # ./lesson_data was used
    deck = zipfile.ZipFile(course / "build" / "lesson-1.2.32" / "lesson-1.2.32.apkg")
    assert any(b"the teacher's own style" in deck.read(n) for n in deck.namelist())   # ./templates/anki was used
