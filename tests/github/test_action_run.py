"""The action end to end, as the runner runs it: action.yml's steps, a pull_request event, a fake GitHub
API on 127.0.0.1, and the embedded sandbox site seeded from examples/sandbox-seed.yaml."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.github.comment import GITHUB_COMMENT_LIMIT, MARKER_PREFIX
from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from reconciler.sandbox.server import reset_state
from tests.github.action_runner import ROOT, ActionRun, run_action, runner_environment
from tests.github.fake_github import FakeGitHub, serve

SEED = ROOT / "examples" / "sandbox-seed.yaml"
MANIFESTS = ROOT / "examples" / "manifests"
EVENT = Path(__file__).parent / "events" / "pull_request.json"
GITHUB_TOKEN = "ghs_FakeInstallationToken0123456789abcd"
API_TOKEN = SANDBOX_API_TOKEN  # the embedded sandbox checks the credentials it is given
PR_NUMBER = 7

SHIM = """#!/bin/sh
# Stands in for actions/setup-python's interpreter: pip only logs what it was asked (the package is
# installed in the test's environment already), venv makes a venv whose python is this shim, and
# everything else runs the test's Python, isolated (-I) as asked.
isolated=""
if [ "$1" = "-I" ]; then isolated="-I"; shift; fi
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  echo "pip $*" >> "$SHIM_LOG"
  if [ "$3" = "cache" ]; then echo "$SHIM_HOME/pip-cache"; fi
  exit 0
fi
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin" && ln -sf "{shim}" "$3/bin/python"
  exit 0
fi
exec "{python}" $isolated "$@"
"""


@pytest.fixture(scope="module")
def github() -> Iterator[tuple[FakeGitHub, str]]:
    app = FakeGitHub(token=GITHUB_TOKEN)
    with serve(app, lifetime=120) as url:
        yield app, url


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


class Workspace:
    """A checkout of a GitOps repository (manifests in jsm/), a runner, and the sandbox site."""

    def __init__(self, tmp: Path, api_url: str) -> None:
        self.tmp = tmp
        self.api_url = api_url
        self.repo = tmp / "repo"
        (self.repo / "jsm").mkdir(parents=True)
        for manifest in MANIFESTS.glob("*.yaml"):
            shutil.copy(manifest, self.repo / "jsm" / manifest.name)
        _git(self.repo, "init", "-q", "-b", "main")
        _git(self.repo, "add", "jsm")
        _git(self.repo, "commit", "-q", "-m", "base")
        self.base_sha = _git(self.repo, "rev-parse", "HEAD")
        _git(self.repo, "checkout", "-q", "-b", "add-pr-widget")
        self.state = tmp / "sandbox.json"
        reset_state(self.state, SEED)
        (tmp / "home").mkdir()
        self.shim = tmp / "setup-python" / "python"
        self.shim.parent.mkdir()
        self.shim.write_text(SHIM.replace("{shim}", str(self.shim)).replace("{python}", sys.executable))
        self.shim.chmod(self.shim.stat().st_mode | stat.S_IXUSR)
        self.pip_log = tmp / "pip.log"

    def commit(self, path: str, text: str) -> str:
        target = self.repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        _git(self.repo, "add", path)
        _git(self.repo, "commit", "-q", "-m", f"change {path}")
        return _git(self.repo, "rev-parse", "HEAD")

    def pull_request_event(self, *, number: int = PR_NUMBER, fork: bool = False) -> Path:
        text = EVENT.read_text().replace("BASE_SHA", self.base_sha)
        text = text.replace("HEAD_SHA", _git(self.repo, "rev-parse", "HEAD"))
        event = json.loads(text)
        event["number"] = event["pull_request"]["number"] = number
        if fork:
            head = event["pull_request"]["head"]
            head["label"] = "outsider:add-pr-widget"
            head["repo"] |= {"full_name": "outsider/jsm-config", "fork": True, "id": 881234567}
            head["repo"]["owner"] = {"login": "outsider", "id": 1234, "type": "User"}
        path = self.tmp / f"event-{number}.json"
        path.write_text(json.dumps(event, indent=2))
        return path

    def run(
        self, inputs: dict[str, str], *, event_name: str = "pull_request", event: Path | None = None
    ) -> ActionRun:
        if event is None:
            event = self.pull_request_event() if event_name == "pull_request" else self.push_event()
        env = runner_environment(self.tmp, event_name=event_name, event_path=event, api_url=self.api_url)
        env |= {
            "JSM_SANDBOX_STATE": str(self.state),
            "SHIM_LOG": str(self.pip_log),
            "SHIM_HOME": str(self.tmp),
        }
        return run_action(
            inputs,
            runner_env=env,
            workspace=self.repo,
            uses_outputs={"python": {"python-path": str(self.shim), "python-version": "3.11.7"}},
        )

    def push_event(self) -> Path:
        sha = _git(self.repo, "rev-parse", "HEAD")
        event = {
            "ref": "refs/heads/main",
            "before": self.base_sha,
            "after": sha,
            "repository": {"full_name": "acme/jsm-config", "default_branch": "main"},
            "pusher": {"name": "jdoe"},
            "head_commit": {"id": sha, "message": "Merge pull request #7"},
        }
        path = self.tmp / "push.json"
        path.write_text(json.dumps(event))
        return path


PLAN_INPUTS = {
    "command": "plan",
    "path": "jsm",
    "site": "sandbox",
    "email": SANDBOX_EMAIL,
    "api-token": API_TOKEN,
    "github-token": GITHUB_TOKEN,
}

PR_PRODUCTS = """version: 1
products:
  - name: Acme Widget
  - name: Acme Gadget
    renamedFrom: [Gadget]
  - name: PR Widget
