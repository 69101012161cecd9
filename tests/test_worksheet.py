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
from generator.problem import DU_F, GRAD_F, GRAD_F_AT_P, U_HAT, Dot, Equals, Math, Norm, Over, Partial, Pt, Root, Vec
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


# A PDF/UA-1 document needs a title and a language.
UA_PREAMBLE = '#set document(title: "test")\n#set text(lang: "en")\n'


def test_typst_text_keeps_specials_literal():
    text = 'a # $ * _ @ <label> [x] \\ "q" `c` ~ = - + / : end'
    source = UA_PREAMBLE + render((text,), "typst")
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
            pieces = [p.prompt, *p.steps, *[d.feedback for d in p.distractors],
                      *[(Math(d.value),) for d in p.distractors if not isinstance(d.value, bool)]]
            parts += [render(r, "typst") for r in pieces]
    # Under PDF/UA-1, so every formula also has a spoken form (its alt text).
    pdf = compile_typst(UA_PREAMBLE + "\n\n".join(parts), {}, 0)
    assert pdf.startswith(b"%PDF")


def test_typst_math_carries_its_spoken_form():
    source = render((Math(Equals(Partial(x), 2 * x)),), "typst")
    # Short inline math is boxed, so a line never breaks inside it ("⟨y, x −" / "8y⟩").
    assert source == ('#box(math.equation(block: false, alt: "partial f partial x equals 2 x", '
                      '$frac(partial f, partial x) = 2 x$.body));')
    long = render((Math(sum((x + k) ** 2 for k in range(1, 9))),), "typst")
    assert long.startswith("#math.equation(block: false,")          # long math may still wrap
    # The `;` ends the code expression: prose after it is never read as a call "(a)" or a field ".x".
    pdf = compile_typst(UA_PREAMBLE + source + render(("(a) [b] .x",), "typst"), {}, 0)
    from pypdf import PdfReader
    import io
    assert "(a) [b] .x" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


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


def test_visual_notes_exemplar_and_student_template(small_build):
    out, _, _ = small_build
    folder = out / "lesson-1.2.32"
    assert not (folder / "gradient-visual-notes.pdf").exists()
    reader, exemplar = _pdf_text(folder / "gradient-visual-notes-exemplar.pdf")
    assert "Gradient Visual Notes" in exemplar and "Teacher's exemplar" in exemplar
    assert "saddle" in exemplar and "Gaussian" in exemplar and "steepest-ascent direction" in exemplar
    assert sum(len(page.images) for page in reader.pages) == 5
    reader, student = _pdf_text(folder / "gradient-visual-notes-student.pdf")
    assert "Student template" in student and "Hand in this sheet" in student and "Name:" in student
    # Blank plots of the same five functions plus the practice plot; none of the exemplar's sentences.
    assert sum(len(page.images) for page in reader.pages) == 6
    assert "draw the gradients yourself" in student
    for answer in ("saddle", "Gaussian", "steepest-ascent direction", "largest rate of change there"):
        assert answer not in student


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.alts, self.sources, self.links = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "img":
            self.alts.append(attrs.get("alt"))
        self.sources += [attrs[a] for a in ("src", "href") if a in attrs and tag != "a"]
        if tag == "a":
            self.links.append(attrs.get("href"))


def test_html_parses_with_mathml_and_inline_images(small_build):
    out, _, _ = small_build
    from lxml import html as lhtml
    lesson_links = {"https://www.khanacademy.org/math/multivariable-calculus", "https://tutorial.math.lamar.edu",
                    "https://www.deeplearning.ai"}
    for name in ("worksheet.html", "answer-key.html"):
        text = (out / "lesson-1.2.32" / name).read_text("utf-8")
        lhtml.document_fromstring(text)
        parser = _Collect()
        parser.feed(text)
        assert "math" in parser.tags and "script" not in parser.tags
        # Nothing is fetched: images are inline; the only addresses are the lesson's resource links.
        assert all(src.startswith("data:image/png;base64,") for src in parser.sources), parser.sources
        assert set(parser.links) == (lesson_links if name == "worksheet.html" else set())
        if name == "answer-key.html":
            assert parser.alts and all(a and a.startswith("Contour plot") for a in parser.alts)


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


