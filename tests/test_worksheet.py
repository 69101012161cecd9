"""Worksheets: the SymPy → Typst printer as a table, every family's math compiled by Typst, PDF
text checked with pypdf, HTML parsed, templates strict."""
from __future__ import annotations

import random
import re
from html.parser import HTMLParser

import pytest
import sympy as sp

from generator.families import family_names, get_family
from generator.families._common import Rejected
from generator.mathfmt import render, typst
from generator.problem import DU_F, GRAD_F, GRAD_F_AT_P, U_HAT, Dot, Equals, Norm, Over, Partial, Pt, Root, Vec
from generator.targets.worksheet import compile_typst

from .conftest import LESSONS

x, y, z = sp.symbols("x y z", real=True)


@pytest.mark.parametrize("expr, expected", [
    (x**2 + 3 * y, "x^2 + 3 y"),
    (x * y, "x y"),
    (2 * x * y * z, "2 x y z"),
    (-x * sp.exp(x * y), "-x e^(x y)"),
    (sp.Rational(-3, 5), "-frac(3, 5)"),
    (3 * sp.sqrt(13) / 13, "frac(3 sqrt(13), 13)"),
    (-6 + 4 * sp.sqrt(3), "-6 + 4 sqrt(3)"),
    (sp.log(x**2 + 1) / (y**2 + 2), "frac(ln(x^2 + 1), y^2 + 2)"),
    (x**-2, "frac(1, x^2)"),
    ((x + y)**2, "(x + y)^2"),
    (x**sp.Rational(3, 2), "x^(frac(3, 2))"),
    (sp.sin(3 * x) * x**2, "x^2 sin(3 x)"),
    (sp.cos(x - y), "cos(x - y)"),
    (sp.tan(x), "tan(x)"),
    (4 * sp.pi / 3, "frac(4 pi, 3)"),
    (sp.E, "e"),
    (sp.Integer(-7), "-7"),
    (sp.Function("f")(x, y), "f(x, y)"),
    (Vec(1, sp.Rational(-3, 5)), "lr(⟨1, -frac(3, 5)⟩)"),
    (Pt(2, -1), "(2, -1)"),
    (Equals(Partial(x), 2 * x), "frac(partial f, partial x) = 2 x"),
    (Equals(DU_F, Dot(GRAD_F_AT_P, U_HAT)), "D_(hat(bold(u))) f(P) = nabla f(P) dot hat(bold(u))"),
    (Norm(GRAD_F_AT_P), "abs(nabla f(P))"),
    (Over(Vec(3, 4), Norm(Vec(3, 4))), "frac(lr(⟨3, 4⟩), abs(lr(⟨3, 4⟩)))"),
    (Root(208), "sqrt(208)"),
    (Equals(GRAD_F, Vec(2 * x, 3)), "nabla f = lr(⟨2 x, 3⟩)"),
    (sp.Symbol("θ"), "theta"),
    (sp.Symbol("x₁"), "x_1"),
    (sp.true, '"true"'),
])
def test_typst_printer_table(expr, expected):
    assert typst(expr) == expected


def test_unknown_node_raises_instead_of_leaking_python():
    with pytest.raises(TypeError):
        typst(sp.Integral(x, x))


def test_typst_text_keeps_specials_literal():
    text = 'a # $ * _ @ <label> [x] \\ "q" `c` ~ = - + / : end'
    source = render((text,), "typst")
    pdf = compile_typst(source, {}, 0)
    from pypdf import PdfReader
    import io
    extracted = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "<label>" in extracted and "#" in extracted and "@" in extracted


def test_every_family_expression_compiles_in_typst():
    parts = []
    for name in family_names():
        fam = get_family(name)
        for seed in range(12):
            try:
                p = fam.generate(random.Random(seed), fam.Params(), None)
            except Rejected:
                continue
            pieces = [p.prompt, *p.steps, *[d.feedback for d in p.distractors]]
            parts += [render(r, "typst") for r in pieces]
            parts += [f"${typst(d.value)}$" for d in p.distractors if not isinstance(d.value, bool)]
    pdf = compile_typst("\n\n".join(parts), {}, 0)
    assert pdf.startswith(b"%PDF")


