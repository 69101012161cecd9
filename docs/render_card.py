"""Render one Anki card as Anki shows it, for the README screenshot.

Imports the built deck into a scratch collection with Anki's own backend, takes a card's answer
side (Anki's rendering, CSS included), and writes an HTML page that typesets the math with a local
MathJax 3 (npm package `mathjax`), like Anki's own MathJax does. Screenshot it with headless
Chromium, e.g.:

    npm install --prefix /tmp/mj mathjax@3
    python3 docs/render_card.py build/lesson-1.2.32/lesson-1.2.32.apkg /tmp/card /tmp/mj/node_modules/mathjax
    chromium --headless --no-sandbox --disable-gpu --window-size=760,1100 --virtual-time-budget=8000 \\
        --screenshot=docs/anki-card.png /tmp/card/card.html
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path


def main(apkg: str, out_dir: str, mathjax_dir: str, family: str = "directional_derivative") -> None:
    from anki.collection import Collection, ImportAnkiPackageRequest
    from anki.import_export_pb2 import ImportAnkiPackageOptions
    from anki.lang import set_lang
    set_lang("en_US")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(str(Path(tmp) / "c.anki2"))
        col.import_anki_package(ImportAnkiPackageRequest(package_path=apkg, options=ImportAnkiPackageOptions()))
        [cid] = col.find_cards(f'"tag:family::{family}" "tag:variant" "Source:*variant 1,*"')[:1]
        card = col.get_card(cid)
        answer = card.answer()
        media = Path(col.media.dir())
        for image in media.iterdir():
            shutil.copy(image, out / image.name)
        col.close()
    shutil.copytree(mathjax_dir, out / "mathjax", dirs_exist_ok=True)
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<script>window.MathJax = {{tex: {{inlineMath: [['\\\\(', '\\\\)']], displayMath: [['\\\\[', '\\\\]']]}}}};</script>
<script src="mathjax/es5/tex-svg.js"></script></head>
<body class="card" style="padding: 16px">{answer}</body></html>"""
    (out / "card.html").write_text(page, "utf-8")
    print(out / "card.html")


if __name__ == "__main__":
    main(*sys.argv[1:])
