"""The Jupyter notebook target, checked by its consumers: nbformat's validator, a real Jupyter kernel
(nbclient + ipykernel) and, in a slow test, nbgrader itself.

One kernel runs every notebook of the module (its namespace is reset between runs), so the whole
file costs a kernel start plus about a second per executed notebook.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import sympy as sp
from click.testing import CliRunner

from generator.cli import cli
from generator.errors import VerificationError
from generator.families import CODE_FORMS
from generator.pipeline import prepare
from generator.targets import _codeforms, notebook

from .conftest import LESSONS, small_options

OPTIONS = small_options(targets=("notebook",))       # 3 variants, 2 copies


@pytest.fixture(scope="module")
def lesson_build():
    return prepare([LESSONS], OPTIONS)[0]


@pytest.fixture(scope="module")
def files(lesson_build):
    return notebook.render(lesson_build, OPTIONS)


def read(files, name):
    return nbformat.reads(files[name].decode("utf-8"), as_version=4)


def test_each_notebook_is_byte_for_byte_what_nbformat_writes(files):
    # gen writes the JSON itself (nbformat's import costs a build ~0.1 s); nbformat, reading it
    # and writing it back, must find nothing to change.
    for name, data in files.items():
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
        assert (nbformat.writes(nb) + "\n").encode("utf-8") == data, name


def grade_id(cell) -> str:
    return cell.metadata["nbgrader"]["grade_id"]


def graded_cells(nb):
    return [c for c in nb.cells if c.metadata["nbgrader"]["grade"]]


# --- the files themselves -----------------------------------------------------------------------

def test_writes_student_and_teacher_notebooks_per_version(files):
    code = notebook.version_code(OPTIONS.seed, "lesson-1.2.32", 2)
    assert set(files) == {"notebook.ipynb", "notebook-teacher.ipynb",
                          f"notebook-{code}.ipynb", f"notebook-{code}-teacher.ipynb"}
    for name in files:
        nb = read(files, name)
        nbformat.validate(nb)
        assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
        assert nb.metadata["gen"]["edition"] == ("teacher" if name.endswith("-teacher.ipynb") else "student")
        version = nb.metadata["gen"]["version"]
        assert version in nb.cells[0].source            # the version code is printed in the intro
        assert version == (code if code in name else notebook.version_code(OPTIONS.seed, "lesson-1.2.32", 1))
        # The seed rebuilds every version and its answers: the teacher's, like the answer key.
        shows_seed = f"seed {OPTIONS.seed}" in nb.cells[0].source
        assert shows_seed == name.endswith("-teacher.ipynb"), name


def test_version_two_draws_other_exercises_but_keeps_the_challenge(files):
    code = notebook.version_code(OPTIONS.seed, "lesson-1.2.32", 2)
    one, two = read(files, "notebook-teacher.ipynb"), read(files, f"notebook-{code}-teacher.ipynb")
    given = {grade_id(c): c.source for c in one.cells}
    given2 = {grade_id(c): c.source for c in two.cells}
    assert given.keys() == given2.keys()
    assert given["q8-a-given"] == given2["q8-a-given"] == "def f(x, y):\n    return x**2 + 3*y"
    assert given["1_2_32_2-a-given"] != given2["1_2_32_2-a-given"]


def test_same_inputs_same_bytes_and_nothing_executed(lesson_build, files):
    assert notebook.render(lesson_build, OPTIONS) == files
    for name in files:
        raw = json.loads(files[name])
        assert raw == json.loads(json.dumps(raw, sort_keys=True))
        for cell in raw["cells"]:
            assert re.fullmatch(r"[0-9a-f]{16}", cell["id"])
            if cell["cell_type"] == "code":
                assert cell["execution_count"] is None and cell["outputs"] == []
        ids = [c["id"] for c in raw["cells"]]
        assert len(set(ids)) == len(ids)


def test_nbgrader_metadata_points_and_editions(lesson_build, files):
    lesson = lesson_build.lesson
    teacher, student = read(files, "notebook-teacher.ipynb"), read(files, "notebook.ipynb")
    assert [c.id for c in teacher.cells] == [c.id for c in student.cells]
    for cell in teacher.cells:
        meta = cell.metadata["nbgrader"]
        assert meta["schema_version"] == 3 and meta["task"] is False and re.fullmatch(r"[A-Za-z0-9_-]+", meta["grade_id"])
        assert ("points" in meta) == meta["grade"]
        if meta["grade"]:
            assert meta["locked"] and not meta["solution"] and cell.cell_type == "code"
        if meta["solution"]:
            assert not meta["locked"] and "### BEGIN SOLUTION" in cell.source
    points = {}
    for cell in graded_cells(teacher):
        task = grade_id(cell).rsplit("-", 1)[0]
        points[task] = points.get(task, 0) + cell.metadata["nbgrader"]["points"]
    assert points["q8-a"] == lesson.quiz.points["coding"]
    for ex, spec in (("1.2.32.2", "a"), ("1.2.32.2", "b"), ("1.2.32.4", "a"), ("1.2.32.8", "a")):
        level = next(e.level for e in lesson.exercises if e.id == ex)
        assert points[f"{ex.replace('.', '_')}-{spec}"] == lesson.level(level).points
    # The student edition is the teacher's with solutions stubbed and hidden tests removed.
    for t, s in zip(teacher.cells, student.cells):
        assert "BEGIN SOLUTION" not in s.source and "HIDDEN TESTS" not in s.source
        if t.metadata["nbgrader"]["solution"]:
            assert "raise NotImplementedError()" in s.source
        if "HIDDEN TESTS" in t.source:
            visible, rest = t.source.split("### BEGIN HIDDEN TESTS\n")
            assert s.source == (visible + rest.split("### END HIDDEN TESTS")[1].lstrip("\n")).strip("\n")


def test_student_copy_does_not_print_the_exercises_own_answers(lesson_build, files):
    student = {grade_id(c): c.source for c in read(files, "notebook.ipynb").cells}
    teacher = {grade_id(c): c.source for c in read(files, "notebook-teacher.ipynb").cells}
    hidden = 0
    for task in tasks_of(lesson_build):
        for case in task.values.get("hidden", ()):
            answer = notebook.literal(case[-1][-1] if task.problem.family == "gradient_descent_step" else case[-1])
            assert answer in teacher[f"{task.key}-test"] and answer not in student[f"{task.key}-test"], task.key
            hidden += 1
    assert hidden == 4          # ∇h(P), D_u k(P), and x_n and x_10 of the descent exercise


def test_registry_covers_exactly_the_code_capable_families():
    assert set(_codeforms.FORMS) == set(CODE_FORMS)


def test_coding_challenge_without_code_form_is_an_error_at_validate_time(lesson_copy):
    text = lesson_copy.read_text()
    challenge = text.index("  coding:")
    lesson_copy.write_text(text[:challenge] + text[challenge:].replace("family: gradient", "family: steepest_ascent", 1))
    result = CliRunner().invoke(cli, ["validate", str(lesson_copy)])
    assert result.exit_code == 2, result.output
    assert "quiz.coding[0].problems" in result.output
    assert "family 'steepest_ascent', which has no code form" in result.output
    assert "gradient, gradient_at_point, directional_derivative, gradient_descent_step" in result.output


def test_a_value_the_numeric_route_disputes_stops_the_build(lesson_build, monkeypatch):
    real = _codeforms.V.numeric_gradient
    monkeypatch.setattr(_codeforms.V, "numeric_gradient", lambda fn, pt: [c + 1 for c in real(fn, pt)])
    with pytest.raises(VerificationError) as exc:
        notebook.render(lesson_build, OPTIONS)
    assert exc.value.exit_code == 1 and "failed independent verification" in str(exc.value)


# --- convergence analysis ---------------------------------------------------------------------

def verdict(A, b, eta, start):
    A, b = sp.Matrix(A), sp.Matrix(b)
    return _codeforms.DescentForm._verdict(A, b, sp.eye(A.shape[0]) - sp.Rational(eta) * A, sp.Matrix(start))


@pytest.mark.parametrize("A, b, eta, start, expected", [
    ([[2, 0], [0, 2]], [0, 0], "1/4", [1, 2], (True, (0, 0))),            # bowl, small step
    ([[2, 0], [0, 2]], [-2, 4], "1/4", [1, 2], (True, (1, -2))),          # bowl centred at (1, -2)
    ([[2, 0], [0, 2]], [0, 0], "1", [1, 2], (False, None)),               # ηλ = 2: bounces for ever
    ([[2, 0], [0, 2]], [0, 0], "3/2", [1, 2], (False, None)),             # overshoots and grows
    ([[0, 0], [0, 2]], [1, 0], "1/4", [1, 2], (False, None)),             # a slope: drifts for ever
    ([[2, 2], [2, 2]], [0, 0], "1/8", [1, 0], (True, (sp.Rational(1, 2), sp.Rational(-1, 2)))),  # valley floor
    ([[2, 0], [0, -2]], [0, 0], "1/4", [1, 1], (False, None)),            # saddle
    ([[2, 0], [0, -2]], [0, 0], "1/4", [1, 0], None),                     # saddle's stable line: roundoff decides
])
def test_convergence_verdict(A, b, eta, start, expected):
    assert verdict(A, b, eta, start) == expected


# --- executed in a real kernel ----------------------------------------------------------------

@pytest.fixture(scope="module")
def kernel():
    """Run a notebook's code cells one by one in one shared kernel; errors are kept as outputs."""
    from nbclient import NotebookClient
    client = NotebookClient(nbformat.v4.new_notebook(), kernel_name="python3", timeout=120, allow_errors=True)
    with client.setup_kernel():
        def run(nb):
            client.nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%reset -f")])
            client.execute_cell(client.nb.cells[0], 0, store_history=False)     # forget the last run
            client.nb = nb
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)
            return nb
        yield run


