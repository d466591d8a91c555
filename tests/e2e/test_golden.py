"""Golden files of the plan's three renderings: the demo seed planned against examples/manifests; and
the diagnostics of the examples that only the site can find wrong (examples/invalid/on-site/).

Regenerate with `UPDATE_GOLDENS=1 pytest tests/e2e/test_golden.py` and review the diff.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.live import holders_to_check, read_live_state
from reconciler.manifest.load import load_manifests
from reconciler.plan.build import build_plan
from reconciler.plan.model import Plan
from reconciler.registry import KINDS
from reconciler.render.diagnostics import render_diagnostics
from reconciler.render.plan import render_json, render_markdown, render_text
from reconciler.safety import judge_thresholds
from reconciler.sandbox.app import SandboxSite
from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from reconciler.sandbox.seed import load_seed_file
from reconciler.sandbox.server import serve_in_thread
from reconciler.site.config import Credentials
from reconciler.site.http import SiteClient
from tests.e2e.conftest import assessed

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "demo"
ON_SITE = ROOT / "examples" / "invalid" / "on-site"


def _demo_site_plan(manifests: Path) -> Plan:
    """Plan `manifests` against the demo seed as the CLI does: declared projects, thresholds, exposure,
    policies, the access diff."""
    site = SandboxSite(seed=load_seed_file(ROOT / "examples" / "sandbox-seed.yaml"))
    desired, diagnostics = load_manifests([manifests], KINDS)
    assert diagnostics == []
    credentials = Credentials(email=SANDBOX_EMAIL, secret=SANDBOX_API_TOKEN)
    with serve_in_thread(site) as url, SiteClient(url, url, credentials) as client:
        holders = holders_to_check(KINDS, desired)
        live = read_live_state(
            client, KINDS, site="sandbox", holders=holders, declared=frozenset(desired.objects)
        )
        judged = judge_thresholds(build_plan(desired, live, KINDS), live, desired, False)
        return assessed(judged, desired, live, client)


@pytest.fixture(scope="module")
def demo_plan() -> Iterator[Plan]:
    cwd = Path.cwd()
    os.chdir(ROOT)  # diagnostics and sources show paths relative to the repository, as users run it
    try:
        yield _demo_site_plan(Path("examples/manifests"))
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("case", sorted(p.name for p in ON_SITE.glob("*.yaml")))
def test_on_site_invalid_example_matches_its_golden(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ON_SITE)
    plan = _demo_site_plan(Path(case))
    actual = render_diagnostics(plan.diagnostics) + "\n"
    golden = ON_SITE / f"{Path(case).stem}.expected"
    if os.environ.get("UPDATE_GOLDENS") == "1":
        golden.write_text(actual, encoding="utf-8")
    assert plan.has_errors
    assert actual == golden.read_text(encoding="utf-8")


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


def test_the_demo_plan_breaks_only_the_warning_rules_of_the_starter_pack(demo_plan: Plan) -> None:
    assert [(v.rule, v.level, v.object) for v in demo_plan.policy] == [
        ("No grants to single users", "warning", "permissionSchemes/Engineering scheme"),
        (
            "No delete rights for team roles",
            "warning",
            "teamRoles/8c1b7c2e-6a0d-4f4e-9c55-2d4f0b8e1a10/scheduler",
        ),
    ]
    assert not demo_plan.has_errors


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
