"""Seeds are hashed from identity: adding an exercise reshuffles nothing; same seed, same problems."""
from __future__ import annotations


from generator.generate import generate_all
from generator.lesson import Lesson, load_lesson
from generator.manifest import problem_entry
from generator.plan import derive_seed, plan

from .conftest import LESSONS


def lesson():
    return load_lesson(LESSONS / "lesson-1.2.32.yaml")


def test_seed_is_a_stable_hash_not_pythons_hash():
    # A literal value: Python's salted hash() would differ between processes.
    assert derive_seed(42, "lesson-1.2.32", "1.2.32.4", "a", 1, 0) == derive_seed(42, "lesson-1.2.32", "1.2.32.4", "a", 1, 0)
    assert derive_seed(42, "l", "e", "a", 1, 0) == 14789970383974070862
    assert derive_seed(42, "l", "e", "a", 1, 0) != derive_seed(43, "l", "e", "a", 1, 0)


def test_plan_covers_fixed_instances_and_variants():
    slots = plan(lesson(), 4)
    fixed = [s for s in slots if s.variant == 0]
    assert {(s.item, s.spec.family) for s in fixed} == {("1.2.32.2", "gradient"), ("q8", "gradient")}
    per_group = {}
    for s in slots:
        per_group.setdefault(s.group, []).append(s.variant)
    assert all(sorted(v)[-1] == 4 for v in per_group.values())


def test_adding_an_exercise_changes_no_other_problem():
    base = lesson()
    data = base.model_dump(mode="json")
    data["exercises"].insert(0, {"id": "new.0", "level": 1, "prompt": "An extra exercise.",
                                 "problems": [{"id": "a", "family": "gradient_magnitude"}]})
    bigger = Lesson.model_validate(data)
    before = {g.slot.id: problem_entry(g) for g in generate_all(plan(base, 2), 42)}
    after = {g.slot.id: problem_entry(g) for g in generate_all(plan(bigger, 2), 42)}
    assert set(after) - set(before) == {f"lesson-1.2.32/new.0/a/v{i}" for i in (1, 2)}
    for key, entry in before.items():
        assert after[key] == entry, key


def test_same_seed_same_problems_other_seed_other_problems():
    slots = plan(lesson(), 2)
    a = [problem_entry(g) for g in generate_all(slots, 7)]
    b = [problem_entry(g) for g in generate_all(slots, 7)]
    c = [problem_entry(g) for g in generate_all(slots, 8)]
    assert a == b
    assert [e["function"] for e in a] != [e["function"] for e in c]


def test_variants_of_one_exercise_are_never_identical():
    gens = generate_all(plan(lesson(), 25), 42)
    groups = {}
    for g in gens:
        groups.setdefault(g.slot.group, []).append(g.problem.key())
    for group, keys in groups.items():
        assert len(keys) == len(set(keys)), group


def test_parallel_generation_matches_serial():
    slots = plan(lesson(), 6)
    serial = [problem_entry(g) for g in generate_all(slots, 3, jobs=1)]
    parallel = [problem_entry(g) for g in generate_all(slots, 3, jobs=2)]
    assert serial == parallel


def test_redrawn_duplicates_are_checked_by_the_pool_with_the_same_result(monkeypatch):
    """A duplicate is redrawn in the parent, in plan order; its checks, entry and LMS item are then
    made by the workers (generate._check_redrawn). With problems told apart by only 256 keys, a
    lesson's ~80 problems collide often: the parallel build equals the serial one."""
    import hashlib

    import generator.generate as G
    from generator.mathfmt import plain
    monkeypatch.setattr(G, "problem_key", lambda p: hashlib.sha256(plain(p.function).encode()).hexdigest()[:2])
    redraws = []
    draw = G.draw

    def counted(slot, global_seed, start=0):
        if start:
            redraws.append(slot.id)
        return draw(slot, global_seed, start)
    monkeypatch.setattr(G, "draw", counted)
    slots = plan(lesson(), 6)
    finish = G.Finish(entry=True, question=True, keep=1)
    serial = generate_all(slots, 3, jobs=1, finish=finish)
    assert len(redraws) > 5
    parallel = generate_all(slots, 3, jobs=2, finish=finish)
    assert [(g.slot, g.seed, g.attempt, g.entry, g.question) for g in serial] == \
        [(g.slot, g.seed, g.attempt, g.entry, g.question) for g in parallel]


def test_duplicates_are_redrawn_as_the_first_draws_arrive(monkeypatch):
    """_resolve settles each first draw as it comes (generate.arrival_order: the lesson's fixed
    instances first, then plan order), so a duplicate is redrawn while later first draws are still
    being made (by the workers, in a parallel build), not after the last of them; and the problems
    are those of the serial build."""
    import hashlib

    import generator.generate as G
    from generator.mathfmt import plain
    monkeypatch.setattr(G, "problem_key", lambda p: hashlib.sha256(plain(p.function).encode()).hexdigest()[:2])
    events = []
    draw = G.draw

    def counted(slot, global_seed, start=0):
        if start:
            events.append("redraw")
        return draw(slot, global_seed, start)
    monkeypatch.setattr(G, "draw", counted)
    slots = plan(lesson(), 6)
    order = G.arrival_order(slots)
    fixed = [i for i, s in enumerate(slots) if s.variant == 0]
    assert fixed and order[:len(fixed)] == fixed
    assert order[len(fixed):] == [i for i, s in enumerate(slots) if s.variant != 0]
    assert fixed[-1] > order[len(fixed)]        # a fixed instance that plan order puts after random variants

    def first_draws():
        for i in order:
            events.append("arrived")
            yield G._draw_and_check((slots[i], 3, G.Finish(), False))
    settled = G._resolve(slots, first_draws(), 3, None)
    last_arrival = len(events) - 1 - events[::-1].index("arrived")
    assert events.count("arrived") == len(slots)
    assert "redraw" in events[:last_arrival]
    events.clear()
    serial = generate_all(slots, 3)
    assert [(g.slot, g.seed, g.attempt) for g in settled] == [(g.slot, g.seed, g.attempt) for g in serial]