def error_of(cell):
    errors = [o for o in cell.outputs if o.output_type == "error"]
    return (errors[0].ename, errors[0].evalue) if errors else None


def test_teacher_version_passes_every_test(kernel, files):
    nb = kernel(read(files, "notebook-teacher.ipynb"))
    failed = {grade_id(c): error_of(c) for c in nb.cells if c.cell_type == "code" and error_of(c)}
    assert failed == {}
    for cell in graded_cells(nb):
        assert "✓" in "".join(o.get("text", "") for o in cell.outputs)
    plot = next(c for c in nb.cells if grade_id(c).endswith("-plot"))
    assert any("image/png" in o.get("data", {}) for o in plot.outputs)


def test_student_version_fails_every_test_with_its_teaching_message(kernel, files):
    nb = kernel(read(files, "notebook.ipynb"))
    for cell in graded_cells(nb):
        ename, message = error_of(cell)
        assert ename == "AssertionError", (grade_id(cell), ename, message)
        assert re.search(r"is not (written|defined) yet", message), message
    for cell in nb.cells:
        if cell.cell_type == "code" and not cell.metadata["nbgrader"]["grade"]:
            assert error_of(cell) in (None, ("NotImplementedError", "")), grade_id(cell)


def wrong(task) -> tuple[str, str, str]:
    """(cell to change, code appended to it, what the failing test must say): one classic slip per
    task, written on top of the reference solution."""
    n, grad = task.names, task.names["grad"]
    last = task.problem.variables[-1]
    halve = (f"\n_right_{grad} = {grad}\n\ndef {grad}(*args):\n    g = list(_right_{grad}(*args))\n"
             f"    g[-1] = g[-1] / 2        # a dropped factor\n    return tuple(g)\n")
    family = task.problem.family
    if family == "gradient":
        return "solution", halve, f"check ∂{task.letter}/∂{last}"
    if family == "gradient_at_point":
        return "solution", halve + f"{n['value']} = {grad}(*P)\n", f"check ∂{task.letter}/∂{last}"
    if family == "directional_derivative":
        return ("solution", f"\ndef {n['rate']}(P, v):\n    return float(np.dot({grad}(*P), v))   # not normalised\n",
                "did you divide v by its length")
    return ("solution", f"\n_right = {n['descend']}\n\ndef {n['descend']}(x0, eta, steps):\n"
            f"    return _right(x0, -eta, steps)     # uphill\n", "that step went uphill")


