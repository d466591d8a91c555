"""Golden files of the plan's three renderings: the demo seed planned against examples/manifests.

Regenerate with `UPDATE_GOLDENS=1 pytest tests/e2e/test_golden.py` and review the diff.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.kinds import KINDS
from reconciler.manifest import load_manifests
from reconciler.plan import Plan, build_plan
from reconciler.render.plan import render_json, render_markdown, render_text
from reconciler.sandbox import SANDBOX_API_TOKEN, SANDBOX_EMAIL, SandboxSite, load_seed_file, serve_in_thread
from reconciler.site.config import Credentials
from reconciler.site.http import SiteClient
from reconciler.site.live import holders_to_check, read_live_state

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "demo"


@pytest.fixture(scope="module")
def demo_plan() -> Iterator[Plan]:
    site = SandboxSite(seed=load_seed_file(ROOT / "examples" / "sandbox-seed.yaml"))
    cwd = Path.cwd()
    os.chdir(ROOT)  # diagnostics and sources show paths relative to the repository, as users run it
    try:
        desired, diagnostics = load_manifests([Path("examples/manifests")])
        assert diagnostics == []
        credentials = Credentials(email=SANDBOX_EMAIL, secret=SANDBOX_API_TOKEN)
        with serve_in_thread(site) as url, SiteClient(url, url, credentials) as client:
            live = read_live_state(client, KINDS, site="sandbox", holders=holders_to_check(KINDS, desired))
            yield build_plan(desired, live)
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("plan.txt", lambda plan: render_text(plan, color=False)),
        ("plan.md", render_markdown),
        ("plan.json", render_json),
    ],
)
def test_rendering_matches_golden(demo_plan: Plan, name: str, render: object) -> None:
    assert callable(render)
    actual = render(demo_plan)
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDENS") == "1":
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


def test_colour_marks_each_action(demo_plan: Plan) -> None:
    coloured = render_text(demo_plan, color=True)
    assert "\x1b[32m" in coloured and "\x1b[31m" in coloured and "\x1b[33m" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render_text(demo_plan, color=False)


def test_lists_render_by_one_rule(demo_plan: Plan) -> None:
    """Sets (grants, rights) one item a line, in creates as in updates; ordered lists whole, on one line."""
    lines = render_text(demo_plan).splitlines()
    for field in ("grants", "grantedRights", "disallowedRights", "granted"):
        assert not [line for line in lines if f" {field}: [" in line]
    assert not [line for line in lines if ' options: "' in line]
    assert '  +     options: ["English", "French", "German", "Japanese"]' in lines
