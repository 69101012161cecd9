"""Canvas QTI validated against the official IMS schemas; both LMS files parsed back and checked
item by item against the manifest."""
from __future__ import annotations

import io
import zipfile

import pytest
from lxml import etree

from .conftest import validate_against_ims
from .item_audit import quiz_problems

QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"


@pytest.fixture(scope="module")
def lms30(tmp_path_factory):
    """The LMS files of a class-sized build: every item of --variants 30 is checked."""
    from generator.pipeline import build
    from .conftest import LESSONS, small_options
    out = tmp_path_factory.mktemp("lms30") / "build"
    files = build([LESSONS], out, small_options(variants=30, targets=("qti", "moodle")))
    import json
    return out, files, json.loads(files["manifest.json"])


@pytest.fixture(scope="module")
def package(lms30):
    out, _, manifest = lms30
    zf = zipfile.ZipFile(out / "lesson-1.2.32" / "canvas-qti.zip")
    return zf, manifest


def test_package_layout(package):
    zf, _ = package
    names = zf.namelist()
    assert "imsmanifest.xml" in names and not any(".." in n for n in names)
    [assessment] = [n for n in names if n.endswith(".xml") and "/" in n and "meta" not in n]
    folder = assessment.split("/")[0]
    assert assessment == f"{folder}/{folder}.xml" and f"{folder}/assessment_meta.xml" in names
    for info in zf.infolist():
        assert info.date_time[0] >= 1980


@pytest.mark.ims_schemas
def test_qti_and_manifest_validate_against_ims_schemas(package):
    zf, _ = package
    assessment = [n for n in zf.namelist() if n.count("/") == 1 and "meta" not in n][0]
    validate_against_ims("qti12/ims_qtiasiv1p2.xsd", zf.read(assessment))
    validate_against_ims("cp11/imscp_v1p1.xsd", zf.read("imsmanifest.xml"))


def test_assessment_meta_matches_assessment(package):
    zf, _ = package
    manifest = etree.fromstring(zf.read("imsmanifest.xml"))
    ns = {"cp": "http://www.imsglobal.org/xsd/imscp_v1p1"}
    types = [r.get("type") for r in manifest.findall(".//cp:resource", ns)]
    assert types[0] == "imsqti_xmlv1p2" and types[1].endswith("learning-application-resource")
    folder = manifest.find(".//cp:resource", ns).get("identifier")
    meta = etree.fromstring(zf.read(f"{folder}/assessment_meta.xml"))
    assessment = etree.fromstring(zf.read(f"{folder}/{folder}.xml")).find(f"{QTI}assessment")
    assert meta.get("identifier") == assessment.get("ident") == folder
    assert meta.findtext("{http://canvas.instructure.com/xsd/cccv1p0}title")


def _meta(item, label):
    for field in item.iter(f"{QTI}qtimetadatafield"):
        if field.findtext(f"{QTI}fieldlabel") == label:
            return field.findtext(f"{QTI}fieldentry")


def test_every_qti_item_sits_in_its_pool(package):
    """Structure only: what each item grades, and how, is the item audit's (test_item_audit.py)."""
    zf, manifest = package
    from generator.targets._xml import ident
    problems = {ident(p["id"]): p for p in manifest["problems"]}
    folder = [n for n in zf.namelist() if n.count("/") == 1 and "meta" not in n][0]
    root = etree.fromstring(zf.read(folder))
    seen = 0
    for section in root.iter(f"{QTI}section"):
        if section.get("ident") == "root_section":
            continue
        assert section.findtext(f".//{QTI}selection_number") == "1"
        per_item = float(section.findtext(f".//{QTI}points_per_item"))
        groups, types = set(), set()
        for item in section.findall(f"{QTI}item"):
            p = problems[item.get("ident")]
            groups.add(f"{p['lesson']}/{p['exercise']}/{p['problem']}")
            types.add(_meta(item, "question_type"))
            assert float(_meta(item, "points_possible")) == per_item
            assert item.find(f".//{QTI}decvar").get("maxvalue") == "100"
            assert item.find(f".//{QTI}itemfeedback[@ident='general_fb']") is not None
            seen += 1
        assert len(groups) == 1 and len(types) == 1
    # Every random variant is an item; a lesson's own instance only where its problem has none.
    assert seen == len(quiz_problems(manifest["problems"])) > 300