def tasks_of(lesson_build):
    return [t for block in notebook.blocks(lesson_build, 1) for t in block.tasks]


def test_each_wrong_solution_fails_its_own_test_and_no_other(kernel, files, lesson_build):
    tasks = tasks_of(lesson_build)
    assert {t.problem.family for t in tasks} == set(CODE_FORMS)
    for task in tasks:
        role, code, says = wrong(task)
        nb = read(files, "notebook-teacher.ipynb")
        target = next(c for c in nb.cells if grade_id(c) == f"{task.key}-{role}")
        target.source += "\n" + code
        kernel(nb)
        failed = {grade_id(c): error_of(c) for c in graded_cells(nb) if error_of(c)}
        assert f"{task.key}-test" in failed, (task.key, failed)
        assert all(key.startswith(task.key + "-") for key in failed), (task.key, failed)
        ename, message = failed[f"{task.key}-test"]
        assert ename == "AssertionError" and says in message, message


def test_a_wrong_convergence_answer_fails_only_the_hidden_check(kernel, files, lesson_build):
    task = next(t for t in tasks_of(lesson_build) if t.problem.family == "gradient_descent_step")
    q, n = task.values["question"], task.names
    nb = read(files, "notebook-teacher.ipynb")
    answer = next(c for c in nb.cells if grade_id(c) == f"{task.key}-answer")
    answer.source += (f"\n{n['converges']} = not {n['converges']}\n"
                      f"{n['limit']} = (0.0,) * {len(q.start)} if {n['converges']} else None\n")
    kernel(nb)
    failed = {grade_id(c): error_of(c) for c in graded_cells(nb) if error_of(c)}
    assert list(failed) == [f"{task.key}-answer_test"]
    assert "settle" in failed[f"{task.key}-answer_test"][1]


