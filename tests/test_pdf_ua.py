"""PDF/UA-1: every PDF of a default-shaped build (one version) and of `--copies 3` is compiled under
Typst's PDF/UA-1 check and read back with pikepdf: the XMP says pdfuaid:part 1, every /Formula and
/Figure structure element has alt text (spoken math, the plot's description), and each document
has its own title."""
from __future__ import annotations

import re

import pytest

from .conftest import LESSONS, small_options

LESSON = "lesson-1.2.32"
PDFS = ("worksheet.pdf", "answer-key.pdf", "gradient-visual-notes-exemplar.pdf", "gradient-visual-notes-student.pdf")
_BUILDS: dict[str, tuple] = {}
SHAPES = {"one": dict(variants=1, anki_variants=1, copies=1), "three": dict(variants=3, anki_variants=1, copies=3)}


def sheets_build(tmp_path_factory, shape: str):
    """A worksheet (and notebook) build with the Typst sources, shared by this module and
    test_worksheet.py: 'one' is shaped like the default build (one version), 'three' is --copies 3."""
    if shape not in _BUILDS:
        import json
        from generator.pipeline import build
        out = tmp_path_factory.mktemp(f"sheets-{shape}") / "build"
        files = build([LESSONS], out, small_options(**SHAPES[shape], targets=("worksheet", "notebook"),
                                                    write_typst=True))
        _BUILDS[shape] = (out / LESSON, json.loads(files["manifest.json"]))
    return _BUILDS[shape]


@pytest.fixture(params=sorted(SHAPES))
def built(request, tmp_path_factory):
    return sheets_build(tmp_path_factory, request.param)


def structure(path):
    """The PDF (pikepdf) and its structure elements by type: {"/Formula": [alt or None, ...], ...}."""
    import pikepdf
    pdf = pikepdf.open(path)
    found: dict[str, list] = {}

    def walk(node):
        if isinstance(node, pikepdf.Array):
            for child in node:
                walk(child)
        elif isinstance(node, pikepdf.Dictionary):
            if "/S" in node:
                found.setdefault(str(node.S), []).append(str(node.Alt) if "/Alt" in node else None)
            if "/K" in node:
                walk(node.K)
    walk(pdf.Root.StructTreeRoot.K)
    return pdf, found


def title(pdf) -> str:
    return str(pdf.open_metadata().get("dc:title"))


@pytest.mark.parametrize("name", PDFS)
def test_every_pdf_is_pdf_ua_1_with_alt_text_on_every_formula_and_figure(built, name):
    folder, _ = built
    pdf, found = structure(folder / name)
    assert pdf.open_metadata().get("pdfuaid:part") == "1"
    assert pdf.Root.MarkInfo.Marked and str(pdf.Root.Lang) == "en"
    assert pdf.Root.ViewerPreferences.DisplayDocTitle        # readers show the title, not the file name
    formulas, figures = found.get("/Formula", []), found.get("/Figure", [])
    assert formulas, "no formula was tagged"
    assert all(alt and alt.strip() for alt in formulas + figures), "a formula or figure lacks /Alt"
    if name != "worksheet.pdf":                            # the student's sheet has no plots
        assert figures
    for alt in formulas:                                   # spoken, never markup read out
        assert not re.search(r"[\^_\\$]|frac\(|\*\*|lr\(", alt), alt


def test_formula_alt_text_is_the_spoken_formula(built):
    from generator.problem import Equals
    from generator.speech import speak
    import sympy as sp
    folder, _ = built
    _, found = structure(folder / "worksheet.pdf")
    x, y = sp.symbols("x y", real=True)
    fixed = speak(Equals(sp.Function("f")(x, y), x**2 + y**2))    # exercise 1.2.32.2's own function
    assert fixed == "f of x and y equals x squared plus y squared"
    assert fixed in found["/Formula"]


def test_figure_alt_text_describes_each_plot_and_the_blank_plots_say_so(built):
    from generator.figures import alt_text
    folder, manifest = built
    _, key = structure(folder / "answer-key.pdf")
    alts = key["/Figure"]
    assert len(set(alts)) == len(alts), "two plots share a description"
    assert all(a.startswith("Contour plot of f of x and y equals") for a in alts)
    _, student = structure(folder / "gradient-visual-notes-student.pdf")
    assert student["/Figure"] and all(a.startswith("Blank practice plot") for a in student["/Figure"])
    from generator.lesson import load_lesson
    from generator.targets.worksheet import visual_panels
    panels, practice = visual_panels(load_lesson(LESSONS / "lesson-1.2.32.yaml"), {})
    _, exemplar = structure(folder / "gradient-visual-notes-exemplar.pdf")
    assert exemplar["/Figure"] == [alt_text(p["spec"]) for p in panels]
    assert student["/Figure"] == [alt_text(p["spec"], blank=True) for p in panels] + [practice["alt"]]


def test_visible_captions_do_not_repeat_the_alt_text(built):
    from pypdf import PdfReader
    folder, _ = built
    _, key = structure(folder / "answer-key.pdf")
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(folder / "answer-key.pdf").pages))
    for alt in key["/Figure"]:
        assert alt[:60] not in text


def test_each_document_has_its_own_title(tmp_path_factory):
    import pikepdf
    titles = {}
    for shape in sorted(SHAPES):
        folder, _ = sheets_build(tmp_path_factory, shape)
        for name in PDFS:
            titles[(shape, name)] = title(pikepdf.open(folder / name))
    for shape in SHAPES:
        mine = [titles[(shape, n)] for n in PDFS]
        assert len(set(mine)) == len(mine), mine
    base = "Lesson 1.2.32: Gradients and Directional Derivatives — "
    assert re.fullmatch(re.escape(base) + r"worksheet, version 01-[0-9A-F]{4}", titles[("one", "worksheet.pdf")])
    assert re.fullmatch(re.escape(base) + r"worksheet, versions 01-\w{4}, 02-\w{4} and 03-\w{4}",
                        titles[("three", "worksheet.pdf")])
    assert titles[("one", "answer-key.pdf")] == base + "answer key"
    assert titles[("one", "gradient-visual-notes-exemplar.pdf")] == base + "visual notes (exemplar)"
    assert titles[("one", "gradient-visual-notes-student.pdf")] == base + "visual notes (student template)"


def test_a_pdf_typst_refuses_under_ua_1_stops_the_build_as_gen_s_bug():
    from generator.targets.worksheet import PdfStandardError, compile_typst
    source = '#set document(title: "t")\n#set text(lang: "en")\nA formula without alt text: $x^2$.'
    with pytest.raises(PdfStandardError) as info:
        compile_typst(source, {}, 0, "answer-key.pdf")
    assert info.value.exit_code == 1
    message = info.value.format_message()
    assert "answer-key.pdf" in message and "PDF/UA-1" in message and "alt text" in message
    assert "no untagged PDF" in message
