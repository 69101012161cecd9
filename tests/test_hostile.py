"""Hostile or unusual lesson text comes out as the same literal text in every target, and every
target still parses (Anki imports, QTI validates, Moodle parses, Typst compiles, HTML parses)."""
from __future__ import annotations

import html
import json
import re
import zipfile

import pytest
import yaml
from lxml import etree
from lxml import html as lhtml

from generator.pipeline import build

from .conftest import LESSONS, small_options, validate_against_ims

HOSTILE = [
    "<script>alert('x')</script> stays text",
    "Tom & Jerry: 1 < 2 > 0",
    "CDATA end ]]> inside",
    'quotes "double" and \'single\'',
    "{{c1::not a cloze}} and {{Field}} and {{/Field}}",
    "Typst # $ * _ @ <label> `raw` [link] ~ = - + / end",
    r"back\slash \frac{1}{2} \n \\ end",
    "emoji 🧮📈 fine",
    "RTL שלום עולם مرحبا end",
    "long " + "x" * 10_000,
]


def typed(text: str) -> str:
    """How a teacher writes the text in a lesson: a literal $ is \\$ ($…$ is math)."""
    return text.replace("$", "\\$")


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    data = yaml.safe_load((LESSONS / "lesson-1.2.32.yaml").read_text("utf-8"))
    data["id"] = "hostile"
    data["title"] = "Hostile & <odd> # title"
    data["objectives"][0] = {"text": typed(HOSTILE[0]), "model_answer": typed(HOSTILE[1])}
    conceptual = [e for e in data["exercises"] if "model_answer" in e]
    for i, text in enumerate(HOSTILE):
        target = conceptual[i % len(conceptual)]
        if i < len(conceptual):
            target["prompt"] = typed(text)
        else:
            target["model_answer"] = typed(text)
    for tf, text in zip(data["quiz"]["true_false"], HOSTILE[5:9]):
        tf["statement"] = typed(text)
        tf["reason"] = typed(text)
    path = tmp / "hostile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    out = tmp / "out"
    files = build([path], out, small_options(variants=1, anki_variants=1, copies=1))
    return out / "hostile", files


def _contains_all(text):
    flat = re.sub(r"\s+", " ", text)
    missing = [h[:30] for h in HOSTILE if h not in flat]
    assert not missing, missing


def test_manifest_keeps_text(hostile_build):
    _, files = hostile_build
    strings = []

    def walk(node):
        if isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, str):
            strings.append(node)
    walk(json.loads(files["manifest.json"]))
    _contains_all(" | ".join(strings))


def test_moodle_parses_and_keeps_text(hostile_build):
    folder, _ = hostile_build
    root = etree.parse(str(folder / "moodle.xml")).getroot()
    _contains_all(html.unescape(" ".join(root.itertext())))


@pytest.mark.ims_schemas
def test_qti_validates_and_keeps_text(hostile_build):
    folder, _ = hostile_build
    zf = zipfile.ZipFile(folder / "canvas-qti.zip")
    name = [n for n in zf.namelist() if n.count("/") == 1 and "meta" not in n][0]
    root = etree.fromstring(zf.read(name))
    _contains_all(html.unescape(" ".join(root.itertext())))
    validate_against_ims("qti12/ims_qtiasiv1p2.xsd", zf.read(name))                   # last: it may skip


def test_html_parses_and_keeps_text(hostile_build):
    folder, _ = hostile_build
    text = " ".join(lhtml.document_fromstring((folder / n).read_text("utf-8")).text_content()
                    for n in ("worksheet.html", "answer-key.html"))
    _contains_all(text)
    assert "<script>" not in (folder / "worksheet.html").read_text("utf-8")


def test_pdfs_compile_and_keep_text(hostile_build):
    from pypdf import PdfReader
    folder, _ = hostile_build
    text = ""
    for name in ("worksheet.pdf", "answer-key.pdf"):
        reader = PdfReader(str(folder / name))
        text += "".join(page.extract_text() for page in reader.pages)
    squashed = re.sub(r"\s+", "", text)
    for h in HOSTILE:
        if "שלום" in h or "🧮" in h:
            continue      # text extraction reorders RTL runs and drops emoji; checked in HTML above
        assert re.sub(r"\s+", "", h) in squashed, h[:30]


def test_anki_imports_and_keeps_text(hostile_build, tmp_path):
    from .test_anki import assert_card_html, fresh_collection, import_deck
    folder, _ = hostile_build
    col = fresh_collection(tmp_path)
    import_deck(col, folder / "hostile.apkg")
    fields = []
    for nid in col.find_notes(""):
        fields += col.get_note(nid).fields
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        # A literal "$" from the lesson is text: Anki's MathJax reads only \( \) and \[ \].
        assert_card_html(card.question(), literal_dollars=True)
        assert_card_html(card.answer(), literal_dollars=True)
    _contains_all(html.unescape(" ".join(fields)))
    col.close()


def test_control_characters_are_refused(lesson_copy):
    from generator.errors import LessonError
    from generator.lesson import load_lesson
    text = lesson_copy.read_text("utf-8").replace("Define gradient in one sentence.",
                                                  '"Define\\x07 gradient in one sentence."')
    lesson_copy.write_text(text, "utf-8")
    with pytest.raises(LessonError) as info:
        load_lesson(lesson_copy)
    assert "U+0007" in info.value.message and info.value.field == "exercises[0].prompt"