# --- nbgrader's own view (slow; skipped without nbgrader) --------------------------------------

def nbgrader_command():
    found = os.environ.get("NBGRADER") or shutil.which("nbgrader")
    if not found:
        pytest.skip("nbgrader is not installed (set NBGRADER=/path/to/bin/nbgrader to run this test)")
    return found


@pytest.mark.slow
def test_nbgrader_validates_generates_and_autogrades(tmp_path, files):
    """The teacher's workflow: validate the source, generate the release (it must equal our student
    edition, bar the intro), then autograde two submissions: untouched stubs and the reference
    solutions typed into the released notebook."""
    exe = nbgrader_command()
    course = tmp_path / "course"
    source = course / "source" / "lesson"
    source.mkdir(parents=True)
    (source / "notebook.ipynb").write_bytes(files["notebook-teacher.ipynb"])
    (tmp_path / "student.ipynb").write_bytes(files["notebook.ipynb"])
    (course / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.course_id = "gen"\n')
    env = {**os.environ, "PATH": f"{Path(exe).parent}{os.pathsep}{os.environ.get('PATH', '')}"}   # nbgrader calls alembic

    def run(*args):
        out = subprocess.run([exe, *args], cwd=course, env=env, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout + out.stderr

    assert "Success! Your notebook passes all the tests." in run("validate", str(source / "notebook.ipynb"))
    assert "Success! The notebook does not pass any tests." in run("validate", "--invert", str(tmp_path / "student.ipynb"))
    run("db", "assignment", "add", "lesson")
    run("generate_assignment", "lesson", "--force")
    released = course / "release" / "lesson" / "notebook.ipynb"
    theirs = nbformat.read(released, as_version=4)
    ours = read(files, "notebook.ipynb")
    assert len(theirs.cells) == len(ours.cells)
    for a, b in list(zip(ours.cells, theirs.cells))[1:]:       # the intro differs by design
        assert a.source == b.source, grade_id(a)
        meta = {k: v for k, v in b.metadata["nbgrader"].items() if k not in ("checksum", "cell_type")}
        assert a.metadata["nbgrader"] == meta
        assert {k: v for k, v in a.metadata.items() if k != "nbgrader"} == \
               {k: v for k, v in b.metadata.items() if k != "nbgrader"}

    teacher = read(files, "notebook-teacher.ipynb")
    solved = nbformat.read(released, as_version=4)
    for cell, reference in zip(solved.cells, teacher.cells):
        if reference.metadata["nbgrader"]["solution"]:
            cell.source = reference.source
    for student, nb in (("stubs", nbformat.read(released, as_version=4)), ("solved", solved)):
        run("db", "student", "add", student)
        folder = course / "submitted" / student / "lesson"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "notebook.ipynb")
    run("autograde", "lesson", "--force")
    run("export", "--to", str(tmp_path / "grades.csv"))
    import csv
    with open(tmp_path / "grades.csv", newline="") as fh:
        scores = {row["student_id"]: (float(row["score"]), float(row["max_score"])) for row in csv.DictReader(fh)}
    total = sum(c.metadata["nbgrader"]["points"] for c in graded_cells(teacher))
    assert scores == {"stubs": (0.0, total), "solved": (total, total)}


@pytest.mark.parametrize("missing", ["sections.j2", "helpers.py"])
def test_a_teachers_template_folder_without_a_notebook_file_is_told_how_to_mend_it(tmp_path, missing):
    """./templates/notebook (what gen init writes) is used whole; one that lacks a file gen needs
    is the teacher's to mend: exit 2 naming the file, and nothing written."""
    from .conftest import ROOT
    own = tmp_path / "templates" / "notebook"
    shutil.copytree(ROOT / "templates" / "notebook", own)
    (own / missing).unlink()
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "generator", "build", "--lessons", str(LESSONS), "--targets",
                          "notebook", "--variants", "1", "--out", str(out), "--quiet"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 2, run.stderr
    assert missing in run.stderr and "gen init" in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert not out.exists()