"""


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert API_TOKEN not in text
        assert GITHUB_TOKEN not in text


def test_plan_on_a_pull_request(tmp_path: Path, github: tuple[FakeGitHub, str]) -> None:
    app, url = github
    ws = Workspace(tmp_path, url)
    ws.commit("jsm/products.yaml", PR_PRODUCTS)

    first = ws.run(PLAN_INPUTS)
    assert not first.failed, first.log
    # The install step installed the action's own checkout with its pins.
    pip = ws.pip_log.read_text()
    assert (
        "install --quiet --disable-pip-version-check "
        f"--constraint {ROOT}/reconciler/github/constraints.txt {ROOT}" in pip
    )

    outputs = first.outputs
    assert outputs["has-changes"] == "true"
    assert outputs["exit-code"] == "2"  # plan --detailed-exitcode: changes present
    assert outputs["summary"] == "7 to create, 4 to update, 4 to rename, 1 to replace, 2 to delete"
    plan = json.loads(Path(outputs["plan-json"]).read_text())
    assert plan["summary"]["create"] == 7
    assert first.step("run").outputs["artifact-name"].startswith("jsm-reconciler-plan-plan-sandbox-jsm")

    # The job summary: the counts split between this pull request and drift, then the changes.
    summary = first.summary
    assert "### jsm-reconciler plan for `sandbox` (`jsm`)" in summary
    assert "| This pull request | 1 | 0 | 0 | 0 | 0 |" in summary
    assert "| Pre-existing drift (already planned on `main`) | 6 | 4 | 4 | 1 | 2 |" in summary
    ours, drift = summary.split("#### Pre-existing drift")
    assert "+ products/PR Widget" in ours and "Legacy Widget" not in ours.split("#### Changes from this")[1]
    assert "- products/Legacy Widget" in drift and "PR Widget" not in drift
    assert "`- products/Legacy Widget` _(pre-existing drift)_" in summary

    # One comment, starting with the hidden marker, the counts and the destructive changes.
    bodies = app.bodies(PR_NUMBER)
    assert len(bodies) == 1
    body = bodies[0]
    assert body.startswith(MARKER_PREFIX)
    assert body.index("| This pull request |") < body.index("destructive change(s)") < body.index("<details>")
    # Who can now see what comes first: the exposure block, before the counts.
    assert body.index("> [!CAUTION]") < body.index("**Exposure:") < body.index("| This pull request |")
    assert "`+ VIEW_VOTERS_AND_WATCHERS: anyone on Engineering scheme — projects ENG`" in body
    assert "<details><summary><b>products</b>: 1 to create</summary>" in body
    assert "https://github.com/acme/jsm-config/actions/runs/9876543210/attempts/1" in body
    assert "Created the plan comment on pull request #7" in first.log

    # A second run (a new push to the pull request) updates the same comment.
    ws.commit("jsm/products.yaml", PR_PRODUCTS + "  - name: Second PR Widget\n")
    second = ws.run(PLAN_INPUTS)
    assert not second.failed, second.log
    assert second.outputs["summary"].startswith("8 to create")
    bodies = app.bodies(PR_NUMBER)
    assert len(bodies) == 1
    assert "+ products/Second PR Widget" in bodies[0]
    assert "| This pull request | 2 | 0 | 0 | 0 | 0 |" in bodies[0]
    assert "Updated the plan comment" in second.log
    assert [r.method for r in app.requests if "/issues/7/" in r.path].count("POST") == 1
    assert all(r.authorization == f"Bearer {GITHUB_TOKEN}" for r in app.requests)

    # No token anywhere: outputs, summary, comment, log.
    for run in (first, second):
        _assert_no_secret(json.dumps(run.outputs), run.summary, run.log, *app.bodies(PR_NUMBER))
    _assert_no_secret(Path(outputs["plan-json"]).read_text())


def test_a_huge_plan_is_truncated_with_a_pointer(tmp_path: Path, github: tuple[FakeGitHub, str]) -> None:
    app, url = github
    ws = Workspace(tmp_path, url)
    products = "".join(f"  - name: Bulk product {i:04d} with a fairly long name\n" for i in range(2000))
    ws.commit("jsm/products.yaml", PR_PRODUCTS + products)
    run = ws.run(PLAN_INPUTS, event=ws.pull_request_event(number=8))
    assert not run.failed, run.log
    assert run.outputs["summary"].startswith("2007 to create")

    [body] = app.bodies(8)
    assert len(body) <= GITHUB_COMMENT_LIMIT
    assert len(body.encode()) <= GITHUB_COMMENT_LIMIT
    assert "This plan is too long to show in full" in body
    assert "[job summary](https://github.com/acme/jsm-config/actions/runs/9876543210/attempts/1)" in body
    assert f"artifact `{run.step('run').outputs['artifact-name']}`" in body
    # The head survives the cut: counts and destructive changes come first.
    assert "| This pull request | 2001 | 0 | 0 | 0 | 0 |" in body
    assert "`- products/Legacy Widget`" in body
    assert body.count("```diff") == body.count("```\n\n</details>")  # every section is closed
    # The job summary holds the whole plan.
    assert len(run.summary) > len(body)
    assert "too long" not in run.summary
    assert "+ products/Bulk product 1999 with a fairly long name" in run.summary


def test_fork_pull_request_without_secrets(tmp_path: Path, github: tuple[FakeGitHub, str]) -> None:
    app, url = github
    ws = Workspace(tmp_path, url)
    ws.commit("jsm/products.yaml", PR_PRODUCTS)
    before = len(app.requests)
    # What a workflow passes when the secrets are withheld: empty strings; the token is read-only.
    inputs = PLAN_INPUTS | {"site": "", "email": "", "api-token": ""}
    run = ws.run(inputs, event=ws.pull_request_event(number=9, fork=True))
    assert not run.failed, run.log
    assert run.outputs == {"has-changes": "false", "plan-json": "", "summary": "skipped", "exit-code": "0"}
    assert "::notice::The plan was skipped: this pull request comes from a fork" in run.log
    assert "### jsm-reconciler plan skipped" in run.summary
    assert "does not give such workflows the repository's secrets" in run.summary
    assert len(app.requests) == before  # no comment attempted


def test_dependabot_pull_request_without_secrets(
    tmp_path: Path, github: tuple[FakeGitHub, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dependabot's pull requests come from a branch of the repository itself, not a fork, and GitHub
    withholds the secrets all the same: the plan is skipped, not failed."""
    app, url = github
    ws = Workspace(tmp_path, url)
    ws.commit("jsm/products.yaml", PR_PRODUCTS)
    event_path = ws.pull_request_event(number=12)
    event = json.loads(event_path.read_text())
    dependabot = {"login": "dependabot[bot]", "id": 49699333, "type": "Bot", "site_admin": False}
    event["pull_request"]["user"] = event["sender"] = dependabot
    assert (
        event["pull_request"]["head"]["repo"]["full_name"]
        == event["pull_request"]["base"]["repo"]["full_name"]
    )
    event_path.write_text(json.dumps(event))

    usual = runner_environment

    def as_dependabot(tmp: Path, **variables: Any) -> dict[str, str]:
        return usual(tmp, **variables) | {"GITHUB_ACTOR": "dependabot[bot]"}

    monkeypatch.setattr(f"{__name__}.runner_environment", as_dependabot)
    before = len(app.requests)
    run = ws.run(PLAN_INPUTS | {"site": "", "email": "", "api-token": ""}, event=event_path)
    assert not run.failed, run.log
    assert run.outputs == {"has-changes": "false", "plan-json": "", "summary": "skipped", "exit-code": "0"}
    assert "::notice::The plan was skipped: this pull request comes from a fork (or Dependabot)" in run.log
    assert len(app.requests) == before  # no comment attempted


