"""(lesson, seed, variants) → the ordered list of problem slots, each with its own hashed seed.

A slot's seed depends only on (global seed, lesson id, item id, spec id, variant, attempt), hashed
with SHA-256 (not Python's salted hash()), so adding an exercise reshuffles nothing else.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .lesson import Lesson, ProblemSpec


@dataclass(frozen=True)
class Slot:
    lesson: str
    item: str
    spec: ProblemSpec
    variant: int          # 0 = the lesson's fixed instance; 1..N randomized siblings
    section: str          # exercises | true_false | coding | conceptual
    level: int | None

    @property
    def id(self) -> str:
        return f"{self.lesson}/{self.item}/{self.spec.id}/v{self.variant}"

    @property
    def group(self) -> str:
        """All variants of one spec form a group (an LMS question pool)."""
        return f"{self.lesson}/{self.item}/{self.spec.id}"

    def seed(self, global_seed: int, attempt: int = 0) -> int:
        return derive_seed(global_seed, self.lesson, self.item, self.spec.id, self.variant, attempt)


def derive_seed(*parts) -> int:
    text = "gen-v1|" + "|".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def plan(lesson: Lesson, variants: int) -> list[Slot]:
    slots = []
    sections = [("exercises", lesson.exercises), ("true_false", lesson.quiz.true_false),
                ("conceptual", lesson.quiz.conceptual), ("coding", lesson.quiz.coding)]
    for section, items in sections:
        for item in items:
            for spec in getattr(item, "problems", ()):
                first = 0 if spec.fixed is not None else 1
                last = variants if spec.randomized else 0
                for v in range(first, last + 1):
                    slots.append(Slot(lesson.id, item.id, spec, v, section, getattr(item, "level", None)))
    return slots
