"""Outputs assembled in pieces (for memory and speed) have the bytes of the one-piece encoders."""
from __future__ import annotations

import io
import json
import random
import zipfile
from fractions import Fraction

from lxml import etree

from generator.families._common import BaseParams, bounds_violation
from generator.families.descent import _bound_broken
from generator.targets._xml import Streamed, ident, numbered_idents, sub, tostring
from generator.targets._zip import zip_bytes

# Text that pretty printing must not touch: newlines inside CDATA and text, an empty element,
# markup-like text, a comment that looks like a placeholder of another document.
TEXTS = ["plain", "two\nlines", "  leading and trailing  ", "", "<!--gen-streamed-0000000000000000-0-->",
         "<b>markup</b> & ampersand", "line one\n<!--gen-streamed-x-1-->\nline three"]


def _item(parent, rng, depth=0):
    item = sub(parent, "item", ident=f"i{rng.randrange(10**6)}", title="v1")
    for _ in range(rng.randint(0, 3)):
        kind = rng.choice(["text", "cdata", "empty", "nested"])
        if kind == "text":
            sub(item, "mattext", rng.choice(TEXTS), texttype="text/plain")
        elif kind == "cdata":
            node = sub(item, "text")
            node.text = etree.CDATA(rng.choice(TEXTS).replace("]]>", ""))
        elif kind == "empty":
            sub(item, "other")
        elif depth < 3:
            _item(item, rng, depth + 1)
    return item


def _document(rng, streamed: Streamed | None):
    root = etree.Element("{urn:example}quiz", nsmap={None: "urn:example"})
    top = sub(root, "assessment", ident="a")
    for s in range(rng.randint(1, 3)):
        section = sub(top, "section", ident=f"s{s}")
        sub(section, "selection", "1")
        for _ in range(rng.randint(0, 4)):
            seed = rng.randrange(10**9)
            if streamed is None:
                _item(section, random.Random(seed))
            else:
                streamed.later(section, lambda holder, seed=seed: _item(holder, random.Random(seed)))
        sub(section, "after", rng.choice(TEXTS))
    return root


def test_subtrees_built_by_forked_processes_give_the_same_bytes(monkeypatch):
    """A large document's subtrees are built in a pool (targets._xml.Streamed._texts), in batches
    that run ahead of the reader: the same bytes, in order."""
    from generator import workers
    from generator.targets import _xml
    monkeypatch.setattr(_xml, "PARALLEL_FROM", 10)
    monkeypatch.setattr(_xml, "BATCH", 3)
    pools = []
    pool = workers.worker_pool

    def counted(jobs):
        pools.append(jobs)
        return pool(jobs)
    monkeypatch.setattr(workers, "worker_pool", counted)
    for case in range(6):
        whole = tostring(_many(random.Random(1000 + case), None))
        stream = Streamed()
        root = _many(random.Random(1000 + case), stream)
        assert b"".join(stream.chunks(root, jobs=2)) == whole, case
        assert not _xml._STREAMING
    assert pools == [2] * 6
    small = Streamed()
    root = _many(random.Random(7), small)
    monkeypatch.setattr(_xml, "PARALLEL_FROM", 1000)
    assert small.tostring(root) == tostring(_many(random.Random(7), None)) and pools == [2] * 6


def _many(rng, streamed):
    root = etree.Element("quiz")
    section = sub(root, "section")
    for _ in range(25 + rng.randrange(10)):
        seed = rng.randrange(10**9)
        if streamed is None:
            _item(section, random.Random(seed))
        else:
            streamed.later(section, lambda holder, seed=seed: _item(holder, random.Random(seed)))
    return root


def test_a_streamed_document_has_the_bytes_of_the_whole_tree():
    for case in range(200):
        whole = tostring(_document(random.Random(case), None))
        stream = Streamed()
        root = _document(random.Random(case), stream)
        assert stream.tostring(root) == whole, case


def test_the_streamed_chunks_join_to_the_document():
    for case in range(50):
        stream = Streamed()
        chunks = list(stream.chunks(_document(random.Random(case), stream)))
        if len(chunks) > 7:                     # a document with at least three streamed items
            break
    assert len(chunks) > 7 and b"".join(chunks) == tostring(_document(random.Random(case), None))


def test_a_zip_member_written_in_chunks_equals_one_written_whole():
    rng = random.Random(3)
    data = b"".join(rng.choice(TEXTS).encode() * rng.randint(1, 500) for _ in range(2000))
    pieces = [data[i:i + 7919] for i in range(0, len(data), 7919)]
    whole = zip_bytes([("a.txt", b"first"), ("b.xml", data)], 1_700_000_000)
    assert zip_bytes([("a.txt", b"first"), ("b.xml", iter(pieces))], 1_700_000_000) == whole
    with zipfile.ZipFile(io.BytesIO(whole)) as zf:
        assert zf.read("b.xml") == data


def test_the_manifest_is_json_dumps_of_the_whole_document(small_build):
    out, _, manifest = small_build
    raw = (out / "manifest.json").read_bytes()
    assert raw == (json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    assert len(manifest["problems"]) > 10


def test_the_manifest_of_a_lesson_without_problems_lists_none():
    from generator.manifest import build_manifest
    from generator.pipeline import Options
    doc = json.loads(build_manifest(Options(), [], [], {}))
    assert doc["problems"] == [] and doc["summary"] == {"problems": 0, "checks": 0, "checks_passed": 0}


def test_descents_early_bound_check_says_what_bounds_violation_says():
    import sympy as sp
    rng = random.Random(11)
    params = BaseParams(max_numerator=50, max_denominator=12)
    for _ in range(3000):
        v = Fraction(rng.randint(-80, 80), rng.randint(1, 20))
        exact = sp.Rational(v.numerator, v.denominator)
        assert _bound_broken([v], params) == bounds_violation([exact], params), v


def test_numbered_identifiers_are_the_identifiers_one_by_one():
    """A Canvas item numbers its answers with numbered_idents, which hashes their common part once."""
    for parts, prefix in ((("lesson/ex1/p1#3", "blank"), "a"), (("q", "choice"), "a"), (("",), "g"), ((7,), "s"), ((), "g")):
        assert numbered_idents(40, *parts, prefix=prefix) == [ident(*parts, j, prefix=prefix) for j in range(40)]
    assert numbered_idents(0, "x") == []
