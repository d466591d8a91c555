"""Every relative link between the docs, the README and the examples resolves: the file exists, and an
`#anchor` names a heading of the target as GitHub makes anchors. So does the link in exported files' headers.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from reconciler.export import MANIFEST_DOCS_URL, PRUNING_DOCS_URL

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "examples").rglob("*.md")],
    key=lambda p: p.relative_to(ROOT).as_posix(),
)
_PARSER = MarkdownIt("commonmark").enable("table")


def _plain(inline: Token) -> str:
    return "".join(child.content for child in inline.children or () if child.type in ("text", "code_inline"))


def github_anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation other than `-` and `_` dropped, spaces to `-`,
    and `-1`, `-2`, ... after a repeated one."""
    tokens = _PARSER.parse(markdown)
    anchors: set[str] = set()
    seen: Counter[str] = Counter()
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        slug = re.sub(r"[^\w\- ]", "", _plain(tokens[index + 1]).strip().lower()).replace(" ", "-")
        anchors.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
        seen[slug] += 1
    return anchors


def _links(page: Path) -> list[str]:
    tokens = _PARSER.parse(page.read_text(encoding="utf-8"))
    found = []
    for token in tokens:
        for child in token.children or ():
            if child.type == "link_open":
                found.append(str(child.attrs["href"]))
            elif child.type == "image":
                found.append(str(child.attrs["src"]))
    return found


def _problem(page: Path, link: str) -> str | None:
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        return None
    target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
    if not target.exists():
        return f"{link}: no such file"
    if not parts.fragment or target.suffix != ".md":
        return None
    if parts.fragment not in github_anchors(target.read_text(encoding="utf-8")):
        return f"{link}: no heading with the anchor #{parts.fragment} in {target.relative_to(ROOT)}"
    return None


def test_the_pages_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    assert {"README.md", "docs/manifest.md", "docs/cli.md", "docs/troubleshooting.md"} <= names
    assert "examples/gitops/README.md" in names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page: Path) -> None:
    problems = [problem for link in _links(page) if (problem := _problem(page, link))]
    assert not problems, problems


def test_anchors_follow_githubs_rules() -> None:
    text = "# A title\n## `settings.exposure` and more!\n## manifest.control_character\n## A title\n"
    assert github_anchors(text) == {
        "a-title",
        "settingsexposure-and-more",
        "manifestcontrol_character",
        "a-title-1",
    }


def test_the_readme_points_at_the_docs_the_action_and_the_gitops_example() -> None:
    links = set(_links(ROOT / "README.md"))
    assert {
        f"docs/{name}.md"
        for name in ("manifest", "cli", "github-action", "authentication", "troubleshooting")
    } <= links
    assert "examples/gitops/README.md" in links
    assert any(link.startswith("examples/workflows/") for link in links)


def test_the_export_header_links_the_manifest_reference() -> None:
    page, _, anchor = PRUNING_DOCS_URL.partition("#")
    assert page == MANIFEST_DOCS_URL and MANIFEST_DOCS_URL.endswith("/docs/manifest.md")
    assert anchor in github_anchors((ROOT / "docs" / "manifest.md").read_text(encoding="utf-8"))


def test_no_page_points_at_the_contract_files_outside_the_repository() -> None:
    for page in PAGES:
        assert "MANIFEST.md" not in page.read_text(encoding="utf-8"), page
