"""Whose comment is whose, and which reviewed plan a merge trusts: the action's GitHub calls against the fake
GitHub API, without running the tool (test_review_bound_merge.py runs the whole flow)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.github.apply import find_review
from reconciler.github.comment import ReviewMark, marker
from reconciler.github.runner import Runner, post_comment
from tests.github.fake_github import ACTIONS_BOT, FakeGitHub, serve

TOKEN = "ghs_FakeInstallationToken0123456789abcd"
KEY_MARKER = marker("sandbox jsm")
MERGE, HEAD, OLD_HEAD = "a" * 40, "b" * 40, "c" * 40
DIGEST = "d" * 64
MALLORY = {"login": "mallory", "id": 6660666, "type": "User"}
NUMBER = 7


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    app = FakeGitHub(token=TOKEN)
    app.pulls[MERGE] = [
        {"number": 99, "merged_at": None, "merge_commit_sha": "e" * 40, "head": {"sha": MERGE}},
        {
            "number": NUMBER,
            "merged_at": "2025-03-05T10:00:00Z",
            "merge_commit_sha": MERGE,
            "head": {"sha": HEAD},
        },
    ]
    with serve(app, lifetime=30) as url:
        yield app, url


def _runner(tmp_path: Path, url: str, *, sha: str = MERGE) -> Runner:
    event = tmp_path / "push.json"
    event.write_text(json.dumps({"ref": "refs/heads/main", "after": sha}))
    return Runner(
        {
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REPOSITORY": "acme/jsm-config",
            "GITHUB_API_URL": url,
            "GITHUB_GRAPHQL_URL": f"{url}/graphql",
            "RUNNER_TEMP": str(tmp_path),
            "JSM_ACTION_COMMAND": "apply",
            "JSM_ACTION_PATH": "jsm",
            "JSM_SITE": "sandbox",
            "JSM_ACTION_GITHUB_TOKEN": TOKEN,
        }
    )


def _plan_comment(head: str = HEAD, digest: str = DIGEST) -> str:
    return f"{KEY_MARKER}\n{ReviewMark(head, digest).hidden()}\n### jsm-reconciler plan for `sandbox`\n"


def test_the_plan_posted_for_the_final_head_is_found(tmp_path: Path, github: tuple[FakeGitHub, str]) -> None:
    app, url = github
    app.add_comment(NUMBER, "Looks good to me", MALLORY)
    app.add_comment(NUMBER, _plan_comment(), ACTIONS_BOT)
    review = find_review(_runner(tmp_path, url))
    assert review.mark == ReviewMark(HEAD, DIGEST) and review.number == NUMBER and not review.problem


def test_a_comment_by_someone_else_is_not_trusted(tmp_path: Path, github: tuple[FakeGitHub, str]) -> None:
    app, url = github
    app.add_comment(NUMBER, _plan_comment(), MALLORY)
    review = find_review(_runner(tmp_path, url))
    assert review.mark is None
    assert review.problem == f"pull request #{NUMBER} has no plan comment by `github-actions[bot]`"


def test_a_comment_someone_else_edited_is_not_trusted(tmp_path: Path, github: tuple[FakeGitHub, str]) -> None:
    app, url = github
    comment = app.add_comment(NUMBER, _plan_comment(digest="0" * 64), ACTIONS_BOT)
    app.edit_comment(comment["id"], _plan_comment(), MALLORY)
    review = find_review(_runner(tmp_path, url))
    assert review.mark is None
    assert (
        review.problem
        == f"the plan comment on pull request #{NUMBER} was edited by someone other than the action"
    )
    # The action's own later update makes it the action's comment again.
    app.edit_comment(comment["id"], _plan_comment(), ACTIONS_BOT)
    assert find_review(_runner(tmp_path, url)).mark == ReviewMark(HEAD, DIGEST)


def test_a_plan_for_an_earlier_head_is_not_the_reviewed_plan(
    tmp_path: Path, github: tuple[FakeGitHub, str]
) -> None:
    """A force-push (or any push) after the last plan, merged before a new plan was posted."""
    app, url = github
    app.add_comment(NUMBER, _plan_comment(head=OLD_HEAD), ACTIONS_BOT)
    review = find_review(_runner(tmp_path, url))
    assert review.mark is None and review.number == NUMBER and review.head == HEAD
    assert review.problem == (
        f"the plan posted on pull request #{NUMBER} is for commit `{OLD_HEAD[:12]}`, "
        f"not for its final head commit `{HEAD[:12]}`"
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        # The failed plan's comment has no review line.
        (
            f"{KEY_MARKER}\n### jsm-reconciler plan failed\n",
            f"the last plan posted on pull request #{NUMBER} failed",
        ),
        # The review line counts only right after the marker, where a name in the plan cannot be.
        (
            f"{KEY_MARKER}\n### plan\n`{ReviewMark(HEAD, DIGEST).hidden()}`\n",
            f"the last plan posted on pull request #{NUMBER} failed",
        ),
        # Another site's or path's comment.
        (
            f"{marker('production jsm')}\n{ReviewMark(HEAD, DIGEST).hidden()}\n",
            f"pull request #{NUMBER} has no plan",
        ),
    ],
)
def test_only_the_line_after_this_key_s_marker_counts(
    tmp_path: Path, github: tuple[FakeGitHub, str], body: str, problem: str
) -> None:
    app, url = github
    app.add_comment(NUMBER, body, ACTIONS_BOT)
    review = find_review(_runner(tmp_path, url))
    assert review.mark is None and review.problem.startswith(problem)


def test_a_commit_no_pull_request_merged_has_no_review(
    tmp_path: Path, github: tuple[FakeGitHub, str]
) -> None:
    _app, url = github
    review = find_review(_runner(tmp_path, url, sha="f" * 40))
    assert review.mark is None and review.number is None
    assert review.problem == f"no pull request was merged by commit `{'f' * 12}`"


def test_an_unreachable_api_is_no_review(tmp_path: Path, github: tuple[FakeGitHub, str]) -> None:
    _app, url = github
    runner = _runner(tmp_path, url)
    runner.inputs.github_token = "ghs_wrong"
    review = find_review(runner)
    assert review.mark is None
    assert (
        "the reviewed plan could not be looked up" in review.problem
        and "401 Bad credentials" in review.problem
    )
    assert "ghs_wrong" not in review.problem


def test_the_action_never_edits_a_comment_someone_else_wrote(
    tmp_path: Path, github: tuple[FakeGitHub, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = github
    forged = app.add_comment(NUMBER, _plan_comment(), MALLORY)
    runner = _runner(tmp_path, url)
    post_comment(runner, NUMBER, f"{KEY_MARKER}\nthe action's plan\n", KEY_MARKER)
    post_comment(runner, NUMBER, f"{KEY_MARKER}\nthe action's next plan\n", KEY_MARKER)
    assert forged["body"] == _plan_comment()
    assert app.bodies(NUMBER) == [_plan_comment(), f"{KEY_MARKER}\nthe action's next plan\n"]
    assert [c["user"]["login"] for c in app.comments[NUMBER]] == ["mallory", "github-actions[bot]"]
    assert not [r for r in app.requests if r.method == "PATCH" and r.path.endswith(f"/{forged['id']}")]
    out = capsys.readouterr().out
    assert "Created the plan comment" in out and "Updated the plan comment" in out


@pytest.mark.parametrize(
    "listed",
    [{"body": "no id"}, {"id": 5, "body": "x", "user": "mallory"}, {"id": "five", "body": "x"}],
)
def test_a_comment_not_as_documented_is_no_review(
    tmp_path: Path, github: tuple[FakeGitHub, str], listed: dict[str, object]
) -> None:
    app, url = github
    app.add_comment(NUMBER, _plan_comment(), ACTIONS_BOT)
    app.comments[NUMBER].append(listed)
    review = find_review(_runner(tmp_path, url))
    assert review.mark is None and review.number == NUMBER
    assert review.problem.startswith("the reviewed plan could not be looked up (`"), review.problem
