"""docs/glossary.md (术语表): at least 100 terms; every API it names and chapter it links exist."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
GLOSSARY = DOCS / "glossary.md"
ROW = re.compile(r"^\| (?!中文 \||---)(.+?) \| (.+?) \| (.+?) \| (.+?) \|$", re.MULTILINE)
API = re.compile(r"`(cnnlab(?:\.\w+)*)`")
MODEL = re.compile(r'`create_model\("(\w+)"\)`')
LINK = re.compile(r"\]\(([\w.]+\.md)(?:#([^)]+))?\)")


def rows() -> list[tuple[str, str, str, str]]:
    return ROW.findall(GLOSSARY.read_text())


def test_at_least_100_terms_each_once() -> None:
    terms = rows()
    assert len(terms) >= 100
    assert f"{len(terms)} terms" in GLOSSARY.read_text()
    chinese = Counter(zh for zh, *_ in terms)
    assert [t for t, n in chinese.items() if n > 1] == []
    # a Chinese term, or the English name Chinese texts use as is (Adam, GELU, col2im)
    assert all(
        re.search(r"[\u4e00-\u9fff]", zh) or en.lower() in zh.lower() for zh, en, *_ in terms
    )


def test_every_api_named_exists(resolve_dotted: Callable[[str], object]) -> None:
    from cnnlab import list_models

    models = set(list_models())
    missing = []
    for zh, _, api, _ in rows():
        names = API.findall(api) + MODEL.findall(api)
        if api != "—":
            assert names, f"{zh}: the API column names nothing checkable: {api}"
        for dotted in API.findall(api):
            try:
                resolve_dotted(dotted)
            except (AttributeError, ModuleNotFoundError):
                missing.append(f"{zh}: {dotted}")
        missing += [f"{zh}: model {m}" for m in MODEL.findall(api) if m not in models]
    assert missing == []


def test_every_chapter_linked_exists(page_anchors: Callable[[Path], set[str]]) -> None:
    missing = []
    for zh, _, _, chapter in rows():
        links = LINK.findall(chapter)
        assert links, f"{zh}: no chapter linked"
        for page, anchor in links:
            path = DOCS / page
            if not path.is_file():
                missing.append(f"{zh}: {page}")
            elif anchor and anchor not in page_anchors(path):
                missing.append(f"{zh}: {page}#{anchor}")
    assert missing == []


def test_search_keeps_the_chinese_terms_whole() -> None:
    """The site's Chinese search segments text with jieba; its user dictionary holds every
    glossary term written in Chinese characters only, so 感受野 is one word, not 感受 + 野."""
    path = DOCS / "hooks" / "jieba_terms.txt"
    entries = [line.split() for line in path.read_text(encoding="utf-8").splitlines()]
    assert all(len(e) == 2 and e[1].isdigit() for e in entries)
    words = {e[0] for e in entries}
    for zh, *_ in rows():
        for part in re.sub(r"（.*?）", "", zh).split(" / "):
            part = part.strip().replace("-", "")
            if re.fullmatch(r"[\u4e00-\u9fff]{2,}", part):
                assert part in words, part