# --- pages as their reader sees them ---------------------------------------------------------------

from .test_pdf_ua import sheets_build  # noqa: E402  (one shared build per shape)


@pytest.fixture(params=["one", "three"])
def sheets(request, tmp_path_factory):
    return sheets_build(tmp_path_factory, request.param)


@pytest.fixture
def three(tmp_path_factory):
    return sheets_build(tmp_path_factory, "three")


def _pages(path) -> list[str]:
    from pypdf import PdfReader
    return [re.sub(r"[ \t]+", " ", page.extract_text()) for page in PdfReader(str(path)).pages]


def test_stacked_fractions_in_numbered_steps_never_touch_the_next_line():
    """Three steps ∂f/∂x = …, one under the other, typeset with the sheets' own preamble: the ink of
    each line is a band of its own, with white space between the bands."""
    import io
    import numpy as np
    from PIL import Image
    from generator.targets.worksheet import environment
    preamble = environment("typst").get_template("common.typ.j2").render(doc_title="t", paper="a4")
    steps = "".join(f"+ $frac(partial f, partial {v}) = 2 {v}$\n" for v in "xyz")
    png = compile_typst_png(preamble + "#set page(width: 8cm, height: auto, header: none, footer: none, "
                            "margin: 5pt)\n" + steps)
    ink = (np.asarray(Image.open(io.BytesIO(png)).convert("L")) < 128).any(axis=1)
    bands = sum(1 for above, here in zip(np.r_[False, ink[:-1]], ink) if here and not above)
    assert bands == 3


def compile_typst_png(source: str) -> bytes:
    import typst
    return typst.compile(source.encode("utf-8"), format="png", ppi=300)


def test_no_solution_or_task_is_split_across_pages(sheets):
    """Every answer-key solution and every worksheet task (question and its work space) starts and
    ends on one page, unless it is taller than a page: read from Typst's own layout (`<kept>`)."""
    import typst
    folder, _ = sheets
    for name, least in (("answer-key", 25), ("worksheet", 25)):
        source = folder / "typst" / f"{name}.typ"
        marks = typst.query(str(source), "<kept>", field="value", root=str(source.parent))
        import json
        marks = json.loads(marks) if isinstance(marks, str) else marks
        spans: dict[str, dict] = {}
        for m in marks:
            spans.setdefault(m["id"], {})[m["edge"]] = (m["page"], m["long"])
        assert len(spans) >= least, (name, len(spans))
        for id_, edges in spans.items():
            (start, long), (end, _) = edges["start"], edges["end"]
            assert start == end or long, f"{name}: {id_} runs from page {start} to page {end}"
        assert not all(edges["start"][1] for edges in spans.values())


def test_no_heading_ends_a_page(sheets):
    from pypdf import PdfReader
    folder, _ = sheets
    for name in ("worksheet.pdf", "answer-key.pdf", "gradient-visual-notes-student.pdf"):
        reader = PdfReader(str(folder / name))
        headings: dict[int, list[str]] = {}

        def collect(items):
            for item in items:
                if isinstance(item, list):
                    collect(item)
                else:
                    headings.setdefault(reader.get_destination_page_number(item), []).append(item.title)
        collect(reader.outline)
        assert sum(map(len, headings.values())) > 5
        for number, page in enumerate(reader.pages):
            body = [line.strip() for line in page.extract_text().splitlines() if line.strip()][1:-1]
            last = re.sub(r"\s+", " ", body[-1]) if body else ""
            for title in headings.get(number, []):
                assert not re.sub(r"\s+", " ", title).endswith(last), f"{name} p{number + 1} ends with '{title}'"


