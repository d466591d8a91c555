"""Every ```yaml block in the README, docs/ and the examples' READMEs parses: a reader copies them into a
workflow or a manifest, and a snippet that is not YAML fails there, far from the page that showed it."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "examples").rglob("README.md")],
    key=lambda p: p.relative_to(ROOT).as_posix(),
)


def _yaml_blocks(page: Path) -> list[tuple[int, str]]:
    """Each yaml fence of the page with the line its text starts on (1-based)."""
    tokens = MarkdownIt("commonmark").parse(page.read_text(encoding="utf-8"))
    return [
        (token.map[0] + 2, token.content)
        for token in tokens
        if token.type == "fence" and token.info.split()[:1] == ["yaml"] and token.map is not None
    ]


def test_the_pages_have_yaml_blocks() -> None:
    # Guards the finder itself: a change of fence syntax must not leave the check below with nothing to read.
    assert sum(len(_yaml_blocks(page)) for page in PAGES) >= 20


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_yaml_block_parses(page: Path) -> None:
    problems = []
    for line, block in _yaml_blocks(page):
        try:
            YAML(typ="safe").load(block)
        except YAMLError as error:
            problems.append(f"{page.relative_to(ROOT)}:{line}: {error}")
    assert problems == []
