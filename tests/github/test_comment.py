"""The comment builder and the REST client, without a runner."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from reconciler.address import Address
from reconciler.github.api import GitHubClient
from reconciler.github.comment import (
    COMMENT_BUDGET,
    MAX_LISTED,
    Links,
    Report,
    marker,
    render_report,
    split_drift,
)
from reconciler.kinds.kind import Action, Change
from reconciler.plan.model import Exposure, Plan, Violation
from reconciler.registry import KINDS
from reconciler.render.markdown import code
from reconciler.render.plan import render_markdown
from tests.github.fake_github import ACTIONS_BOT, FakeGitHub, serve
from tests.unit.hostile_markdown import NAMES, assert_names_stay_text, hostile_plan


def _create(name: str, **after: object) -> Change:
    return Change(
        key=f"products/{name}",
        address=Address.parse(f"products/{name}"),
        action=Action.CREATE,
        before=None,
        after={"name": name, **after},
    )


def test_drift_split_by_key_action_and_result() -> None:
    drift, ours, resolved = _create("Drift"), _create("Ours"), _create("Gone")
    changed = _create("Both", note="new")
    base = Plan("sandbox", (drift, resolved, _create("Both", note="old")))
    split = split_drift(Plan("sandbox", (drift, ours, changed)), base)
    assert split.drift == (drift,)
    assert split.ours == (ours, changed)  # the PR changes what Both becomes: it is the PR's change
    assert split.resolved == (resolved, base.changes[2])


def test_no_base_plan_means_all_changes_are_ours() -> None:
    plan = Plan("sandbox", (_create("A"),))
    split = split_drift(plan, None, note="the base commit is not in the checkout")
    assert not split.available and split.ours == plan.changes
    text = render_report(Report(plan, split=split), budget=COMMENT_BUDGET)
    assert "Pre-existing drift could not be told apart: the base commit is not in the checkout" in text


def test_truncation_keeps_within_budget_for_any_size() -> None:
    links = Links(run_url="https://github.com/o/r/actions/runs/1", artifact="plan-art")
    for count in (1, 10, 100, 1000, 3000):
        changes = tuple(_create(f"Product {i} ✓ ünïcödé", grants=["x" * 40] * 5) for i in range(count))
        plan = Plan("https://acme.atlassian.net", changes)
        report = Report(plan, split=split_drift(plan, Plan(plan.site, changes[: count // 2])), links=links)
        for budget in (4_000, 20_000, COMMENT_BUDGET):
            text = render_report(report, budget=budget, marker_line=marker("acme jsm"))
            assert len(text.encode()) <= budget
            assert text.startswith("<!-- jsm-reconciler-plan acme jsm -->\n")
            assert text.count("```diff") == text.count("```\n\n</details>")
            if "too long to show in full" in text:
                assert "[job summary](https://github.com/o/r/actions/runs/1)" in text
                assert "`plan-art`" in text


def test_the_broken_policies_come_first_after_the_exposure_and_are_capped() -> None:
    exposure = Exposure("added", "S", "BROWSE_PROJECTS: anyone", ("IT",), "permissionSchemes/S")
    broken = tuple(
        Violation(
            "No users",
            "warning",
            f"permissionSchemes/S{i}",
            grant="EDIT_ISSUES: user:a",
            projects=("IT",),
        )
        for i in range(MAX_LISTED + 10)
    )
    plan = Plan("sandbox", (_create("A"),), exposure=(exposure,), policy=broken)
    text = render_report(Report(plan, split=split_drift(plan, None)), budget=COMMENT_BUDGET)
    assert (
        text.index("**Exposure:")
        < text.index("> [!WARNING]\n> **Policies:")
        < text.index("**Plan: 1 to create")
    )
    first = "permissionSchemes/S0 grants EDIT_ISSUES: user:a — projects IT — live, not in the manifests`"
    assert f"> - `[warning] No users: {first}" in text
    assert text.count("> - `[warning] No users") == MAX_LISTED and "> - … and 10 more" in text
    erroring = replace(plan, policy=(replace(broken[0], level="error"),))
    assert "> [!CAUTION]\n> **Policies:" in render_report(Report(erroring), budget=COMMENT_BUDGET)


def test_marker_cannot_close_the_html_comment() -> None:
    assert marker("a --> b") == "<!-- jsm-reconciler-plan a - b -->"
    assert marker() == "<!-- jsm-reconciler-plan -->"


def test_upsert_finds_the_comment_on_a_later_page() -> None:
    app = FakeGitHub(token="t0ken-for-test")
    app.comments[3] = [{"id": i, "body": f"chatter {i}", "user": ACTIONS_BOT} for i in range(1, 251)]
    app.comments[3].insert(180, {"id": 999, "body": marker("x") + "\nold plan", "user": ACTIONS_BOT})
    with serve(app, lifetime=30) as url:
        client = GitHubClient(url, "t0ken-for-test", "acme/jsm-config")
        try:
            owner = client.viewer()
            verb, comment = client.upsert_comment(3, marker("x"), marker("x") + "\nnew plan", owner)
            assert (verb, comment.id) == ("updated", 999)
            verb, _ = client.upsert_comment(3, marker("y"), marker("y") + "\nother site", owner)
            assert verb == "created"
        finally:
            client.close()
    assert len(app.comments[3]) == 252
    assert app.comments[3][180]["body"].endswith("new plan")


def test_the_comment_and_job_summary_show_hostile_names_only_as_text() -> None:
    plan = hostile_plan()
    base = Plan(plan.site, (*plan.changes[: len(plan.changes) // 2], _create("Resolved\n# x @org/team")))
    hostile = "jsm\n# path `x` @org/team --> <b>"
    base_ref = "main|`x`@org/admins`<b>"  # a branch name git accepts
    report = Report(plan, plan.diagnostics, split_drift(plan, base), hostile, base_ref)
    for budget in (COMMENT_BUDGET, 1_000_000):
        text = render_report(report, budget=budget, marker_line=marker(hostile))
        assert len(text.encode()) <= budget
        hidden, shown = text.split("\n", 1)
        assert hidden.startswith("<!-- ") and hidden.endswith(" -->") and hidden.count(">") == 1
        # The title and the two sections of the drift split are the only headings.
        assert_names_stay_text(shown, headings=3, names=(*NAMES, base_ref))
        assert f"_The base branch {code(base_ref)} already plans these" in shown


def test_a_name_full_of_backticks_still_fits_the_budget() -> None:
    changes = tuple(_create(f"{i} " + "`" * 150) for i in range(400))
    for budget in (4_000, 20_000):
        text = render_report(Report(Plan("sandbox", changes)), budget=budget)
        assert len(text.encode()) <= budget
        assert_names_stay_text(text, headings=1, names=())


def test_each_field_of_a_change_is_a_line_of_its_own_as_in_the_markdown_plan() -> None:
    golden = Path(__file__).resolve().parents[1] / "golden" / "demo" / "plan.json"
    plan = Plan.from_json(json.loads(golden.read_text(encoding="utf-8")), KINDS)
    comment = render_report(Report(plan), budget=COMMENT_BUDGET)
    assert "\\n" not in comment
    sections = re.findall(r"```diff\n.*?\n```", render_markdown(plan), re.S)
    # One section per kind, and the access diff.
    assert len(sections) == 7 and all(section in comment for section in sections)
    assert "\n+ permissionSchemes/Engineering scheme\n+     grants: " in comment
