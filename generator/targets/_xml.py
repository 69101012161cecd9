"""Small lxml helpers shared by the XML targets."""
from __future__ import annotations

import hashlib

from lxml import etree


def sub(parent, tag, text=None, **attrs):
    node = etree.SubElement(parent, tag, {k.rstrip("_"): str(v) for k, v in attrs.items()})
    if text is not None:
        node.text = str(text)
    return node


def ident(*parts, prefix="g") -> str:
    """A stable identifier from what identifies the thing (never from its content)."""
    return prefix + hashlib.sha256("|".join(map(str, parts)).encode("utf-8")).hexdigest()[:24]


def tostring(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def points(value: float) -> str:
    return f"{float(value):.1f}"
