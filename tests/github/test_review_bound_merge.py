"""Merge applies what was reviewed (CLI.md, "The GitHub Action binds merge to review"): the plan comment
carries the digest and head commit; on push the action finds the merged pull request, reads the digest back
from its own comment only, and applies only an unchanged plan. Runs action.yml as the runner does, against
the fake GitHub API and the embedded sandbox site."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.github.comment import CHANGED_PREFIX, MARKER_PREFIX
from reconciler.sandbox.app import SandboxSite
from reconciler.site.api import Api
from tests.github.action_runner import ActionRun
from tests.github.fake_github import FakeGitHub, serve
from tests.github.test_action_run import GITHUB_TOKEN, PLAN_INPUTS, PR_PRODUCTS, Workspace, _git
from tests.inprocess import in_process_client

APPLY_INPUTS = PLAN_INPUTS | {"command": "apply", "allow-delete": "true"}
MALLORY = {"login": "mallory", "id": 6660666, "type": "User"}
REVIEW_LINE = re.compile(r"<!-- jsm-reconciler-review head=([0-9a-f]{40}) digest=([0-9a-f]{64}) -->")


@pytest.fixture(scope="module")
def github() -> Iterator[tuple[FakeGitHub, str]]:
    app = FakeGitHub(token=GITHUB_TOKEN)
    with serve(app, lifetime=120) as url:
        yield app, url


class Merge:
    """A pull request of the workspace's branch, planned, then merged into main."""

    def __init__(self, ws: Workspace, app: FakeGitHub, number: int) -> None:
        self.ws, self.app, self.number = ws, app, number

    def plan(self) -> ActionRun:
        run = self.ws.run(PLAN_INPUTS, event=self.ws.pull_request_event(number=self.number))
        assert not run.failed, run.log
        return run

    def merge(self) -> str:
        """Merge the branch's head into main, and tell the fake API which pull request did it."""
        head = _git(self.ws.repo, "rev-parse", "HEAD")
        _git(self.ws.repo, "checkout", "-q", "main")
        _git(self.ws.repo, "merge", "-q", "--no-ff", "-m", f"Merge pull request #{self.number}", head)
        sha = _git(self.ws.repo, "rev-parse", "HEAD")
        pull = {"number": self.number, "merged_at": "2025-03-05T10:00:00Z", "merge_commit_sha": sha}
        # An open pull request whose branch holds the commit is listed too, and must not count.
        other = {"number": 999, "merged_at": None, "merge_commit_sha": "f" * 40, "head": {"sha": sha}}
        self.app.pulls[sha] = [other, pull | {"head": {"sha": head}, "base": {"ref": "main"}}]
        return sha

    def apply(self, **inputs: str) -> ActionRun:
        return self.ws.run(APPLY_INPUTS | inputs, event_name="push")

    def comments(self, prefix: str) -> list[dict[str, Any]]:
        return [c for c in self.app.comments.get(self.number, []) if c["body"].startswith(prefix)]


def _site(ws: Workspace) -> SandboxSite:
    return SandboxSite(state_file=ws.state)


def _products(ws: Workspace) -> list[str]:
    return sorted(p["name"] for p in _site(ws).snapshot()["products"])


def _rename_product(ws: Workspace, old: str, new: str) -> None:
    """Someone changes the site by hand."""
    site = _site(ws)
    product = next(p for p in site.snapshot()["products"] if p["name"] == old)
    with in_process_client(site) as client:
        client.request(Api.CSM, "PUT", f"/product/{product['id']}", json_body={"name": new})


def _assert_nothing_applied(run: ActionRun, ws: Workspace, state_before: dict[str, Any]) -> None:
    assert run.failed
    assert run.outputs["exit-code"] == "1"
    assert _site(ws).snapshot() == state_before
    assert "Apply complete" not in run.log and "applied  " not in run.log
    assert "Nothing was written." in run.summary


def _replan_has_no_changes(ws: Workspace) -> None:
    again = ws.run(PLAN_INPUTS, event_name="push")
    assert not again.failed, again.log
    assert again.outputs["has-changes"] == "false"


_NUMBERS = itertools.count(100)


@pytest.fixture
def pr(tmp_path: Path, github: tuple[FakeGitHub, str]) -> Merge:
    app, url = github
    ws = Workspace(tmp_path, url)
    ws.commit("jsm/products.yaml", PR_PRODUCTS)
    return Merge(ws, app, next(_NUMBERS))


