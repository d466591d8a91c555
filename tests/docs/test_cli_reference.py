"""The options the docs name are the options the tool has, and its help shows every one of them."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from reconciler.cli import cli
from reconciler.cli.sandbox import serve_banner

ROOT = Path(__file__).resolve().parents[2]
# Pages about the tool's own command line; docs/performance.md and docs/reliability.md name the options of
# the benchmark and the table scripts.
PAGES = [ROOT / "docs" / f"{name}.md" for name in ("cli", "troubleshooting", "manifest", "authentication")]
MISTYPED_ON_PURPOSE = {"--taget"}  # the example of a usage mistake


def _options(command: click.Command) -> dict[str, click.Option]:
    found = {
        name: param
        for param in command.params
        if isinstance(param, click.Option)
        for name in (*param.opts, *param.secondary_opts)
        if name.startswith("--")
    }
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            found |= _options(sub)
    return found


def _section(text: str, heading: str) -> str:
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_option_a_page_names_exists(page: Path) -> None:
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", page.read_text(encoding="utf-8")))
    assert named - set(_options(cli)) - {"--help", "--version"} - MISTYPED_ON_PURPOSE == set()


def test_no_option_is_hidden_from_the_help() -> None:
    assert [name for name, option in _options(cli).items() if option.hidden] == []


def test_the_global_options_are_all_in_the_reference() -> None:
    table = _section((ROOT / "docs" / "cli.md").read_text(encoding="utf-8"), "Global options")
    for name in _options(click.Group(params=cli.params)):
        assert f"`{name}`" in table, name


def test_the_reference_shows_what_sandbox_serve_prints() -> None:
    banner = serve_banner("http://127.0.0.1:8080", Path(".jsm-sandbox.json"))
    assert banner in (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
