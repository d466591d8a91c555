"""docs/github-action.md shows the pull request comment the action posts: each sample between its markers
is what scripts/sample-comment.py renders now. Regenerate with
`.venv/bin/python scripts/sample-comment.py --write` and review the diff."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sample_comment", ROOT / "scripts" / "sample-comment.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _script()


@pytest.mark.parametrize("name", sorted(SCRIPT.SAMPLES))
def test_the_page_shows_the_comment_the_action_posts(name: str) -> None:
    page = (ROOT / "docs" / "github-action.md").read_text(encoding="utf-8")
    comment = SCRIPT.SAMPLES[name]()
    assert SCRIPT.replace_sample(page, name, comment) == page, (
        f"the {name} sample in docs/github-action.md is not what the action posts now: "
        "run .venv/bin/python scripts/sample-comment.py --write and review the diff"
    )


def test_the_pull_request_sample_shows_exposure_and_drift_apart() -> None:
    page = (ROOT / "docs" / "github-action.md").read_text(encoding="utf-8")
    start, end = SCRIPT.markers("pull-request")
    sample = page.split(start, 1)[1].split(end, 1)[0]
    assert "> **Exposure: grants to anyone or applicationRole" in sample
    assert "| This pull request | 1 | 1 | 0 | 0 | 0 |" in sample
    assert "#### Changes from this pull request" in sample and "#### Pre-existing drift" in sample
    assert "\n+ permissionSchemes/Engineering scheme\n+     grants: " in sample


def test_a_sample_replaces_only_what_is_between_its_markers() -> None:
    start, end = SCRIPT.markers("x")
    page = f"before\n{start}\nold\n{end}\nafter\n"
    assert SCRIPT.replace_sample(page, "x", "new\n") == f"before\n{start}\nnew\n{end}\nafter\n"
