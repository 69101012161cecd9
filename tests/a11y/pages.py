"""The pages axe-run.js checks: every Anki card side as Anki renders it, and the HTML worksheets.

Cards are rendered the way docs/render_card.py does it: the built .apkg is imported into a scratch
collection by Anki's own backend (the `anki` package), and `card.question()` / `card.answer()` give
the HTML Anki shows, the note type's CSS included. Each side becomes a page shaped like Anki's
reviewer (`<body class="card cardN"><div id="qa">…</div>`) that loads MathJax 3 with the `\\( \\)`
and `\\[ \\]` delimiters Anki uses. The night modes are the body classes the apps set:

- Anki desktop and today's AnkiDroid: `nightMode night_mode` (aqt.theme.body_class,
  AnkiDroid's bodyClassForCardOrd);
- older AnkiDroid releases: `night_mode` alone;

each on a dark page, since a card whose CSS did not set a background would show the app's.
"""
from __future__ import annotations

import html as htmllib
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "axe-run.js"
NODE_MODULES = HERE / "node_modules"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
DARK_CANVAS = "#2c2c2c"
BLOCKING = ("serious", "critical")

MATHJAX = r"""<script>
window.MathJax = {tex: {inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]],
                        processEscapes: false, processEnvironments: false}};
</script>
<script src="/mathjax/es5/tex-chtml-full.js"></script>"""


@dataclass
class Mode:
    name: str
    bodyClass: str | None       # None: leave the page's own classes alone (the worksheets)
    canvas: str | None = None   # the page colour behind the card


@dataclass
class Page:
    id: str
    path: str
    mathjax: bool
    modes: list[Mode]
    screenshot: bool = False


@dataclass
class PageSet:
    root: str
    pages: list[Page] = field(default_factory=list)
    tags: list[str] = field(default_factory=lambda: list(TAGS))

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1, sort_keys=True), "utf-8")


def card_modes(ord_: int) -> list[Mode]:
    base = f"card card{ord_ + 1}"
    return [Mode("day", base),
            Mode("night", f"{base} nightMode night_mode", DARK_CANVAS),
            Mode("night-legacy", f"{base} night_mode", DARK_CANVAS)]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def card_page(html: str, title: str, ord_: int) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>\n'
            f'{MATHJAX}\n</head>\n<body class="card card{ord_ + 1}"><div id="qa">{html}</div></body></html>\n')


def add_cards(pages: PageSet, apkg: Path, root: Path) -> None:
    from anki.collection import Collection, ImportAnkiPackageRequest
    from anki.import_export_pb2 import ImportAnkiPackageOptions
    from anki.lang import set_lang
    set_lang("en_US")
    folder = root / "cards"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gen-a11y-anki-") as tmp:
        col = Collection(str(Path(tmp) / "scratch.anki2"))
        try:
            col.import_anki_package(ImportAnkiPackageRequest(package_path=str(apkg),
                                                             options=ImportAnkiPackageOptions()))
            cards = []
            for cid in col.find_cards(""):
                card = col.get_card(cid)
                note = card.note()
                source = _text(note["Source"]) if "Source" in note else ""
                cards.append((card.note_type()["name"], source, card.ord, card))
            cards.sort(key=lambda c: c[:3])
            shot_kinds: set[str] = set()
            for i, (kind, source, ord_, card) in enumerate(cards):
                note = card.note()
                # Screenshots: one card of each note type, and one with a plot.
                figure = "Figure" in note and bool(note["Figure"])
                shot = kind not in shot_kinds or (figure and "figure" not in shot_kinds)
                shot_kinds.add(kind)
                if figure and shot:
                    shot_kinds.add("figure")
                for side, html in (("question", card.question()), ("answer", card.answer())):
                    name = f"cards/{i:03d}-{side}.html"
                    title = f"{kind}: {source or f'card {i}'} ({side})"
                    (root / name).write_text(card_page(html, htmllib.escape(title), ord_), "utf-8")
                    pages.pages.append(Page(f"#{i:03d} {kind} · {source} · card {ord_ + 1} {side}", name, True,
                                            card_modes(ord_), shot))
            media = Path(col.media.dir())
            for item in sorted(media.iterdir()):
                shutil.copy(item, folder / item.name)
        finally:
            col.close()


def add_worksheets(pages: PageSet, lesson_dir: Path, root: Path) -> None:
    folder = root / "worksheets"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("worksheet.html", "answer-key.html"):
        shutil.copy(lesson_dir / name, folder / name)
        pages.pages.append(Page(name, f"worksheets/{name}", False, [Mode("day", None)], True))


def prepare(lesson_dir: Path, root: Path) -> PageSet:
    """Pages for the deck and both HTML worksheets of one built lesson folder."""
    pages = PageSet(str(root))
    add_worksheets(pages, lesson_dir, root)
    [apkg] = sorted(lesson_dir.glob("*.apkg"))
    add_cards(pages, apkg, root)
    return pages


def run_axe(pages: PageSet, work: Path, screenshots: Path | None = None, timeout: int = 1200) -> dict:
    """Run axe-run.js once over every page (one browser) and return its report."""
    spec, results = work / "pages.json", work / "results.json"
    pages.write(spec)
    cmd = ["node", str(SCRIPT), str(spec), str(results)]
    if screenshots is not None:
        cmd += ["--screenshots", str(screenshots)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"axe-run.js exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    return json.loads(results.read_text("utf-8"))


def blocking(report: dict) -> list[tuple[str, str, dict]]:
    return [(r["id"], r["mode"], v) for r in report["results"] for v in r["violations"]
            if v["impact"] in BLOCKING]


def summary(report: dict) -> str:
    """Counts by impact, then one line per rule with the pages it fails on."""
    counts: dict[str, int] = {}
    by_rule: dict[tuple[str, str], list[str]] = {}
    for r in report["results"]:
        for v in r["violations"]:
            counts[v["impact"]] = counts.get(v["impact"], 0) + len(v["nodes"])
            by_rule.setdefault((v["impact"], v["id"]), []).append(f"{r['id']} [{r['mode']}]")
    order = ["critical", "serious", "moderate", "minor"]
    lines = [f"axe-core {report['axe']} in {report['browser']}, tags {', '.join(report['tags'])}: "
             f"{len(report['results'])} page checks",
             "violations (nodes) by impact: " + ", ".join(f"{k} {counts.get(k, 0)}" for k in order)]
    for (impact, rule), where in sorted(by_rule.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])):
        lines.append(f"  {impact:9} {rule}: {len(where)} page checks, e.g. {where[0]}")
    return "\n".join(lines)
