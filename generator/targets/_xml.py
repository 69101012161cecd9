"""Small lxml helpers shared by the XML targets."""
from __future__ import annotations

import hashlib
import re
import secrets

from lxml import etree


def sub(parent, tag, text=None, **attrs):
    node = etree.SubElement(parent, tag, {k.rstrip("_"): str(v) for k, v in attrs.items()}) if attrs \
        else etree.SubElement(parent, tag)
    if text is not None:
        node.text = str(text)
    return node


def ident(*parts, prefix="g") -> str:
    """A stable identifier from what identifies the thing (never from its content)."""
    return prefix + hashlib.sha256("|".join(map(str, parts)).encode("utf-8")).hexdigest()[:24]


def numbered_idents(count: int, *parts, prefix="g") -> list[str]:
    """[ident(*parts, j, prefix=prefix) for j in range(count)], hashing the common part once (a
    Canvas blanks item numbers 100+ answers this way)."""
    common = hashlib.sha256(("|".join(map(str, parts)) + "|" if parts else "").encode("utf-8"))
    out = []
    for j in range(count):
        h = common.copy()
        h.update(str(j).encode("ascii"))
        out.append(prefix + h.hexdigest()[:24])
    return out


def tostring(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def points(value: float) -> str:
    return f"{float(value):.1f}"


class Streamed:
    """A pretty-printed document whose bulky subtrees are built and serialized one at a time, in
    document order, while its bytes are read.

    A pool of 10,000 Canvas items is ~2 million elements, most of a gigabyte as one lxml tree.
    The document keeps a placeholder comment where each such subtree goes; reading `chunks` builds
    the subtree under a chain of stand-in ancestors as deep as its real place (so libxml2 indents
    it exactly as in the whole document), yields its text and drops it. The bytes equal `tostring`
    of the tree built in one piece.
    """

    def __init__(self):
        self._pending: list = []
        # Unguessable, so no lesson text (Moodle keeps text raw in CDATA) can look like one.
        self._mark = f"gen-streamed-{secrets.token_hex(8)}-"

    def later(self, parent, build) -> None:
        """Place a subtree in `parent`: `build(holder)` adds it under a stand-in when it is read."""
        depth = sum(1 for _ in parent.iterancestors()) + 1
        self._pending.append((depth, build))
        parent.append(etree.Comment(f"{self._mark}{len(self._pending) - 1}"))

    def _text(self, index: int) -> bytes:
        depth, build = self._pending[index]
        self._pending[index] = None
        top = holder = etree.Element("stand-in")
        for _ in range(depth - 1):
            holder = etree.SubElement(holder, "stand-in")
        build(holder)
        text = etree.tostring(top, encoding="UTF-8", pretty_print=True)
        # depth lines open the stand-ins and depth lines close them (the text ends with a newline):
        # cut at those newlines (a split into lines and a join cost ~40 % of the tostring).
        start, end = 0, len(text) - 1
        for _ in range(depth):
            start = text.index(b"\n", start) + 1
            end = text.rindex(b"\n", 0, end)
        return text[start:end + 1]

    def tostring(self, root) -> bytes:
        return b"".join(self.chunks(root))

    def chunks(self, root, jobs: int = 1):
        """The document's bytes in pieces (their concatenation is the document), so a caller that
        compresses them never holds the whole text. With `jobs` > 1 and many subtrees, they are
        built by that many forked processes, a batch at a time, while this one compresses."""
        whole = tostring(root)
        placeholder = re.compile(rb"^[ ]*<!--" + self._mark.encode() + rb"([0-9]+)-->\n", re.M)
        marks = list(placeholder.finditer(whole))
        texts = self._texts([int(m.group(1)) for m in marks], jobs)
        start = 0
        for m, text in zip(marks, texts):
            yield whole[start:m.start()]
            yield text
            start = m.end()
        yield whole[start:]

    def _texts(self, indices: list[int], jobs: int):
        if jobs <= 1 or len(indices) < PARALLEL_FROM:
            yield from map(self._text, indices)
            return
        from collections import deque

        from ..workers import worker_pool
        batches = iter([indices[i:i + BATCH] for i in range(0, len(indices), BATCH)])
        _STREAMING.append(self)           # what the forked builders find (a bound method would be pickled)
        try:
            with worker_pool(jobs) as pool:
                ahead = deque()

                def submit():
                    batch = next(batches, None)
                    if batch is not None:
                        ahead.append(pool.submit(_texts_in_worker, batch))
                for _ in range(AHEAD * jobs):
                    submit()
                while ahead:
                    texts = ahead.popleft().result()
                    submit()                  # the builders keep working while these are compressed
                    yield from texts
        finally:
            _STREAMING.remove(self)


PARALLEL_FROM = 1000      # subtrees; fewer are built here (a pool costs ~50 ms to start)
BATCH, AHEAD = 50, 4      # subtrees per task, tasks in flight per process: memory stays flat
_STREAMING: list[Streamed] = []


def _texts_in_worker(batch: list[int]) -> list[bytes]:
    return [_STREAMING[-1]._text(index) for index in batch]
