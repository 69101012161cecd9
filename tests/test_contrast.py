"""WCAG 2.1 contrast (1.4.3) of the Anki deck's CSS, computed without a browser.

templates/anki/style.css is parsed and cascaded here for each kind of text the card templates
show, in day mode and in the night modes Anki and AnkiDroid use (the body classes
`card cardN nightMode night_mode`, and `night_mode` alone in older AnkiDroid), on the page colour
the app paints behind the card. Translucent backgrounds (the answer box) are composited over what
lies under them. Text needs 4.5:1; large text (24 px, or bold and 18.66 px) needs 3:1.

The cascade understands what style.css uses: compound class/type selectors joined by descendant
combinators, `color`, `background`/`background-color`, `font-size`, `font-weight`. Anything else
in a selector fails the test rather than being guessed at. The axe run (tests/test_a11y.py,
`-m a11y`) measures the same thing in Chromium.

    python3 -m tests.test_contrast     # prints the table
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CSS = ROOT / "templates" / "anki" / "style.css"
TEMPLATES = ROOT / "templates" / "anki"

DAY_CANVAS, NIGHT_CANVAS = "#ffffff", "#2c2c2c"
MODES = {  # name -> (body classes besides "card card1", page colour behind the card)
    "day": ((), DAY_CANVAS),
    "night": (("nightMode", "night_mode"), NIGHT_CANVAS),
    "night (older AnkiDroid)": (("night_mode",), NIGHT_CANVAS),
}
ROOT_FONT_PX = 16.0   # the browser default, before .card sets its own size


@dataclass(frozen=True)
class El:
    tag: str
    classes: frozenset[str] = frozenset()

    @staticmethod
    def of(spec: str) -> "El":
        tag, *classes = spec.split(".")
        return El(tag, frozenset(classes))


# Every kind of text the templates show, as the path from <body> down to it.
ROLES = {
    "prompt / question": ["div.prompt"],
    "answer box": ["div.answer"],
    "explanation below the answer (Extra)": ["div.extra"],
    "worked solution": ["details.solution", "ol", "li"],
    "worked solution summary": ["details.solution", "summary"],
    "common mistakes": ["details.mistakes", "ul", "li"],
    "common mistakes summary": ["details.mistakes", "summary"],
    "plot (figure box)": ["div.figure"],
    "source line": ["div.source"],
    "true/false verdict": ["div.verdict"],
    "cloze, revealed (and [...])": ["span.cloze"],
    "cloze, other deletions": ["span.cloze-inactive"],
}


# --- CSS ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    selector: tuple[El, ...]      # descendant chain, outermost first
    specificity: tuple[int, int]  # (classes, types)
    order: int
    decls: tuple[tuple[str, str], ...]


COMPOUND = re.compile(r"^([a-z][a-z0-9]*|\*)?((?:\.[A-Za-z_][\w-]*)*)$")


def parse_selector(text: str) -> tuple[tuple[El, ...], tuple[int, int]]:
    chain, classes, types = [], 0, 0
    for part in text.split():
        m = COMPOUND.match(part)
        if not m or not part:
            raise ValueError(f"style.css: selector {text!r} uses syntax this test does not cascade "
                             f"({part!r}); teach tests/test_contrast.py about it")
        tag = m.group(1) if m.group(1) not in (None, "*") else "*"
        names = frozenset(c for c in m.group(2).split(".") if c)
        chain.append(El(tag, names))
        classes += len(names)
        types += tag != "*"
    return tuple(chain), (classes, types)


def parse_css(text: str) -> list[Rule]:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    if "@" in text:
        raise ValueError("style.css has an at-rule (@media, @import, ...): teach tests/test_contrast.py")
    rules = []
    for block in re.finditer(r"([^{}]+)\{([^{}]*)\}", text):
        decls = tuple((k.strip().lower(), v.strip()) for k, _, v in
                      (d.partition(":") for d in block.group(2).split(";") if d.strip()))
        for sel in block.group(1).split(","):
            chain, spec = parse_selector(sel.strip())
            rules.append(Rule(chain, spec, len(rules), decls))
    leftover = re.sub(r"([^{}]+)\{([^{}]*)\}", "", text).strip()
    if leftover:
        raise ValueError(f"style.css: could not parse {leftover[:60]!r}")
    return rules


def _matches(compound: El, el: El) -> bool:
    return (compound.tag in ("*", el.tag)) and compound.classes <= el.classes


def matches(rule: Rule, path: list[El]) -> bool:
    """Does the rule's descendant chain match the last element of `path`?"""
    *ancestors, last = rule.selector
    if not _matches(last, path[-1]):
        return False
    i = len(path) - 2
    for compound in reversed(ancestors):
        while i >= 0 and not _matches(compound, path[i]):
            i -= 1
        if i < 0:
            return False
        i -= 1
    return True


