"""The whole pipeline on a small build: manifest, determinism, and a safe output folder."""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest
import sympy as sp
from click.testing import CliRunner

from generator.cli import cli
from generator.errors import GenError, OutputError
from generator.lesson import load_lesson
from generator.manifest import summary_of
from generator.pipeline import build

from .conftest import LESSONS, small_options


def test_manifest_covers_every_item_and_all_checks_pass(small_build):
    out, files, manifest = small_build
    lesson = load_lesson(LESSONS / "lesson-1.2.32.yaml")
    assert manifest["generator"] == "gen" and manifest["seed"] == 42
    items = {i["id"] for i in manifest["lessons"][0]["items"]}
    assert items == {i.id for i in lesson.all_items()}
    with_problems = {p["exercise"] for p in manifest["problems"]}
    assert with_problems == {i.id for i in lesson.all_items() if getattr(i, "problems", ())}
    assert manifest["summary"]["checks"] == manifest["summary"]["checks_passed"] > 0
    assert summary_of(files["manifest.json"]) == manifest["summary"]
    for p in manifest["problems"]:
        assert p["checks"] and all(c["passed"] for c in p["checks"])
        assert {"id", "lesson", "exercise", "family", "variant", "seed", "variables", "function", "point",
                "direction", "parts", "shape", "answer", "checks"} <= set(p)
        for part in p["parts"]:
            assert {"name", "kind", "answer", "answer_numeric", "form", "distractors"} <= set(part)
            assert part["distractors"], (p["id"], part["name"])


def test_manifest_strings_parse_back_with_sympy(small_build):
    _, _, manifest = small_build
    for p in manifest["problems"]:
        f = sp.sympify(p["function"])
        assert {str(s) for s in f.free_symbols} <= set(p["variables"])
        sp.sympify(p["answer"])
        for part in p["parts"]:
            value = sp.sympify(part["answer"])
            if part["kind"] == "number":
                assert abs(float(value) - part["answer_numeric"]) < 1e-9
            for d in part["distractors"]:
                sp.sympify(d["value"])


def test_fixed_items_from_the_text_stay_fixed(small_build):
    _, _, manifest = small_build
    fixed = {(p["exercise"], p["function"], p["answer"]) for p in manifest["problems"] if p["fixed"]}
    assert ("1.2.32.2", "x**2 + y**2", "(2*x, 2*y)") in fixed
    assert ("q8", "x**2 + 3*y", "(2*x, 3)") in fixed


def test_manifest_lists_every_output_with_its_hash(small_build):
    out, files, manifest = small_build
    listed = {o["path"]: o["sha256"] for o in manifest["outputs"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for path, digest in listed.items():
        assert hashlib.sha256((out / path).read_bytes()).hexdigest() == digest


def test_the_outputs_are_read_from_a_manifest_as_json_reads_them(small_build):
    """output.outputs_of finds the top-level list without decoding the problems, not an "outputs"
    key nested deeper; a manifest in another layout (compact, other indents) is decoded whole."""
    from generator.output import outputs_of
    out, files, manifest = small_build
    data = files["manifest.json"]
    assert outputs_of(data) == manifest["outputs"] and len(manifest["outputs"]) > 3
    nested = dict(manifest, problems=manifest["problems"][:2],
                  lessons=[{"outputs": [{"path": "not these"}], **manifest["lessons"][0]}])   # sorted before it
    for other in (json.dumps(nested, indent=1, sort_keys=True).encode(), json.dumps(nested).encode(),
                  json.dumps(nested, indent=2).encode(),
                  json.dumps(dict(nested, outputs=[]), indent=1, sort_keys=True).encode()):
        assert outputs_of(other) == json.loads(other)["outputs"]


def test_same_seed_gives_identical_bytes(tmp_path, small_build):
    _, files, _ = small_build
    again = build([LESSONS], tmp_path / "again", small_options())
    assert set(again) == set(files)
    for name in files:
        assert again[name] == files[name], name


def test_the_build_marker_has_the_same_bytes_for_the_same_build(tmp_path):
    """Same seed, same bytes holds for the whole folder, gen's ownership marker included, whether
    the build is new or replaces an earlier one."""
    opts = small_options(variants=1, targets=("moodle",))
    build([LESSONS], tmp_path / "a", opts)
    build([LESSONS], tmp_path / "b", small_options(variants=2, targets=("moodle",)))
    build([LESSONS], tmp_path / "b", opts)
    a, b = (tmp_path / name / ".gen-build" for name in "ab")
    assert a.read_bytes() == b.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_source_date_epoch_changes_only_timestamps(tmp_path, monkeypatch):
    opts = small_options(variants=1, targets=("anki",), epoch_override=1_700_000_000)
    files = build([LESSONS], tmp_path / "a", opts)
    assert json.loads(files["manifest.json"])["lessons"][0]["timestamp"] == 1_700_000_000


def test_refuses_to_replace_a_folder_that_is_not_ours(tmp_path):
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(OutputError):
        build([LESSONS], precious, small_options(variants=1, targets=("moodle",)))
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_failed_build_leaves_previous_build_intact(tmp_path, monkeypatch):
    out = tmp_path / "build"
    build([LESSONS], out, small_options(variants=1, targets=("moodle",)))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    import generator.targets.moodle as moodle

    def boom(*a, **k):
        raise RuntimeError("renderer crashed")
    monkeypatch.setattr(moodle, "render", boom)
    with pytest.raises(RuntimeError):
        build([LESSONS], out, small_options(variants=2, targets=("moodle",)))
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert before == after
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".build.staging")]