def test_missing_credentials_outside_a_fork_fail_clearly(
    tmp_path: Path, github: tuple[FakeGitHub, str]
) -> None:
    _app, url = github
    ws = Workspace(tmp_path, url)
    run = ws.run(PLAN_INPUTS | {"site": "https://acme.atlassian.net", "api-token": ""})
    assert run.failed
    assert "::error::jsm-reconciler: no credentials for https://acme.atlassian.net" in run.log
    assert run.outputs["exit-code"] == "1"


def test_the_scoped_token_input_reaches_the_tool(tmp_path: Path, github: tuple[FakeGitHub, str]) -> None:
    """`scoped-token` goes to the tool as JSM_SCOPED_TOKEN; a value that is not a yes or no stops it
    before any request, which shows it arrived."""
    _app, url = github
    ws = Workspace(tmp_path, url)
    run = ws.run(PLAN_INPUTS | {"site": "https://acme.atlassian.net", "scoped-token": "maybe"})
    assert run.failed
    assert "JSM_SCOPED_TOKEN must be 1 (an API token with scopes) or 0, got 'maybe'" in run.log
    _assert_no_secret(run.log, run.summary)


def test_manifest_errors_become_annotations(tmp_path: Path, github: tuple[FakeGitHub, str]) -> None:
    app, url = github
    ws = Workspace(tmp_path, url)
    ws.commit("jsm/products.yaml", "version: 1\nproducts:\n  - name: Broken\n    colour: red\n")
    run = ws.run(PLAN_INPUTS, event=ws.pull_request_event(number=10))
    assert run.failed
    assert run.outputs["exit-code"] == "1" and run.outputs["summary"] == "error"
    assert "::error file=jsm/products.yaml,line=4," in run.log
    assert "The plan failed" in run.summary and "jsm/products.yaml:4:" in run.summary
    [body] = app.bodies(10)
    assert body.startswith(MARKER_PREFIX) and "plan failed" in body