def test_version_code_on_every_page_and_pages_counted_per_version(three):
    from generator.targets.worksheet import version_code
    folder, _ = three
    codes = [version_code(42, "lesson-1.2.32", k) for k in (1, 2, 3)]
    for name, tag in (("worksheet.pdf", "Version "), ("answer-key.pdf", "Answer key · Version ")):
        every = _pages(folder / name)
        # Printed double-sided, each version starts on a new sheet (an odd page); the blank page
        # that may take, and only that page, carries no header, footer or code.
        blank = [i for i, text in enumerate(every) if not text.strip()]
        pages = [text for text in every if text.strip()]
        shown = []
        for text in pages:
            found = [c for c in codes if f"{tag}{c}" in text]
            assert len(found) == 1, (name, text[:200])
            shown.append(found[0])
        firsts = [every.index(next(t for t in every if f"{tag}{c}" in t)) for c in codes]
        assert all(i % 2 == 0 for i in firsts), (name, firsts)            # 0-based: page 1, 3, 5, …
        assert all(i + 1 in firsts for i in blank), (name, blank, firsts)
        assert shown == sorted(shown) and set(shown) == set(codes)        # versions in order, none missing
        for code in codes:
            mine = [t for t, c in zip(pages, shown) if c == code]
            assert re.search(rf"\b1 / {len(mine)}\s*$", mine[0]) and re.search(rf"\b{len(mine)} / {len(mine)}\s*$", mine[-1])


def test_student_pages_print_no_seed_and_the_key_keeps_them(sheets):
    folder, manifest = sheets
    for name in ("worksheet.pdf", "gradient-visual-notes-student.pdf"):
        for number, text in enumerate(_pages(folder / name), 1):
            assert "seed" not in text.lower(), f"{name} p{number}"
    assert "seed" not in (folder / "worksheet.html").read_text("utf-8").lower()
    key = " ".join(_pages(folder / "answer-key.pdf"))
    html_key = (folder / "answer-key.html").read_text("utf-8")
    copies = len([1 for text in _pages(folder / "answer-key.pdf") if "Answer key: Lesson" in text])
    shown = [p for p in manifest["problems"] if p["variant"] <= copies]
    assert shown and all(f"seed {p['seed']}" in key and f"seed {p['seed']}" in html_key for p in shown)


def test_the_whole_lesson_is_on_the_worksheet(sheets):
    from lxml import html as lhtml
    from generator.lesson import load_lesson
    folder, _ = sheets
    lesson = load_lesson(LESSONS / "lesson-1.2.32.yaml")
    pdf = re.sub(r"\s+", " ", re.sub(r"-\n", "-", " ".join(_pages(folder / "worksheet.pdf"))))
    doc = lhtml.document_fromstring((folder / "worksheet.html").read_text("utf-8"))
    html = re.sub(r"\s+", " ", doc.text_content())
    wanted = [*lesson.prerequisites, *(c.text for c in lesson.core_ideas), *(k.text for k in lesson.key_takeaways),
              *(r.title for r in lesson.resources), lesson.mini_project.title, lesson.mini_project.description,
              "Prerequisites", "Core ideas", "Key takeaways", "Additional resources", "Hand in",
              "gradient-visual-notes-student.pdf", "notebook.ipynb", "Coding challenge q8"]
    from generator.prose import prose
    for text in wanted:
        # Prose is compared word for word; its $…$ math is typeset, so it is not text to find.
        for words in prose(text):
            if isinstance(words, str) and words.strip(" .,:;"):
                piece = re.sub(r"\s+", " ", words.strip())
                assert piece in pdf and piece in html, piece
    for r in lesson.resources:
        assert r.url in pdf and doc.xpath(f"//a[@href='{r.url}']")
    assert "{{c1::" not in pdf + html and "::" not in pdf + html          # the statements, not the clozes
    assert (folder / "notebook.ipynb").is_file()


def test_each_version_points_to_its_own_notebook(three):
    from generator.targets.worksheet import notebook_file, version_code
    folder, _ = three
    html = (folder / "worksheet.html").read_text("utf-8").split('class="version-block"')[1:]
    for k, section in enumerate(html, 1):
        name = notebook_file(k, version_code(42, "lesson-1.2.32", k))
        assert name in section and (folder / name).is_file()


def _versions(folder):
    from lxml import html as lhtml
    doc = lhtml.document_fromstring((folder / "worksheet.html").read_text("utf-8"))
    return doc.xpath("//section[contains(@class, 'version-block')]")


