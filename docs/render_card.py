"""Render Anki cards as Anki shows them, side by side, for the README screenshot.

Imports the built deck into a scratch collection with Anki's own backend, takes the answer side of
the first card each search finds (Anki's rendering, CSS included), and writes one HTML page with
those backs, the last one in a right-hand column and the others stacked on the left, typeset with
a local MathJax 3 (npm package `mathjax`) as Anki's own MathJax does. Screenshot it with headless Chromium (Debian's `chromium`), e.g.:

    npm ci --prefix tests/a11y          # or: npm install --prefix /tmp/mj mathjax@3
    python3 docs/render_card.py build/lesson-1.2.32/lesson-1.2.32.apkg /tmp/card \\
        tests/a11y/node_modules/mathjax
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1240,900 \\
        --virtual-time-budget=10000 --screenshot=docs/anki-card.png /tmp/card/card.html

Searches are Anki's (the browser's search syntax); the default shows a Concept card (short answer,
the model answer below it), a cloze (the idea in full below it) and a practice problem (answer,
plot, worked solution). Add `--night` to see night mode.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

SEARCHES = ('"note:gen: Concept" "tag:exercise::1.2.32.5"',
            '"note:gen: Cloze" "Text:*perpendicular*"',
            '"tag:family::directional_derivative" tag:variant "Source:*4b*"')


def backs(apkg: str, searches, media_to: Path) -> list[str]:
    from anki.collection import Collection, ImportAnkiPackageRequest
    from anki.import_export_pb2 import ImportAnkiPackageOptions
    from anki.lang import set_lang
    set_lang("en_US")
    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(str(Path(tmp) / "c.anki2"))
        try:
            col.import_anki_package(ImportAnkiPackageRequest(package_path=apkg, options=ImportAnkiPackageOptions()))
            out = []
            for search in searches:
                found = sorted(col.find_cards(search))
                if not found:
                    raise SystemExit(f"no card matches {search!r}")
                out.append(col.get_card(found[0]).answer())
            for image in Path(col.media.dir()).iterdir():
                shutil.copy(image, media_to / image.name)
            return out
        finally:
            col.close()


def main(apkg: str, out_dir: str, mathjax_dir: str, *args: str) -> None:
    night = "--night" in args
    searches = [a for a in args if a != "--night"] or SEARCHES
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    columns = backs(apkg, searches, out)
    shutil.copytree(mathjax_dir, out / "mathjax", dirs_exist_ok=True)
    body = "card nightMode night_mode" if night else "card"
    page_colour = "#2c2c2c" if night else "#fff"
    def card(html: str) -> str:
        return f'<div class="{body}" style="max-width: none; margin: 0 0 28px">{html}</div>'
    left = "".join(map(card, columns[:-1]))
    right = card(columns[-1])
    grid = "grid-template-columns: 1fr 1fr" if left else "grid-template-columns: 1fr"
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Anki cards</title>
<script>window.MathJax = {{tex: {{inlineMath: [['\\\\(', '\\\\)']], displayMath: [['\\\\[', '\\\\]']]}}}};</script>
<script src="mathjax/es5/tex-svg.js"></script></head>
<body style="margin: 0; padding: 16px; background: {page_colour}; display: grid; {grid}; gap: 28px">
{f"<div>{left}</div>" if left else ""}<div>{right}</div></body></html>"""
    (out / "card.html").write_text(page, "utf-8")
    print(out / "card.html")


if __name__ == "__main__":
    main(*sys.argv[1:])
