"""Every ```python block in docs/*.md runs, in order, one namespace per file, in a temp folder."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
CHAPTERS = sorted(DOCS.glob("*.md"))


def test_docs_have_examples() -> None:
    assert sum(len(BLOCK.findall(p.read_text())) for p in CHAPTERS) > 0


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_examples_run(
    chapter: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{chapter.stem}"}
    for i, block in enumerate(BLOCK.findall(chapter.read_text())):
        code = compile(block, f"{chapter.name}[block {i}]", "exec")
        exec(code, namespace)