def test_part_labels_carry_a_prime_only_beside_the_lesson_s_own_part(sheets):
    folder, manifest = sheets
    fixed = {(p["exercise"], p["problem"]) for p in manifest["problems"] if p["variant"] == 0}
    for version in _versions(folder):
        for h3 in version.xpath(".//h3[starts-with(., 'Exercise')]"):
            item = h3.text_content().split()[-1]
            labels = []
            for el in h3.itersiblings():
                if el.tag in ("h2", "h3"):
                    break
                labels += [t.text_content().split(")")[0] + ")" for t in el.xpath("self::div[@class='task']/p")]
            for label in labels:
                spec = label.strip("()′")
                if "′" in label:
                    assert f"({spec})" in labels and (item, spec) in fixed, (item, labels)
                else:
                    assert (item, spec) in fixed or f"({spec}′)" not in labels
            assert len(set(labels)) == len(labels)
    assert any("′" in t for v in _versions(folder) for t in v.xpath(".//div[@class='task']/p/text()"))


def test_quiz_follows_the_lesson_ids_and_the_randomized_statement_follows_q3(sheets):
    folder, _ = sheets
    for version in _versions(folder):
        rows = [re.sub(r"\s+", " ", r.text_content()) for r in version.xpath(".//ul[@class='tf']/li")]
        assert [r.split(".")[0] for r in rows] == ["q1", "q2", "q3", "q4"]
        assert "True or false:" in rows[2] and not any("True or false:" in r for r in rows[:2] + rows[3:])
        text = re.sub(r"\s+", " ", version.text_content())
        order = [text.index(f"{q}. ") for q in ("q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8")]
        assert order == sorted(order)
    pdf = re.sub(r"\s+", " ", " ".join(_pages(folder / "worksheet.pdf")))
    q3, tf, q4 = pdf.index("q3."), pdf.index("True or false:"), pdf.index("q4.")
    assert q3 < tf < q4


def test_true_false_boxes_stay_on_their_statement_s_line(sheets):
    folder, _ = sheets
    html = (folder / "worksheet.html").read_text("utf-8")
    css = re.search(r"<style>(.*?)</style>", html, re.S)[1]
    assert re.search(r"\.tf-boxes\s*\{[^}]*white-space:\s*nowrap", css)
    assert re.search(r"\.tf-row\s*\{[^}]*display:\s*flex", css)
    for version in _versions(folder):
        boxes = version.xpath(".//*[contains(text(), '☐ True')]")
        assert len(boxes) == 5
        for box in boxes:
            assert box.get("class") == "tf-boxes"
            row = box.getparent()
            assert row.get("class") == "tf-row" and row.xpath("./span[@class='statement']")


def test_work_space_follows_the_work(sheets):
    from generator.targets.worksheet import ROOM_BOUNDS
    folder, manifest = sheets
    [version] = _versions(folder)[:1]
    heights = [float(re.search(r"height: ([\d.]+)cm", div.get("style"))[1])
               for div in version.xpath(".//div[@class='task']/div[@class='work']")]
    tasks = [p for p in manifest["problems"] if p["variant"] in (0, 1) and p["section"] != "conceptual"]
    order = {"exercises": 0, "true_false": 1, "coding": 2}
    tasks.sort(key=lambda p: order[p["section"]])           # the sheet's order: exercises, quiz, coding
    assert len(heights) == len(tasks)
    # A descent step is two lines of hand work the solution does not show (∇f at the iterate,
    # then the update); the shape records the number of steps.
    steps = [int(m[1]) if (m := re.search(r"\('steps', (\d+)\)", p["shape"])) else 0 for p in tasks]
    work = [len(p["solution"]) + len(p["parts"]) + 2 * n for p, n in zip(tasks, steps)]
    assert all(ROOM_BOUNDS[0] <= h <= ROOM_BOUNDS[1] for h in heights)
    for (w1, h1), (w2, h2) in zip(sorted(zip(work, heights)), sorted(zip(work, heights))[1:]):
        assert h1 <= h2, "more work got less room"
    assert len(set(heights)) >= 3


