"""docs/notes_map.md answers every heading of docs/notes_index.md; all it names exists."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ROW = re.compile(r"^\| (\d+) \| (.+?) \|", re.MULTILINE)
LINK = re.compile(r"\]\(([\w.]+\.md)(?:#([^)]+))?\)")
TEST = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
API = re.compile(r"`(cnnlab(?:\.\w+)+)")
MODEL = re.compile(r'"(\w+)"')
STATUSES = ("answered", "partly", "not yet")


def index_rows() -> dict[int, str]:
    return {int(n): h for n, h in ROW.findall((DOCS / "notes_index.md").read_text())}


def map_rows() -> dict[int, list[str]]:
    rows = {}
    for line in (DOCS / "notes_map.md").read_text().splitlines():
        if ROW.match(line):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            rows[int(cells[0])] = cells
    return rows


def test_index_is_the_118_headings_of_the_notes() -> None:
    assert sorted(index_rows()) == list(range(1, 119))


def test_every_heading_of_the_index_is_in_the_map_once_and_verbatim() -> None:
    index, rows = index_rows(), map_rows()
    assert sorted(rows) == sorted(index)
    assert {n: cells[1] for n, cells in rows.items()} == index


def test_every_row_has_a_status_and_the_counts_are_true() -> None:
    rows = map_rows()
    counts = Counter(next(s for s in STATUSES if c[5].startswith(s)) for c in rows.values())
    for cells in rows.values():
        if not cells[5].startswith("answered"):
            assert ":" in cells[5], f"row {cells[0]}: a partial answer says why"
    text = (DOCS / "notes_map.md").read_text()
    answered, partly, not_yet = (counts[s] for s in STATUSES)
    line = f"**{answered} answered, {partly} partly, {not_yet} not yet**"
    assert line in text


def test_every_chapter_and_anchor_linked_exists(page_anchors: Callable[[Path], set[str]]) -> None:
    missing = []
    for cells in map_rows().values():
        for page, anchor in LINK.findall(cells[2]):
            path = DOCS / page
            if not path.is_file():
                missing.append(f"row {cells[0]}: {page}")
            elif anchor and anchor not in page_anchors(path):
                missing.append(f"row {cells[0]}: {page}#{anchor}")
    assert missing == []


def test_every_test_named_exists() -> None:
    missing = []
    for cells in map_rows().values():
        for path, name in TEST.findall(cells[4]):
            file = ROOT / path
            if not file.is_file() or not re.search(rf"^\s*def {name}\(", file.read_text(), re.M):
                missing.append(f"row {cells[0]}: {path}::{name}")
    assert missing == []


def test_every_api_named_exists(resolve_dotted: Callable[[str], object]) -> None:
    from cnnlab import list_models

    models = set(list_models())
    missing = []
    for cells in map_rows().values():
        for dotted in API.findall(cells[3]):
            try:
                resolve_dotted(dotted)
            except (AttributeError, ModuleNotFoundError):
                missing.append(f"row {cells[0]}: {dotted}")
        if "create_model" in cells[3]:
            unknown = [m for m in MODEL.findall(cells[3]) if m not in models]
            missing += [f"row {cells[0]}: model {m}" for m in unknown]
    assert missing == []