# --- colour -------------------------------------------------------------------------------------

NAMED = {"white": (255, 255, 255, 1.0), "black": (0, 0, 0, 1.0), "transparent": (0, 0, 0, 0.0)}
COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|rgba?\([^)]*\)|\b(?:white|black|transparent)\b")


def parse_colour(text: str) -> tuple[float, float, float, float]:
    text = text.strip().lower()
    if text in NAMED:
        return NAMED[text]
    if text.startswith("#"):
        h = text[1:]
        if len(h) in (3, 4):
            h = "".join(c * 2 for c in h)
        if len(h) not in (6, 8):
            raise ValueError(f"style.css: colour {text!r}")
        a = int(h[6:8], 16) / 255 if len(h) == 8 else 1.0
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), a
    m = re.fullmatch(r"rgba?\(([^)]*)\)", text)
    if m:
        parts = [p.strip() for p in re.split(r"[,\s/]+", m.group(1)) if p.strip()]
        r, g, b = (float(p[:-1]) * 2.55 if p.endswith("%") else float(p) for p in parts[:3])
        a = parts[3] if len(parts) > 3 else "1"
        return r, g, b, float(a[:-1]) / 100 if a.endswith("%") else float(a)
    raise ValueError(f"style.css: colour {text!r} is not one this test reads")


def over(top, bottom):
    """`top` composited over an opaque `bottom` (source-over)."""
    a = top[3]
    return tuple(a * t + (1 - a) * b for t, b in zip(top[:3], bottom[:3])) + (1.0,)


def luminance(rgb) -> float:
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg, bg) -> float:
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def hex_of(rgb) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in rgb[:3])


# --- cascade ------------------------------------------------------------------------------------

@dataclass
class Style:
    colour: tuple
    background: tuple     # opaque: everything under the element composited
    font_px: float
    bold: bool
    rules: list[Rule]     # the colour rules that applied to the text itself


def _font_px(value: str, parent: float) -> float:
    value = value.strip()
    for unit, scale in (("px", 1.0), ("em", parent), ("rem", ROOT_FONT_PX), ("%", parent / 100)):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * scale
    raise ValueError(f"style.css: font-size {value!r} is not one this test reads")


def compute(path: list[El], rules: list[Rule], canvas: str) -> Style:
    colour, background = (0, 0, 0, 1.0), parse_colour(canvas)
    font_px, bold, colour_rules = ROOT_FONT_PX, False, []
    for depth in range(1, len(path) + 1):
        applied = sorted((r for r in rules if matches(r, path[:depth])), key=lambda r: (r.specificity, r.order))
        own_colour_rules = []
        for rule in applied:
            for prop, value in rule.decls:
                if prop == "color":
                    colour = parse_colour(value)
                    own_colour_rules.append(rule)
                elif prop in ("background", "background-color"):
                    found = COLOUR.search(value)
                    if found:
                        background = over(parse_colour(found.group(0)), background)
                elif prop == "font-size":
                    font_px = _font_px(value, font_px)
                elif prop == "font-weight":
                    bold = value in ("bold", "bolder") or (value.isdigit() and int(value) >= 700)
        if own_colour_rules:
            colour_rules = own_colour_rules
    return Style(colour, background, font_px, bold, colour_rules)


def body(mode: str) -> El:
    return El("body", frozenset({"card", "card1", *MODES[mode][0]}))


@dataclass(frozen=True)
class Row:
    role: str
    mode: str
    colour: str
    background: str
    font_px: float
    bold: bool
    ratio: float

    @property
    def large(self) -> bool:
        return self.font_px >= 24 or (self.bold and self.font_px >= 18.66)

    @property
    def needed(self) -> float:
        return 3.0 if self.large else 4.5