def test_the_reviewed_plan_applies_on_merge(pr: Merge) -> None:
    planned = pr.plan()
    [comment] = pr.comments(MARKER_PREFIX)
    digest = json.loads(Path(planned.outputs["plan-json"]).read_text())["changesDigest"]
    head = _git(pr.ws.repo, "rev-parse", "HEAD")
    # The digest and the head commit: hidden on the line after the marker, and visible.
    assert REVIEW_LINE.fullmatch(comment["body"].splitlines()[1]).groups() == (head, digest)  # type: ignore[union-attr]
    assert f"Plan digest `{digest[:12]}` for commit `{head[:12]}`" in comment["body"]
    assert f"Plan digest `{digest[:12]}`" in planned.summary

    pr.merge()
    applied = pr.apply()
    assert not applied.failed, applied.log
    assert f"The plan reviewed on pull request #{pr.number}: Plan digest `{digest[:12]}`" in applied.summary
    assert "**Applied.** Apply complete: 18 applied, 0 failed, 0 skipped." in applied.summary
    assert f"--expect-digest {digest}" not in applied.log  # the command line is not echoed, the plan is
    assert "PR Widget" in _products(pr.ws)
    assert pr.comments(CHANGED_PREFIX) == []
    _replan_has_no_changes(pr.ws)


def test_drift_between_review_and_merge_writes_nothing(pr: Merge) -> None:
    pr.plan()
    [reviewed] = pr.comments(MARKER_PREFIX)
    reviewed_body = reviewed["body"]
    _rename_product(pr.ws, "Legacy Widget", "Legacy Widget (kept)")
    pr.merge()
    state = _site(pr.ws).snapshot()

    refused = pr.apply()
    _assert_nothing_applied(refused, pr.ws, state)
    assert "::error::jsm-reconciler: nothing was applied: the plan has changed since review." in refused.log
    assert "**Not applied: the plan has changed since review.**" in refused.summary
    assert "- products/Legacy Widget (kept)" in refused.summary  # the new plan, shown
    # The new plan on the pull request, in a comment of its own; the reviewed one is left as it was.
    [changed] = pr.comments(CHANGED_PREFIX)
    assert changed["user"]["login"] == "github-actions[bot]"
    assert "### jsm-reconciler plan changed since review for `sandbox` (`jsm`)" in changed["body"]
    assert "- products/Legacy Widget (kept)" in changed["body"]
    assert "jsm-reconciler-review" not in changed["body"]  # never taken for a reviewed plan
    assert pr.comments(MARKER_PREFIX)[0]["body"] == reviewed_body


def test_a_force_pushed_head_without_a_plan_refuses(pr: Merge) -> None:
    pr.plan()
    # The author rewrites the branch after the last plan ran, and it is merged before a new plan runs.
    _git(pr.ws.repo, "reset", "-q", "--hard", "HEAD~1")
    pr.ws.commit("jsm/products.yaml", PR_PRODUCTS + "  - name: Sneaked in\n")
    pr.merge()
    state = _site(pr.ws).snapshot()

    refused = pr.apply()
    _assert_nothing_applied(refused, pr.ws, state)
    assert "**Not applied: no reviewed plan.**" in refused.summary
    assert f"the plan posted on pull request #{pr.number} is for commit" in refused.summary
    assert "not for its final head commit" in refused.summary
    [changed] = pr.comments(CHANGED_PREFIX)
    assert "### jsm-reconciler plan not reviewed" in changed["body"] and "Sneaked in" in changed["body"]


def test_merge_queue_plans_what_will_land(pr: Merge) -> None:
    head = _git(pr.ws.repo, "rev-parse", "HEAD")
    event = {
        "action": "checks_requested",
        "merge_group": {
            "head_sha": head,
            "head_ref": f"refs/heads/gh-readonly-queue/main/pr-{pr.number}-{pr.ws.base_sha}",
            "base_sha": pr.ws.base_sha,
            "base_ref": "refs/heads/main",
            "head_commit": {"id": head, "message": "Merge queue"},
        },
        "repository": {"full_name": "acme/jsm-config", "default_branch": "main"},
    }
    path = pr.ws.tmp / "merge_group.json"
    path.write_text(json.dumps(event))
    before = len(pr.app.requests)
    state = _site(pr.ws).snapshot()

    run = pr.ws.run(PLAN_INPUTS, event_name="merge_group", event=path)
    assert not run.failed, run.log
    assert run.outputs["has-changes"] == "true"
    assert f"Merge queue: the plan of commit `{head[:12]}`, what will land onto `main`" in run.summary
    assert "+ products/PR Widget" in run.summary
    assert len(pr.app.requests) == before  # no comment, no lookup
    assert _site(pr.ws).snapshot() == state

    refused = pr.ws.run(APPLY_INPUTS, event_name="merge_group", event=path)
    assert refused.failed
    assert "::error::command apply does not run in a merge queue" in refused.log
    assert _site(pr.ws).snapshot() == state
