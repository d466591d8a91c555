"""run_apply's own decision, with the plan and the reviewed plan arranged in place of the CLI and GitHub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.github import apply
from reconciler.github.apply import Review, run_apply
from reconciler.github.comment import ReviewMark
from reconciler.github.runner import Runner
from reconciler.plan.model import Plan

HEAD = "b" * 40
PLAN = Plan(site="sandbox", changes=())


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    def planned(self: Runner, path: str, out: Path, **_: object) -> tuple[int, str]:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(PLAN.to_json()), encoding="utf-8")
        return 0, ""

    monkeypatch.setattr(Runner, "plan", planned)
    event = tmp_path / "push.json"
    event.write_text(json.dumps({"ref": "refs/heads/main", "after": "a" * 40}))
    return Runner(
        {
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
            "RUNNER_TEMP": str(tmp_path),
            "JSM_ACTION_COMMAND": "apply",
            "JSM_ACTION_PATH": "jsm",
            "JSM_SITE": "sandbox",
        }
    )


@pytest.mark.parametrize(
    ("reviewed_digest", "exit_code"),
    [
        (PLAN.changes_digest, 0),
        (PLAN.changes_digest[:12], 1),  # a mark holds the whole digest, never a prefix
        ("0" * 64, 1),
    ],
)
def test_only_the_whole_reviewed_digest_is_the_reviewed_plan(
    runner: Runner, monkeypatch: pytest.MonkeyPatch, reviewed_digest: str, exit_code: int
) -> None:
    monkeypatch.setattr(apply, "find_review", lambda _: Review(None, HEAD, ReviewMark(HEAD, reviewed_digest)))
    assert run_apply(runner) == exit_code
    summary = Path(runner.env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert ("Not applied: the plan has changed since review." in summary) is bool(exit_code)
