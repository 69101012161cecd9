"""What the README tells a teacher to do in Moodle, checked against a real build of the example
lesson, so the numbers cannot go stale when the lesson changes."""
from __future__ import annotations

import re
from collections import Counter

from lxml import etree

from .conftest import ROOT


def _moodle_section() -> str:
    readme = (ROOT / "README.md").read_text("utf-8")
    return readme.split("\n## Import into Moodle", 1)[1].split("\n## ", 1)[0]


def test_the_moodle_steps_count_the_categories_of_the_example_lesson(small_build):
    out, _, _ = small_build
    root = etree.parse(str(out / "lesson-1.2.32" / "moodle.xml")).getroot()
    categories: dict[str, Counter] = {}
    for q in root.findall("question"):
        if q.get("type") == "category":
            current = categories.setdefault(q.findtext("category/text").rsplit("/", 1)[1], Counter())
        else:
            current[q.get("type")] += 1
    fixed = categories.pop("Conceptual and true-false")
    text = " ".join(_moodle_section().split())
    assert f"**{len(categories)} problem categories**" in text
    assert f"**{len(categories)} random-question slots**" in text
    assert f"**{sum(fixed.values())} questions** ({fixed['essay']} essays, {fixed['truefalse']} true/false" in text
    for name in re.findall(r"`(1\.2\.32\.\w+ \w+)`", text):
        assert name in categories, name
