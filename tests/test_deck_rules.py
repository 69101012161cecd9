"""The deck's card rules, checked on what Anki itself shows: the default deck is built, imported by
Anki's own backend (the `anki` package), and every card's front and back are read as rendered.

The rules come from the rules for formulating knowledge (Wozniak's minimum information principle,
no redundant siblings, cloze context that does not leak); each is a function returning what
breaks it, so that it can be run on any deck:

1. `long_answers`: one idea per answer side, at most 25 words where the student checks the answer
   (a formula counts as one word): a Concept card's answer box, a cloze's whole text, a
   true/false verdict with its reason, a problem's answer;
2. `leaks`: no cloze shows what it deletes, literally or by the notation that names it (a blank
   for "the dot product" beside ∇f·û gives it away), anywhere on its front;
3. `same_facts`: no two notes ask the same fact: no two clozes delete the same text, and no two
   notes' questions, nor their questions with answers, are as alike as main's "A zero gradient
   indicates a stationary (critical) point" and "Zero gradient indicates a critical point." or
   "Interpret gradient magnitude." and "What does gradient magnitude tell you?" (word-set
   similarity, formulas as words);
4. `unexplained`: every back explains: a cloze and a Concept card carry an explanation below the
   answer that says more than the answer itself; a true/false card a reason or worked steps; a
   problem its worked solution;
5. `unbalanced`: the deck's true/false verdicts differ in number by at most one;
6. the number of cards per deck and note type that the defaults give (README, "Anki").

    GEN_DECK=path/to/deck.apkg python3 -m pytest -q tests/test_deck_rules.py

runs the rules on that deck instead of a fresh build (main's deck before these rules fails 1, 3,
4, 5 and 6; rule 2 is shown failing on a lesson that leaks, below).
"""
from __future__ import annotations

import html
import itertools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from lxml import html as lhtml

from generator.pipeline import Options, build

from .conftest import LESSONS

anki = pytest.importorskip("anki")

ROOT_DECK = "Calculus for ML::1.2.32 Gradients and Directional Derivatives"
MAX_WORDS = 25
SAME_FACT = 0.5          # word-set similarity (Jaccard) at which two notes ask the same thing


# --- the deck as Anki shows it -------------------------------------------------------------------

@dataclass(frozen=True)
class Card:
    note_id: int
    kind: str               # "Problem", "Concept", "True/False", "Cloze"
    deck: str               # "Concepts", "Practice", "Quiz"
    ord: int
    fields: dict[str, str]
    tags: tuple[str, ...]
    front: str              # card.question(), as Anki renders it
    back: str               # card.answer()

    @property
    def name(self) -> str:
        return f"{self.kind} «{text(self.front)[:70]}»"


def import_cards(apkg: Path, tmp: Path) -> list[Card]:
    from .test_anki import fresh_collection, import_deck
    col = fresh_collection(tmp)
    try:
        import_deck(col, apkg)
        cards = []
        for cid in sorted(col.find_cards("")):
            card = col.get_card(cid)
            note = card.note()
            cards.append(Card(note.id, card.note_type()["name"].removeprefix("gen: "),
                              col.decks.name(card.did).split("::")[-1], card.ord, dict(note.items()),
                              tuple(note.tags), card.question(), card.answer()))
        return cards
    finally:
        col.close()


def default_deck(out: Path) -> Path:
    """The deck `gen build` writes by default (fewer LMS variants: the deck does not depend on them)."""
    build([LESSONS], out, Options(variants=4, targets=("anki",)))
    return out / "lesson-1.2.32" / "lesson-1.2.32.apkg"


@pytest.fixture(scope="module")
def cards(tmp_path_factory) -> list[Card]:
    tmp = tmp_path_factory.mktemp("deck-rules")
    given = os.environ.get("GEN_DECK")
    return import_cards(Path(given) if given else default_deck(tmp / "build"), tmp)


# --- reading card HTML ---------------------------------------------------------------------------

MATH = re.compile(r"\\\((.*?)\\\)", re.S)
STOPWORDS = set("""a an and are as at be by does each for from has have how if in into is it its of on one
or so that the their there this to was what when where which while why with you your""".split())
# Words that name a notation: a blank for the word is given away where the notation is shown.
NOTATION = {"gradient": r"\nabla", "dot": r"\cdot", "product": r"\cdot", "partial": r"\partial",
            "unit": r"\hat", "norm": r"\left|", "magnitude": r"\left|", "length": r"\left|"}


def _root(fragment: str):
    fragment = re.sub(r"<style>.*?</style>", "", fragment, flags=re.S)
    return lhtml.fragment_fromstring(fragment or "<br>", create_parent="div")


def text(fragment: str, drop: tuple[str, ...] = ()) -> str:
    """The visible text of an HTML fragment, without the elements of the classes in `drop`."""
    root = _root(fragment)
    for cls in drop:
        for el in root.xpath(f"//*[contains(concat(' ', @class, ' '), ' {cls} ')]"):
            el.drop_tree()
    return re.sub(r"\s+", " ", html.unescape(root.text_content())).strip()


