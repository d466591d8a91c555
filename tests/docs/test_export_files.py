"""The docs name the files `export` writes: every one of them, and as many as there are."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.registry import KINDS

ROOT = Path(__file__).resolve().parents[2]
GITOPS = ROOT / "examples" / "gitops"
EXPORTED = [kind.export_file for kind in KINDS]
NUMBERS = dict(enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]))
# A number of files, written as a word: "the five file names above", "six files".
COUNTED = re.compile(rf"\b({'|'.join(list(NUMBERS.values())[2:])}) (?:files?|file names|manifests)\b", re.I)


def test_the_gitops_layout_lists_every_exported_file() -> None:
    text = (GITOPS / "README.md").read_text(encoding="utf-8")
    layout = text.split("```", 2)[1]
    listed = re.findall(r"^\s+([\w-]+\.yaml)", layout, re.M)
    assert listed == EXPORTED
    assert sorted(p.name for p in (GITOPS / "manifests").glob("*.yaml")) == sorted(EXPORTED)


@pytest.mark.parametrize("page", ["examples/gitops/README.md", "docs/cli.md"])
def test_a_page_that_counts_the_exported_files_counts_them_right(page: str) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    counts = [match.lower() for match in COUNTED.findall(text)]
    assert counts, f"{page} no longer says how many files export writes: keep this test in step"
    assert set(counts) == {NUMBERS[len(EXPORTED)]}


def test_the_command_line_reference_names_every_exported_file() -> None:
    export = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8").split("\n## export\n", 1)[1]
    export = export.split("\n## ", 1)[0]
    assert [name for name in EXPORTED if f"`{name}`" not in export] == []
