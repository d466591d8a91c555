"""Every table in the docs renders as a table: a run of `|` lines that a paragraph splits (or that lost its
`|---|` row) renders as a paragraph of pipes on GitHub."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from tests.docs.test_links import _PARSER, PAGES, ROOT


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_table_row_renders_as_a_paragraph(page: Path) -> None:
    tokens = _PARSER.parse(page.read_text(encoding="utf-8"))
    stray = [
        f"{page.relative_to(ROOT)}:{opening.map[0] + 1 if opening.map else '?'}"
        for opening, inline in pairwise(tokens)
        if opening.type == "paragraph_open"
        and any(line.lstrip().startswith("|") for line in inline.content.splitlines())
    ]
    assert not stray, f"table rows outside a table (a paragraph between rows, or no |---| row): {stray}"