def test_the_key_restates_every_question_above_its_answer(sheets):
    from lxml import html as lhtml
    folder, _ = sheets
    key = lhtml.document_fromstring((folder / "answer-key.html").read_text("utf-8"))
    asked = [[re.sub(r"\s+", " ", p.text_content()).strip() for p in v.xpath(".//div[@class='task']/p")]
             for v in _versions(folder)]
    restated = [[re.sub(r"\s+", " ", q.text_content()).strip() for q in v.xpath(".//p[@class='question']")]
                for v in key.xpath("//section[contains(@class, 'version-block')]")]
    tf = [[re.sub(r"\s+", " ", s.text_content()).strip() for s in v.xpath(".//div[@class='task']//span[@class='statement']")]
          for v in _versions(folder)]
    for sheet, mine, statements in zip(asked, restated, tf):
        assert sorted(sheet + statements) == sorted(mine)
    pdf = re.sub(r"\s+", " ", " ".join(_pages(folder / "answer-key.pdf")))
    assert pdf.count("Answer:") == sum(map(len, restated))


def test_a_teacher_template_folder_missing_a_template_is_told_how_to_get_it():
    import jinja2
    from generator.errors import GenError
    from generator.resources import get_template
    with pytest.raises(GenError) as info:
        get_template(jinja2.Environment(loader=jinja2.DictLoader({})), "worksheet", "visual-notes-student.typ.j2")
    assert info.value.exit_code == 2 and "gen init" in info.value.format_message()


def test_negative_numbers_print_a_true_minus_sign(sheets):
    """Decimals (≈ −0.8944), coordinates and every number a reader sees: U+2212, never a hyphen."""
    from lxml import html as lhtml
    folder, _ = sheets
    hyphen = re.compile(r"(?<![\w.])-\d")
    texts = {name: " ".join(_pages(folder / name)) for name in ("worksheet.pdf", "answer-key.pdf")}
    texts.update({name: lhtml.document_fromstring((folder / name).read_text("utf-8")).text_content()
                  for name in ("worksheet.html", "answer-key.html")})
    for name, text in texts.items():
        assert "\u2212" in text and not hyphen.search(text), (name, hyphen.findall(text)[:5])
    assert re.search(r"≈ \(?\u22120\.\d+", texts["answer-key.pdf"] + texts["answer-key.html"])


def test_characters_the_pdf_fonts_lack_are_named_not_dropped():
    """PDF/UA-1 refuses a glyph no font can draw: such characters (emoji, CJK) print as their
    Unicode names, and everything else as it is."""
    from pypdf import PdfReader
    import io
    pdf = compile_typst(UA_PREAMBLE + render(("emoji 🧮 fine, ∇ and שלום stay",), "typst"), {}, 0)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "emoji [abacus] fine, ∇ and" in text and "🧮" not in text


def test_templates_compiled_ahead_are_the_ones_rendered():
    """prepare_templates (run while the workers generate) compiles exactly the templates a build
    then asks for, so the render finds them compiled."""
    from generator.targets import notebook, worksheet
    from tests.conftest import small_options
    for pdf in (True, False):
        worksheet.environment.cache_clear()
        worksheet.prepare_templates(small_options(pdf=pdf))
        compiled = {name for env in (worksheet.environment("html"), worksheet.environment("typst"))
                    for (_, name) in env.cache.keys()}
        typst = {"worksheet.typ.j2", "answer-key.typ.j2", "visual-notes-exemplar.typ.j2",
                 "visual-notes-student.typ.j2"}
        assert {"worksheet.html.j2", "answer-key.html.j2"} <= compiled
        assert (typst <= compiled) == pdf
    notebook.prepare_templates(small_options())
    assert {name for (_, name) in notebook.environment().cache.keys()} >= {"sections.j2", "gradient.j2"}


def _worksheet_build(**options):
    """(lesson build, options) of the example lesson for the worksheet target alone."""
    from pathlib import Path

    from generator.pipeline import Options, prepare
    options = Options(seed=42, targets=("worksheet",), jobs=1, **options)
    (lb,) = prepare([Path(__file__).resolve().parent.parent / "lesson_data"], options)
    return lb, options


