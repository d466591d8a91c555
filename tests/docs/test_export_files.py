"""The docs name the files `export` writes: every one of them, and as many as there are."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.registry import KINDS

ROOT = Path(__file__).resolve().parents[2]
GITOPS = ROOT / "examples" / "gitops"
EXPORTED = [kind.export_file for kind in KINDS]
NUMBERS = dict(enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]))
# A number of files, written as a word: "the five file names above", "six files".
# The line that differs between two exports of the same site.
DATE_LINE = re.compile(r"^# Exported at: .*$", re.M)
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


def test_the_gitops_example_is_what_its_readme_commands_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's commands, on a fresh sandbox: the committed files are their output, dates aside."""
    monkeypatch.chdir(ROOT)
    env = {"JSM_SITE": "sandbox", "JSM_SANDBOX_STATE": str(tmp_path / "state.json"), "GITHUB_ACTIONS": ""}
    env["JSM_JOURNAL"] = str(tmp_path / "journal.jsonl")
    text = (GITOPS / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^jsm-reconciler (.*)$", text.split("```sh", 2)[1].split("```")[0], re.M)
    out = str(GITOPS.relative_to(ROOT) / "manifests")
    assert commands[-1] == f"export --out {out} --force"
    for command in [*commands[:-1], f"export --out {tmp_path / 'export'}"]:
        result = CliRunner().invoke(cli, command.split(), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output + result.stderr
    for name in EXPORTED:
        fresh = (tmp_path / "export" / name).read_text(encoding="utf-8")
        committed = (GITOPS / "manifests" / name).read_text(encoding="utf-8")
        assert DATE_LINE.sub("", committed) == DATE_LINE.sub("", fresh), (
            f"{name}: run the commands at the top of examples/gitops/README.md"
        )