def test_canvas_math_image_mode(tmp_path):
    from generator.pipeline import build
    from .conftest import LESSONS, small_options
    files = build([LESSONS], tmp_path / "o", small_options(variants=1, targets=("qti",), canvas_math="image"))
    zf = zipfile.ZipFile(io.BytesIO(files["lesson-1.2.32/canvas-qti.zip"]))
    body = b"".join(zf.read(n) for n in zf.namelist())
    assert b"equation_image" in body and b"\\(" not in body


MOODLE_FRACTIONS = {"100", "90", "83.33333", "80", "75", "70", "66.66667", "60", "50", "40", "33.33333", "30",
                    "25", "20", "16.66667", "14.28571", "12.5", "11.11111", "10", "5", "0"}


def test_moodle_xml_follows_the_importers_rules(lms30):
    out, _, manifest = lms30
    raw = (out / "lesson-1.2.32" / "moodle.xml").read_bytes()
    assert raw.startswith(b"<?xml") and b"encoding='UTF-8'" in raw[:60]
    root = etree.fromstring(raw)
    from generator.targets._xml import ident
    problems = {ident(p["id"], prefix="gen-"): p for p in manifest["problems"]}
    category, idnumbers, seen = None, set(), 0
    for q in root.findall("question"):
        qtype = q.get("type")
        if qtype == "category":
            category = q.findtext("category/text")
            assert category.startswith("$course$/top/")
            continue
        assert q.findtext("name/text").strip()
        assert q.find("questiontext").get("format") == "html"
        assert q.find("generalfeedback/text") is not None and q.findtext("defaultgrade")
        idn = q.findtext("idnumber")
        assert idn and idn not in idnumbers and len(idn) <= 100
        idnumbers.add(idn)
        fractions = [a.get("fraction") for a in q.findall("answer")]
        assert set(fractions) <= MOODLE_FRACTIONS
        if idn in problems:
            p = problems[idn]
            seen += 1
            assert category.endswith(f"{p['exercise']}{p['problem']} {p['family']}")
            for a in q.findall("answer"):
                text = a.findtext("text") or ""
                if qtype == "numerical":
                    assert "," not in text and "/" not in text and float(text) == float(text)
            if qtype == "multichoice":
                assert q.findtext("single") == "true" and fractions.count("100") == 1
                assert all(a.findtext("feedback/text") for a in q.findall("answer"))
            assert qtype in ("numerical", "multichoice", "truefalse", "cloze"), qtype
        elif qtype == "essay":
            assert q.findtext("graderinfo/text").startswith("<p>Model answer:")
    assert seen == len(quiz_problems(manifest["problems"]))


@pytest.mark.ims_schemas
def test_lms_figures_are_embedded_when_asked(tmp_path):
    from generator.pipeline import build
    from .conftest import LESSONS, small_options
    files = build([LESSONS], tmp_path / "o", small_options(variants=1, targets=("qti", "moodle"), lms_figures=True))
    root = etree.fromstring(files["lesson-1.2.32/moodle.xml"])
    embedded = root.findall(".//generalfeedback/file")
    assert embedded and all(f.get("encoding") == "base64" for f in embedded)
    for f in embedded:
        assert f"@@PLUGINFILE@@/{f.get('name')}" in f.getparent().findtext("text")
    zf = zipfile.ZipFile(io.BytesIO(files["lesson-1.2.32/canvas-qti.zip"]))
    images = [n for n in zf.namelist() if n.startswith("web_resources/") and n.endswith(".png")]
    assert images
    body = b"".join(zf.read(n) for n in zf.namelist() if n.endswith(".xml"))
    for name in images:
        assert name.encode() in body                                   # listed in the manifest
        # The underscore form: Canvas's QTI importer resolves $IMS_CC_FILEBASE$, not $IMS-CC-FILEBASE$.
        assert ("$IMS_CC_FILEBASE$/" + name.split("web_resources/")[1]).encode() in body
    validate_against_ims("cp11/imscp_v1p1.xsd", zf.read("imsmanifest.xml"))          # last: it may skip