def _templates_fail(monkeypatch, suffix: str, message: str) -> None:
    """The worksheet's templates whose names end in `suffix` raise GenError(message)."""
    from generator.errors import GenError
    from generator.targets import worksheet
    template = worksheet.get_template

    def failing(env, folder, name):
        if name.endswith(suffix):
            raise GenError(message)
        return template(env, folder, name)
    monkeypatch.setattr(worksheet, "get_template", failing)


def test_a_pdf_refusal_is_reported_before_an_html_template_error(monkeypatch):
    """The PDFs compile in threads while the HTML pages render; a Typst refusal still comes first,
    as when the PDFs were made before the pages."""
    from generator.errors import GenError
    from generator.targets import worksheet
    lb, options = _worksheet_build(variants=1)

    def refused(source, images, timestamp, name="document.pdf"):
        raise worksheet.PdfStandardError(f"Typst refused {name}.")
    monkeypatch.setattr(worksheet, "compile_typst", refused)
    _templates_fail(monkeypatch, ".html.j2", "no such HTML template.")
    with pytest.raises(worksheet.PdfStandardError, match="worksheet.pdf"):
        worksheet.render(lb, options)
    monkeypatch.setattr(worksheet, "compile_typst", lambda *a, **k: b"%PDF")
    with pytest.raises(GenError, match="no such HTML template"):
        worksheet.render(lb, options)


def test_worksheet_sources_prepared_while_the_plots_are_drawn_are_the_ones_render_makes(monkeypatch):
    """prepare_early makes the Typst sources before the plots exist; render uses them only for the
    same lesson build and options, and writes what it writes without them. A failure while
    preparing is left for render to raise."""
    from dataclasses import replace

    from generator.errors import GenError
    from generator.targets import worksheet
    from generator import mathfmt
    lb, options = _worksheet_build(variants=2, copies=2, pdf=False, write_typst=True)
    plain = worksheet.render(lb, options)
    mathfmt.render.cache_clear()
    mathfmt.mathml.cache_clear()
    worksheet.prepare_early(lb, options)
    assert id(lb) in worksheet._PREPARED
    assert mathfmt.mathml.cache_info().currsize > 50      # without PDFs, the pages' MathML is made early
    assert worksheet.render(lb, options) == plain and id(lb) not in worksheet._PREPARED
    other = replace(options, seed=7)                 # prepared for other options: not used
    worksheet.prepare_early(lb, other)
    assert worksheet.render(lb, options) == plain and not worksheet._PREPARED
    _templates_fail(monkeypatch, ".typ.j2", "a broken Typst template.")
    worksheet.prepare_early(lb, options)
    assert not worksheet._PREPARED
    with pytest.raises(GenError, match="broken Typst template"):
        worksheet.render(lb, options)


@pytest.mark.parametrize("options", [dict(variants=1), dict(variants=3, copies=3), dict(variants=4, copies=2)])
def test_the_plots_requested_up_front_are_the_plots_the_worksheets_embed(options):
    """figures() finds the plots without building the sheets (their alt texts wait until the plots
    are being drawn); it asks for exactly the plots, sizes and order the render then embeds, so
    none is drawn twice or left to the render."""
    from generator.targets import worksheet
    lb, options = _worksheet_build(pdf=False, **options)
    specs, versions, panels, practice = worksheet._figure_specs(lb, options)
    # _items walks what versions() sets out, in its order, quiz items included
    for v in versions:
        shown = ([ex["item"] for level in v.levels for ex in level["exercises"]]
                 + [group["item"] for group in v.true_false + v.coding])
        assert list(worksheet._items(lb.lesson)) == shown and v.true_false and v.coding
    embedded = ([(spec, {}) for spec in specs.values()] + [(panel["spec"], worksheet.BLANK) for panel in panels]
                + [(practice["spec"], worksheet.PRACTICE)])
    requested = worksheet.figures(lb, options)
    assert len(requested) == len(embedded) > len(panels) + 1
    for (spec, sizes), (want, want_sizes) in zip(requested, embedded):
        assert sizes == want_sizes and spec.keys() == want.keys()
        assert all(spec[k] == want[k] for k in spec), (spec, want)