def by_class(fragment: str, cls: str) -> list[str]:
    return [re.sub(r"\s+", " ", el.text_content()).strip()
            for el in _root(fragment).xpath(f"//*[contains(concat(' ', @class, ' '), ' {cls} ')]")]


def words(visible: str) -> int:
    """Prose words, and each formula as one word (as generator.lesson.answer_words counts)."""
    return len(re.findall(r"\S*\w\S*", MATH.sub(" formula ", visible)))


def formulas(visible: str) -> list[str]:
    return [re.sub(r"\s+|\\left|\\right|\\mathbf", "", m) for m in MATH.findall(visible)]


def stem(word: str) -> str:
    for suffix, repl in (("ies", "y"), ("ing", ""), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 3:
            return word[: -len(suffix)] + repl
    return word


def terms(visible: str) -> set[str]:
    """What a text says, as a set: its content words, stemmed, and its formulas (but not the
    one-letter ones, f and P, which every card shows)."""
    prose = MATH.sub(" ", visible).lower()
    found = {stem(w) for w in re.findall(r"[a-z][a-z']+", prose) if w not in STOPWORDS and len(w) > 2}
    return found | {"$" + f for f in formulas(visible) if len(f) > 2}


# --- the rules -----------------------------------------------------------------------------------

def answer_side(card: Card) -> str:
    """The text a student checks the answer against (not the explanation below it)."""
    if card.kind == "Cloze":
        return text(card.back, drop=("extra", "source"))
    if card.kind == "True/False":
        return " ".join(by_class(card.back, "verdict") + by_class(card.back, "answer"))
    return " ".join(by_class(card.back, "answer"))


def long_answers(cards: list[Card]) -> list[str]:
    return [f"{c.name}: {words(answer_side(c))} words on the answer side: {answer_side(c)[:120]}"
            for c in cards if words(answer_side(c)) > MAX_WORDS]


def deletions(card: Card) -> list[str]:
    """What this cloze card deletes, as its back reveals it."""
    return by_class(card.back, "cloze")


def leaks(cards: list[Card]) -> list[str]:
    found = []
    for c in (c for c in cards if c.kind == "Cloze"):
        context = text(c.front).replace("[...]", " ")
        context_words = terms(context)
        context_math = "".join(formulas(context))
        for answer in deletions(c):
            wanted = terms(answer)
            seen = {t for t in wanted if t in context_words or (t.startswith("$") and t[1:] in context_math)
                    or (t in NOTATION and NOTATION[t] in context)}
            literal = re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", context, re.I)
            if literal or (wanted and seen == wanted):
                found.append(f"{c.name}: the blank for «{answer}» is readable around it: «{context}»")
    return found


def fact(card: Card) -> str:
    """What a note asks, question and answer together."""
    if card.kind == "Cloze":
        return text(card.back, drop=("extra", "source"))
    if card.kind == "Concept":
        return text(card.fields["Question"]) + " " + text(card.fields["Answer"])
    if card.kind == "True/False":
        return text(card.fields["Statement"])
    return text(card.fields["Prompt"])


def question(card: Card) -> str:
    """What a note asks, without its answer."""
    if card.kind == "Concept":
        return text(card.fields["Question"])
    return fact(card) if card.kind == "True/False" else text(card.front).replace("[...]", " ")


def similarity(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def same_facts(cards: list[Card]) -> list[str]:
    # Problems are drilled on purpose (the counts bound them); practice versions of a true/false
    # statement are problems too. Every other note says one thing of its own.
    notes: dict[int, Card] = {}
    for c in cards:
        if c.kind != "Problem" and not any(t.startswith("family::") for t in c.tags):
            notes.setdefault(c.note_id, c)
    found, deleted = [], {}
    for c in (c for c in cards if c.note_id in notes and c.kind == "Cloze"):
        for answer in deletions(c):
            first = deleted.setdefault(" ".join(sorted(terms(answer))) or answer.lower(), c)
            if first.note_id != c.note_id:
                found.append(f"{c.name} and {first.name} both delete «{answer}»")
    for a, b in itertools.combinations(notes.values(), 2):
        for what, of in (("the same thing", fact), ("the same question", question)):
            score = similarity(terms(of(a)), terms(of(b)))
            if score >= SAME_FACT:
                found.append(f"{a.name} and {b.name} ask {what} ({score:.2f}): «{of(a)[:90]}» / «{of(b)[:90]}»")
                break
    return found


def unexplained(cards: list[Card]) -> list[str]:
    found = []
    for c in cards:
        if c.kind in ("Cloze", "Concept"):
            extra = " ".join(by_class(c.back, "extra"))
            new = terms(extra) - terms(answer_side(c))
            if len(new) < 3:
                found.append(f"{c.name}: the back explains nothing beyond the answer ({extra[:80]!r})")
        elif c.kind == "True/False":
            if not (by_class(c.back, "answer") or by_class(c.back, "solution")):
                found.append(f"{c.name}: a bare verdict, with no reason or worked steps")
        elif not by_class(c.back, "solution"):
            found.append(f"{c.name}: no worked solution")
    return found


def verdicts(cards: list[Card]) -> list[str]:
    return [text(c.fields["Verdict"]) for c in cards if c.kind == "True/False"]


def unbalanced(cards: list[Card]) -> list[str]:
    v = verdicts(cards)
    trues, falses = v.count("True"), v.count("False")
    return [f"{trues} true and {falses} false verdicts: a student who answers '"
            f"{'True' if trues > falses else 'False'}' is right {max(trues, falses)} times in {len(v)}"] \
        if abs(trues - falses) > 1 else []


def counts(cards: list[Card]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for c in cards:
        out[c.deck, c.kind] = out.get((c.deck, c.kind), 0) + 1
    return out


# --- on the deck ---------------------------------------------------------------------------------

def test_one_idea_per_answer_side(cards):
    assert not long_answers(cards), "\n".join(long_answers(cards))


def test_no_cloze_shows_its_answer(cards):
    assert not leaks(cards), "\n".join(leaks(cards))


def test_no_two_notes_ask_the_same_fact(cards):
    assert not same_facts(cards), "\n".join(same_facts(cards))


def test_every_back_explains(cards):
    assert not unexplained(cards), "\n".join(unexplained(cards))


def test_true_false_verdicts_are_balanced(cards):
    assert len(verdicts(cards)) >= 4
    assert not unbalanced(cards), unbalanced(cards)


def test_cards_per_deck_and_note_type(cards):
    # Concepts: 6 clozes (one per core idea and takeaway) and the 5 explained exercises.
    # Practice: one practice version of each problem, plus the lesson's own 1.2.32.2a, but no
    # 2-step gradient descent (1.2.32.8a). Quiz: q5-q7, the 4 lesson statements and 1 practice
    # statement (false, to balance 3 true against 1 false), and the coding challenge's own instance.
    assert counts(cards) == {
        ("Concepts", "Cloze"): 6, ("Concepts", "Concept"): 5,
        ("Practice", "Problem"): 11,
        ("Quiz", "Concept"): 3, ("Quiz", "True/False"): 5, ("Quiz", "Problem"): 1,
    }


# --- each rule catches what it is for --------------------------------------------------------------

LONG_REASON = "It is true because " + "the gradient really is, as the lesson says, " * 4 + "a vector."
BAD = {  # lesson field -> a value that breaks a rule
    "core_ideas.0.cloze": "The directional derivative is {{c1::the dot product}} $D_u(f) = dot(grad(f), hat(u))$",
    "core_ideas.1.cloze": "The gradient is a {{c1::vector}}: a vector of partial derivatives",
    "core_ideas.1.text": "The gradient is a vector",
    "key_takeaways.2.cloze": "Gradient descent steps along {{c1::$-grad(f)$}}, which is $-grad(f)$",
    "key_takeaways.0.cloze": "The gradient of f collects its {{c1::partial derivatives}}",
    "key_takeaways.1.cloze": "The gradient is made of {{c1::partial derivatives}}",
    "key_takeaways.3.cloze": "A {{c1::zero gradient}} indicates a critical point",
    "quiz.true_false.0.reason": LONG_REASON,
    **{f"quiz.true_false.{i}.answer": True for i in range(4)},
}


@pytest.fixture(scope="module")
def bad_cards(tmp_path_factory) -> list[Card]:
    """The lesson with the mistakes of BAD, built and imported like the real one."""
    tmp = tmp_path_factory.mktemp("bad-deck")
    data = yaml.safe_load((LESSONS / "lesson-1.2.32.yaml").read_text("utf-8"))
    for path, value in BAD.items():
        *keys, last = [int(k) if k.isdigit() else k for k in path.split(".")]
        target = data
        for key in keys:
            target = target[key]
        target[last] = value
    (tmp / "lessons").mkdir()
    (tmp / "lessons" / "lesson.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    build([tmp / "lessons"], tmp / "out", Options(variants=2, targets=("anki",)))
    return import_cards(tmp / "out" / "lesson-1.2.32" / "lesson-1.2.32.apkg", tmp)


def test_leaking_clozes_are_caught(bad_cards):
    found = leaks(bad_cards)
    for answer in ("the dot product", "vector", r"- \nabla f"):      # by notation, in words, in a formula
        assert sum(f"«{answer}" in f or f"«\\({answer}" in f for f in found) == 1, (answer, found)
    assert len(found) == 3, found


def test_repeated_facts_are_caught(bad_cards):
    found = same_facts(bad_cards)
    assert sum("both delete «partial derivatives»" in f for f in found) == 1, found
    assert any("«A zero gradient indicates a critical point" in f and "«Zero gradient indicates a critical point"
               in f for f in found), found


def test_long_answers_and_missing_explanations_are_caught(bad_cards):
    assert [f for f in long_answers(bad_cards) if "Gradient is a vector of partials" in f], long_answers(bad_cards)
    assert [f for f in unexplained(bad_cards) if "The gradient is a [...]" in f], unexplained(bad_cards)


def test_unbalanced_verdicts_are_caught(bad_cards):
    assert unbalanced(bad_cards), verdicts(bad_cards)
