"""What a reader sees in every target carries no raw markup: no ^, _{, **, \\( or $ outside math.

Math is typeset by each target's own machinery (MathML elements, Typst's PDF glyphs, MathJax's
\\( \\) in Anki and the LMSs, $…$ in notebook Markdown); everything else is what a student reads,
and that is what is scanned here.
"""
from __future__ import annotations

import html
import json
import re
import zipfile

import pytest
from lxml import etree
from lxml import html as lhtml

from .conftest import LESSONS, small_options

RAW = re.compile(r"\^|_\{|\*\*|\\\(|\$")
MATHJAX = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]", re.S)
CLOZE_BOX = re.compile(r"\{\d*:(NUMERICAL|MULTICHOICE[_A-Z]*):.*?(?<!\\)\}", re.S)


@pytest.fixture(scope="module")
def everything(tmp_path_factory):
    from generator.pipeline import build
    out = tmp_path_factory.mktemp("visible") / "build"
    build([LESSONS], out, small_options(variants=1, anki_variants=1, copies=1))
    return out / "lesson-1.2.32"


def _visible(markup: str) -> str:
    """Text of an HTML fragment with its MathJax math and Moodle cloze boxes taken out."""
    text = CLOZE_BOX.sub(" ", markup)
    text = re.sub(r"<style>.*?</style>", " ", text, flags=re.S)
    text = MATHJAX.sub(" ", html.unescape(re.sub(r"<[^>]+>", " ", text)))
    return text


def _assert_clean(where: str, text: str):
    hits = [(m.group(), text[max(0, m.start() - 40):m.end() + 40]) for m in RAW.finditer(text)]
    assert not hits, f"{where}: raw markup {hits[:5]}"


def test_html_worksheets(everything):
    for name in ("worksheet.html", "answer-key.html"):
        doc = lhtml.document_fromstring((everything / name).read_text("utf-8"))
        for node in doc.xpath("//*[local-name()='math'] | //style | //script"):
            node.getparent().remove(node)
        _assert_clean(name, doc.text_content())


def test_pdfs(everything):
    from pypdf import PdfReader
    for name in ("worksheet.pdf", "answer-key.pdf", "gradient-visual-notes-exemplar.pdf",
                 "gradient-visual-notes-student.pdf"):
        reader = PdfReader(str(everything / name))
        _assert_clean(name, "\n".join(page.extract_text() for page in reader.pages))


def test_anki_cards(everything, tmp_path):
    from .test_anki import fresh_collection, import_deck
    col = fresh_collection(tmp_path)
    import_deck(col, everything / "lesson-1.2.32.apkg")
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        for side in (card.question(), card.answer()):
            _assert_clean(f"card {cid}", _visible(side))
    col.close()


def test_moodle_items(everything):
    root = etree.parse(str(everything / "moodle.xml")).getroot()
    for node in root.iter("text"):
        if node.getparent().tag in ("name", "category"):
            continue
        _assert_clean(f"moodle {node.getparent().tag}", _visible(node.text or ""))


def test_canvas_items(everything):
    zf = zipfile.ZipFile(everything / "canvas-qti.zip")
    for name in zf.namelist():
        if not name.endswith(".xml") or "imsmanifest" in name:
            continue
        root = etree.fromstring(zf.read(name))
        for node in root.iter("{*}mattext", "{*}description"):
            _assert_clean(f"canvas {name}", _visible(node.text or ""))


def test_notebook_markdown(everything):
    for name in ("notebook.ipynb", "notebook-teacher.ipynb"):
        nb = json.loads((everything / name).read_text("utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                # Jupyter renders $…$ as math, `code` as code and **bold** as bold; an escaped
                # \$ is a dollar sign the reader sees.
                text = "".join(cell["source"]).replace("\\$", "\0")
                text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S).replace("\0", "$")
                text = re.sub(r"\*\*(.+?)\*\*", r"\1", re.sub(r"`[^`]*`", " ", text))
                _assert_clean(f"{name} markdown", text)


def test_manifest_text(everything):
    manifest = json.loads((everything.parent / "manifest.json").read_text("utf-8"))
    for p in manifest["problems"]:
        for text in [p["prompt"], p["answer_text"], *p["solution"]]:
            _assert_clean(p["id"], text)
    for item in manifest["lessons"][0]["items"]:
        for key in ("prompt", "model_answer", "statement", "reason"):
            if item.get(key):
                _assert_clean(item["id"], item[key])