def test_rebuild_replaces_previous_output(tmp_path):
    out = tmp_path / "build"
    build([LESSONS], out, small_options(variants=1, targets=("moodle",)))
    build([LESSONS], out, small_options(variants=1, seed=7, targets=("moodle",)))
    assert json.loads((out / "manifest.json").read_text())["seed"] == 7


def test_rebuild_refuses_a_file_gen_did_not_write_unless_forced(tmp_path):
    out = tmp_path / "build"
    build([LESSONS], out, small_options(variants=1, targets=("moodle",)))
    (out / "stale.txt").write_text("mine")
    with pytest.raises(OutputError) as info:
        build([LESSONS], out, small_options(variants=1, targets=("moodle",)))
    assert "stale.txt" in info.value.message and (out / "stale.txt").exists()
    build([LESSONS], out, small_options(variants=1, targets=("moodle",)), force=True)
    assert not (out / "stale.txt").exists() and (out / "manifest.json").exists()


def test_cli_build_prints_output_paths(tmp_path):
    out = tmp_path / "b"
    result = CliRunner().invoke(cli, ["build", "--variants", "1", "--targets", "moodle", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert str(out / "manifest.json") in result.output
    assert "checks passed" in result.output


@pytest.mark.parametrize("args, words", [
    (["--variants", "0"], "--variants"),
    (["--variants", "-3"], "--variants"),
    (["--variants", str(10**9)], "--variants"),
    (["--seed", "abc"], "--seed"),
    (["--lesson", "lesson-9.9"], "no lesson with id"),
    (["--targets", "pdf"], "unknown target"),
    (["--bogus"], "No such option"),
])
def test_bad_cli_values_exit_2(tmp_path, args, words):
    result = CliRunner().invoke(cli, ["build", "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_every_command_has_help_with_an_example():
    assert {"build", "init", "validate", "schema", "list", "preview"} <= set(cli.commands)
    for command in cli.commands:
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0 and "Example" in result.output


def test_preview_shows_answer_and_checks():
    result = CliRunner().invoke(cli, ["preview", "directional_derivative", "--seed", "3"])
    assert result.exit_code == 0
    assert "Answer (" in result.output and "PASS limit_definition" in result.output


def test_cli_startup_does_not_import_sympy():
    import subprocess
    import sys
    code = "import sys; from generator.cli import cli; cli(['list'], standalone_mode=False); print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False")


def test_lms_only_builds_import_neither_the_decks_nor_the_plots_libraries(tmp_path):
    """A Canvas or Moodle build without figures needs neither genanki (with asyncio, ~40 ms) nor
    numpy and matplotlib: they are imported only by the targets that use them."""
    import subprocess
    import sys
    code = ("import sys; from generator.cli import cli\n"
            "for t in ('qti', 'moodle'):\n"
            "    cli(['build', '--targets', t, '--variants', '1', '--quiet', '--out', sys.argv[1] + t],"
            " standalone_mode=False)\n"
            "print(sorted(m for m in ('genanki', 'numpy', 'matplotlib', 'jinja2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out-")], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "out-qti" / "lesson-1.2.32" / "canvas-qti.zip").is_file()


def test_two_lessons_with_the_same_slots_do_not_share_cached_items(tmp_path, lesson_copy):
    """Per-build caches must not leak: the same slot ids with different content give different items."""
    first = build([lesson_copy], tmp_path / "a", small_options(variants=1, targets=("moodle",)))
    text = lesson_copy.read_text("utf-8").replace("params: {variables: 2, choices: 3}",
                                                  "params: {variables: 2, choices: 4}")
    lesson_copy.write_text(text, "utf-8")
    second = build([lesson_copy], tmp_path / "b", small_options(variants=1, targets=("moodle",)))
    again = build([lesson_copy], tmp_path / "c", small_options(variants=1, targets=("moodle",), jobs=2))
    assert first["lesson-1.2.32/moodle.xml"] != second["lesson-1.2.32/moodle.xml"]
    assert second["lesson-1.2.32/moodle.xml"] == again["lesson-1.2.32/moodle.xml"]
    assert b"D:" in second["lesson-1.2.32/moodle.xml"]     # the fourth direction is offered


def test_a_wrong_answer_stops_the_build_and_writes_nothing(tmp_path, monkeypatch):
    import dataclasses

    from generator.errors import VerificationError
    from generator.families import get_family
    fam = get_family("gradient_magnitude")
    original = type(fam).generate

    def wrong(self, rng, params, fixed=None, variant=1):
        p = original(self, rng, params, fixed, variant)
        rate = dataclasses.replace(p.parts[-1], answer=p.parts[-1].answer + 1)
        return dataclasses.replace(p, parts=p.parts[:-1] + (rate,))
    monkeypatch.setattr(type(fam), "generate", wrong)
    with pytest.raises(VerificationError) as info:
        build([LESSONS], tmp_path / "out", small_options(variants=1, targets=("moodle",), jobs=1))
    message = info.value.message
    assert "gradient_magnitude" in message and "1.2.32.6" in message and "seed" in message
    assert info.value.exit_code == 1
    assert not (tmp_path / "out").exists()


def test_parallel_and_serial_builds_are_byte_identical(tmp_path):
    serial = build([LESSONS], tmp_path / "s", small_options(variants=4, jobs=1))
    parallel = build([LESSONS], tmp_path / "p", small_options(variants=4, jobs=2))
    assert serial.keys() == parallel.keys()
    for name in serial:
        assert serial[name] == parallel[name], name


def test_unsatisfiable_constraint_is_a_clear_error(lesson_copy, tmp_path):
    text = lesson_copy.read_text("utf-8").replace("params: {coefficients: [-3, 3], point_range: [-3, 3]}",
                                                  "params: {coefficients: [-3, 3], point_range: [0, 0]}")
    lesson_copy.write_text(text, "utf-8")
    result = CliRunner().invoke(cli, ["build", "--lessons", str(lesson_copy), "--out", str(tmp_path / "o"),
                                      "--variants", "2", "--targets", "moodle"])
    assert result.exit_code == 2, result.output
    assert "critical_point" in result.output and "origin makes the linear terms vanish" in result.output
    assert "exercises[7].problems[1].params" in result.output
    assert not (tmp_path / "o").exists()


def test_a_bug_is_reported_as_a_bug_with_exit_1(tmp_path):
    import subprocess
    import sys
    code = ("import sys, generator.pipeline as p\n"
            "def boom(*a, **k): raise ZeroDivisionError('simulated bug')\n"
            "p.build = boom\n"
            "from generator.cli import main\n"
            f"sys.argv = ['gen'] + sys.argv[1:] + ['build', '--out', r'{tmp_path / 'o'}']\n"
            "main()\n")
    plain = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert plain.returncode == 1
    assert "internal error" in plain.stderr and "bug in gen" in plain.stderr and "Traceback" not in plain.stderr
    debug = subprocess.run([sys.executable, "-c", code, "--debug"], capture_output=True, text=True)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "simulated bug" in debug.stderr


def test_concurrent_build_into_the_same_folder_is_refused(tmp_path, monkeypatch):
    import fcntl
    import os

    import generator.output
    monkeypatch.setattr(generator.output, "LOCK_WAIT", 0.3)
    out = tmp_path / "build"
    held = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)     # gen locks the folder --out is in
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(OutputError) as info:
            build([LESSONS], out, small_options(variants=1, targets=("moodle",)))
    finally:
        os.close(held)
    assert "another gen build" in info.value.message
    assert not out.exists()


def test_copies_raise_variants_so_every_version_has_its_own_problems(tmp_path):
    out = tmp_path / "o"
    result = CliRunner().invoke(cli, ["build", "--copies", "3", "--variants", "1", "--targets", "worksheet",
                                      "--no-pdf", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    html = (out / "lesson-1.2.32" / "worksheet.html").read_text("utf-8")
    versions = html.split('class="version-block"')[1:]
    assert len(versions) == 3 and all("(a′)" in v for v in versions)
    assert len({v.split("</section>")[0].split("Difficulty 1")[1] for v in versions}) == 3   # all different
    with pytest.raises(GenError):
        build([LESSONS], tmp_path / "p", small_options(variants=1, copies=3, targets=("worksheet",)))


def test_a_parallel_deck_without_practice_versions(tmp_path):
    """--anki-variants 0 in a build large enough for workers: they keep no version's problem, and
    the deck needs none (it failed with an internal error on the first version's missing problem)."""
    options = small_options(variants=8, anki_variants=0, copies=1, targets=("anki",), jobs=2)
    parallel = build([LESSONS], tmp_path / "p", options)
    serial = build([LESSONS], tmp_path / "s", replace(options, jobs=1))
    assert parallel == serial
