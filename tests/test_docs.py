"""The book's code runs, once, and the site builds.

Every ```python block of an English chapter (docs/X.md) runs, in order, one namespace per chapter,
in a temp folder. A block may include code written once in docs/snippets/ (a line
``--8<-- "X/name.py"``, pymdownx.snippets); the Chinese chapter (docs/X.zh.md) includes the same
snippets, in the same order, and holds no code of its own, so running the English chapter runs the
Chinese one's code too: a test checks that the two include the same snippets.
"""

from __future__ import annotations

import importlib.util
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SNIPPETS = DOCS / "snippets"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
INCLUDE = re.compile(r'^--8<--\s+"([^"]+)"\s*$', re.MULTILINE)
CHAPTERS = sorted(p for p in DOCS.glob("*.md") if not p.name.endswith(".zh.md"))
TRANSLATIONS = sorted(DOCS.glob("*.zh.md"))


def expand(block: str) -> str:
    """The block's code with each snippet include replaced by the snippet file's text."""

    def read(match: re.Match[str]) -> str:
        path = SNIPPETS / match.group(1)
        assert path.is_file(), f"snippet {match.group(1)} not found under {SNIPPETS}"
        return path.read_text()

    return INCLUDE.sub(read, block)


def includes(chapter: Path) -> list[str]:
    return [name for block in BLOCK.findall(chapter.read_text()) for name in INCLUDE.findall(block)]


def test_docs_have_examples() -> None:
    assert sum(len(BLOCK.findall(p.read_text())) for p in CHAPTERS) > 0


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_examples_run(
    chapter: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{chapter.stem}"}
    for i, block in enumerate(BLOCK.findall(chapter.read_text())):
        code = compile(expand(block), f"{chapter.name}[block {i}]", "exec")
        exec(code, namespace)


@pytest.mark.parametrize("translation", TRANSLATIONS, ids=[p.stem for p in TRANSLATIONS])
def test_translation_runs_the_same_code(translation: Path) -> None:
    english = DOCS / translation.name.replace(".zh.md", ".md")
    assert english.is_file(), f"{translation.name} has no English chapter {english.name}"
    for i, block in enumerate(BLOCK.findall(translation.read_text())):
        own = INCLUDE.sub("", block).strip()
        assert not own, f"{translation.name} block {i} has code of its own: {own[:80]!r}"
    assert includes(translation) == includes(english)


def heading_ids(chapter: Path) -> list[str]:
    """The anchors of the chapter's headings: an explicit ``{ #id }`` or the site's slug."""
    slugify = pytest.importorskip("pymdownx.slugs").slugify(case="lower")
    text = re.sub(r"^```.*?^```", "", chapter.read_text(), flags=re.MULTILINE | re.DOTALL)
    ids = []
    for heading in re.findall(r"^#{2,6} (.+?)\s*$", text, re.MULTILINE):
        explicit = re.search(r"\{ ?#([^}\s]+) ?\}$", heading)
        ids.append(explicit.group(1) if explicit else slugify(heading, "-"))
    return ids


@pytest.mark.parametrize("translation", TRANSLATIONS, ids=[p.stem for p in TRANSLATIONS])
def test_translation_keeps_the_english_anchors(translation: Path) -> None:
    """A link to chapter.md#anchor lands on the same section in either language."""
    english = DOCS / translation.name.replace(".zh.md", ".md")
    assert set(heading_ids(english)) <= set(heading_ids(translation))


def test_snippets_are_all_included() -> None:
    """Every snippet runs: a chapter includes it, or it is a figure script (the quick run)."""
    used = {name for chapter in CHAPTERS for name in includes(chapter)}
    on_disk = {p.relative_to(SNIPPETS).as_posix() for p in SNIPPETS.rglob("*.py")}
    figures = {p.relative_to(SNIPPETS).as_posix() for p in FIGURE_SCRIPTS}
    assert on_disk - used - figures == set(), "snippets no chapter includes"


FIGURE_SCRIPTS = sorted(SNIPPETS.glob("*/figure_*.py"))


def test_quick_figure_run_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make figures QUICK=1`: every figure script runs, small, in a temp folder, and draws a PNG.

    Run from ``tmp_path`` (the scripts write ``img/NAME.png`` relative to where they run), so the
    committed images under docs/img/ are untouched; ``QUICK=1`` makes slow scripts skip their
    heavy part (the training curves train one epoch and keep the figure in a temp folder). One
    process for all (the Makefile starts one per script): torch is imported once.
    """
    assert FIGURE_SCRIPTS, "no figure scripts found"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUICK", "1")
    committed = {p.name: p.stat().st_mtime_ns for p in (DOCS / "img").glob("*.png")}
    for script in FIGURE_SCRIPTS:
        try:
            runpy.run_path(str(script), run_name="__main__")
        except Exception as error:  # name the script that failed
            raise AssertionError(f"{script.relative_to(DOCS)} failed: {error!r}") from error
    drawn = list((tmp_path / "img").glob("*.png"))
    assert drawn and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in drawn)
    # every image drawn in the quick run is one a page shows, and the committed ones are untouched
    assert {p.name for p in drawn} <= set(committed)
    assert {p.name: p.stat().st_mtime_ns for p in (DOCS / "img").glob("*.png")} == committed


SITE_MODULES = ("mkdocs", "material", "mkdocs_static_i18n", "mkdocstrings_handlers.python")


def _missing_site_modules() -> list[str]:
    missing = []
    for name in SITE_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(name)
    return missing


@pytest.mark.slow
@pytest.mark.skipif(
    bool(_missing_site_modules()),
    reason=f"the site needs the docs extra (pip install -e '.[docs]'); missing: "
    f"{', '.join(_missing_site_modules())}",
)
def test_site_builds_strict_and_offline(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    pages = list(site.rglob("*.html"))
    assert (site / "index.html").is_file() and (site / "zh" / "index.html").is_file()
    remote = re.compile(r'<(?:script|link|img)[^>]+(?:src|href)="(?:https?:)?//', re.IGNORECASE)
    loading_remote = [p.relative_to(site).as_posix() for p in pages if remote.search(p.read_text())]
    assert loading_remote == [], "pages load assets from another host"
    # every image a page shows is in the site
    image = re.compile(r'<img[^>]+src="([^"#?]+)"')
    broken = [
        f"{p.relative_to(site)}: {src}"
        for p in pages
        for src in image.findall(p.read_text())
        if not src.startswith("data:") and not (p.parent / src).resolve().is_file()
    ]
    assert broken == []