def table(css_text: str | None = None) -> list[Row]:
    rules = parse_css(css_text if css_text is not None else CSS.read_text("utf-8"))
    rows = []
    for mode, (_, canvas) in MODES.items():
        for role, path in ROLES.items():
            s = compute([body(mode), *map(El.of, path)], rules, canvas)
            rows.append(Row(role, mode, hex_of(s.colour), hex_of(s.background), round(s.font_px, 2), s.bold,
                            contrast(s.colour, s.background)))
    return rows


def format_table(rows: list[Row]) -> str:
    lines = ["| text | mode | colour | background | size | ratio | needs |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        size = f"{r.font_px:g} px" + (" bold" if r.bold else "")
        lines.append(f"| {r.role} | {r.mode} | {r.colour} | {r.background} | {size} | {r.ratio:.2f}:1 | "
                     f"{r.needed:g}:1 |")
    return "\n".join(lines)


# --- tests --------------------------------------------------------------------------------------

def test_every_text_meets_wcag_aa_in_day_and_night_mode():
    rows = table()
    print("\n" + format_table(rows))
    failing = [r for r in rows if r.ratio < r.needed]
    assert not failing, "contrast below WCAG 1.4.3:\n" + format_table(failing)


def test_every_colour_rule_is_measured():
    """A `color` rule that matches no row of ROLES in any mode is text this test never checks."""
    rules = parse_css(CSS.read_text("utf-8"))
    used = set()
    for mode, (_, canvas) in MODES.items():
        for path in ROLES.values():
            used.update(r.order for r in compute([body(mode), *map(El.of, path)], rules, canvas).rules)
    unmeasured = [r for r in rules if any(p == "color" for p, _ in r.decls) and r.order not in used]
    assert not unmeasured, "colour rules that no text of ROLES picks up in any mode: " + ", ".join(
        " ".join(("" if e.tag == "*" else e.tag) + "".join("." + c for c in sorted(e.classes)) for e in r.selector)
        for r in unmeasured)


def test_every_class_in_the_templates_has_a_role():
    used = set()
    for template in TEMPLATES.glob("*.html"):
        for attr in re.findall(r'class="([^"]*)"', template.read_text("utf-8")):
            used.update(attr.split())
    known = {c for path in ROLES.values() for spec in path for c in El.of(spec).classes}
    assert used - known == set(), f"add these classes to ROLES in tests/test_contrast.py: {used - known}"


def test_night_mode_styles_apply_to_the_body_anki_renders():
    """Anki and AnkiDroid put `card` and the night classes on the same <body>: `.night_mode .card`
    (a descendant) would never match, and the card would stay white."""
    rows = {(r.role, r.mode): r for r in table()}
    for mode in MODES:
        if mode != "day":
            assert luminance(parse_colour(rows["prompt / question", mode].background)) < 0.05, mode


@pytest.mark.parametrize("fg, bg, expected", [
    ("#888", "#fff", 3.54), ("#888888", "#222", 4.48), ("#2463b0", "#222", 2.64),
    ("#000", "#fff", 21.0), ("#fff", "#fff", 1.0),
])
def test_contrast_ratio_matches_wcag(fg, bg, expected):
    assert contrast(parse_colour(fg), parse_colour(bg)) == pytest.approx(expected, abs=0.01)


def test_translucent_background_is_composited():
    assert hex_of(over(parse_colour("rgba(60,170,120,.08)"), parse_colour("#fff"))) == "#eff8f4"
    s = compute([body("day"), El.of("div.answer")], parse_css(CSS.read_text("utf-8")), DAY_CANVAS)
    assert s.background[:3] != (255, 255, 255)


def test_cascade_follows_specificity_and_descendants():
    rules = parse_css(".a { color: #111 } .n .a { color: #222 } .a.b { color: #333 } .x .a { color: #444 }")
    path = [El("body", frozenset({"n"})), El("div", frozenset({"a"}))]
    assert hex_of(compute(path, rules, "#fff").colour) == "#222222"
    path[-1] = El("div", frozenset({"a", "b"}))
    assert hex_of(compute(path, rules, "#fff").colour) == "#333333"   # same specificity, later rule
    with pytest.raises(ValueError):
        parse_css(".a > .b { color: red }")


if __name__ == "__main__":
    print(format_table(table()))