def _pdf_text(path):
    from pypdf import PdfReader
    reader = PdfReader(str(path))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_worksheet_and_key_text(small_build):
    out, _, manifest = small_build
    folder = out / "lesson-1.2.32"
    ws_reader, ws = _pdf_text(folder / "worksheet.pdf")
    key_reader, key = _pdf_text(folder / "answer-key.pdf")
    assert 2 <= len(ws_reader.pages) <= 20 and 2 <= len(key_reader.pages) <= 40
    flat_ws, flat_key = re.sub(r"\s+", " ", ws), re.sub(r"\s+", " ", key)
    from generator.lesson import load_lesson
    from generator.prose import prose
    lesson = load_lesson(LESSONS / "lesson-1.2.32.yaml")
    for item in lesson.all_items():
        for words in prose(getattr(item, "prompt", None) or item.statement):
            if isinstance(words, str) and words.strip(" .,"):
                assert re.sub(r"\s+", " ", words.strip()) in flat_ws, words
    assert "Version 01-" in flat_ws and "Version 02-" in flat_ws  # --copies 2
    for needle in ("Model answer:", "Answer:"):
        assert needle in flat_key and needle not in flat_ws
    for p in manifest["problems"]:
        for part in p["parts"]:
            if part["kind"] == "number" and p["variant"] in (1, 2) and not float(part["answer_numeric"]).is_integer():
                decimal = f"{abs(part['answer_numeric']):.4f}".rstrip("0").rstrip(".")
                assert decimal in flat_key, p["id"]
                assert decimal not in flat_ws


def test_visual_notes_have_every_function_and_a_blank_page(small_build):
    out, _, _ = small_build
    reader, text = _pdf_text(out / "lesson-1.2.32" / "gradient-visual-notes.pdf")
    assert "Gradient Visual Notes" in text and "draw the gradients yourself" in text
    assert "saddle" in text and "Gaussian" in text
    assert sum(len(page.images) for page in reader.pages) >= 6


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.alts = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.alts.append(dict(attrs).get("alt"))


def test_html_parses_with_mathml_and_inline_images(small_build):
    out, _, _ = small_build
    from lxml import html as lhtml
    for name in ("worksheet.html", "answer-key.html"):
        text = (out / "lesson-1.2.32" / name).read_text("utf-8")
        lhtml.document_fromstring(text)
        parser = _Collect()
        parser.feed(text)
        assert "math" in parser.tags
        assert "<script" not in text and "http" not in text.split("<body>")[1].split("</body>")[0].replace(
            "http://www.w3.org/1998/Math/MathML", "")
        if name == "answer-key.html":
            assert parser.alts and all(a and a.startswith("Contour plot") for a in parser.alts)
            assert 'src="data:image/png;base64,' in text


def test_templates_are_strict(small_build):
    import jinja2
    from generator.targets.worksheet import environment
    env = environment("typst")
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("worksheet.typ.j2").render({})


def test_typst_sources_are_written_on_request(tmp_path):
    from generator.pipeline import build
    from .conftest import LESSONS, small_options
    files = build([LESSONS], tmp_path / "o", small_options(variants=1, copies=1, targets=("worksheet",), write_typst=True))
    assert "lesson-1.2.32/typst/worksheet.typ" in files
    assert any(name.endswith(".png") and "/typst/" in name for name in files)


def _classes(obj, out):
    if isinstance(obj, sp.Basic):
        for node in sp.preorder_traversal(obj):
            out.add(type(node))
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            _classes(item, out)
    elif hasattr(obj, "expr"):          # Math
        _classes(obj.expr, out)


def test_printer_table_covers_every_node_the_families_emit():
    """Every SymPy class that appears in any family's prompt, steps, answer or distractors is
    exercised by the table above (so the table is the Typst printer's specification)."""
    emitted = set()
    for name in family_names():
        fam = get_family(name)
        for seed in range(40):
            for params in ({}, {"variables": 3}):
                try:
                    p = fam.generate(random.Random(seed), fam.Params(**params), None)
                except (Rejected, ValueError):
                    continue
                _classes([p.prompt, p.steps, p.answer, [d.value for d in p.distractors],
                          [d.feedback for d in p.distractors]], emitted)
    table = set()
    for expr, _ in test_typst_printer_table.pytestmark[0].args[1]:
        _classes(expr, table)
    # Numbers print through the Integer/Rational paths: one class per value is an artefact of SymPy.
    singletons = {sp.core.numbers.Zero, sp.core.numbers.One, sp.core.numbers.NegativeOne,
                  sp.core.numbers.Half}
    missing = {c.__name__ for c in emitted - table - singletons
               if not issubclass(c, sp.core.function.AppliedUndef)}
    assert not missing, f"add these to the printer table: {sorted(missing)}"