def test_apply_unreviewed_on_push(tmp_path: Path, github: tuple[FakeGitHub, str]) -> None:
    """No pull request merged this commit: only `apply-unreviewed` lets it apply, and it says so."""
    app, url = github
    ws = Workspace(tmp_path, url)
    before = len(app.requests)
    inputs = PLAN_INPUTS | {"command": "apply", "allow-delete": "true", "apply-unreviewed": "true"}
    run = ws.run(inputs, event_name="push")
    assert not run.failed, run.log
    assert run.outputs["exit-code"] == "0" and run.outputs["has-changes"] == "true"
    assert "### jsm-reconciler apply to `sandbox` (`jsm`)" in run.summary
    assert "**Applied without review:** `apply-unreviewed` is `true`" in run.summary
    assert "::warning::apply-unreviewed is true: the plan is applied without review." in run.log
    assert "**Applied.** Apply complete: 17 applied, 0 failed, 0 skipped." in run.summary
    assert "applied  - products/Legacy Widget" in run.summary
    assert len(app.requests) == before  # no comment, no lookup of a reviewed plan
    _assert_no_secret(run.summary, run.log, json.dumps(run.outputs))

    again = ws.run(inputs, event_name="push")
    assert not again.failed, again.log
    assert again.outputs["has-changes"] == "false"
    assert "No changes" in again.summary


def test_apply_without_allow_delete_fails_the_job(tmp_path: Path, github: tuple[FakeGitHub, str]) -> None:
    _app, url = github
    ws = Workspace(tmp_path, url)
    run = ws.run(PLAN_INPUTS | {"command": "apply", "apply-unreviewed": "true"}, event_name="push")
    assert run.failed
    assert run.outputs["exit-code"] == "1"
    assert "The apply failed" in run.summary
    assert "::error::jsm-reconciler apply failed" in run.log


def test_a_plan_stopped_by_a_threshold_shows_the_threshold_error(
    tmp_path: Path, github: tuple[FakeGitHub, str]
) -> None:
    app, url = github
    ws = Workspace(tmp_path, url)
    settings = (
        (MANIFESTS / "settings.yaml").read_text().replace("maxDeletePercent: 50", "maxDeletePercent: 1")
    )
    ws.commit("jsm/settings.yaml", settings.replace("minExisting: 10", "minExisting: 1"))
    run = ws.run(PLAN_INPUTS, event=ws.pull_request_event(number=11))
    assert run.failed and run.outputs["exit-code"] == "1"
    [body] = app.bodies(11)
    for text in (body, run.summary):
        # At the limit it passes, in the manifests.
        assert (
            "jsm/settings.yaml:12:23: error[plan.threshold]: the plan would delete or replace 1 of 3 "
            "existing products (33%)"
        ) in text
        assert "The plan has errors; nothing can be applied until they are resolved." in text
        assert "annotated" not in text and "Saved the plan" not in text
