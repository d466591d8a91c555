"""The runner's edges: a CLI run that never ends, and a GitHub API whose answer is not as documented."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.github.comment import marker
from reconciler.github.run import run_plan
from reconciler.github.runner import PLAN_TIMEOUT, Runner, error_lines, post_comment
from tests.github.fake_github import FakeGitHub, serve

TOKEN = "ghs_FakeInstallationToken0123456789abcd"
KEY_MARKER = marker("sandbox jsm")
NUMBER = 7


def _runner(tmp_path: Path, url: str = "") -> Runner:
    event = tmp_path / "push.json"
    event.write_text(json.dumps({"ref": "refs/heads/main", "after": "a" * 40}))
    return Runner(
        {
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REPOSITORY": "acme/jsm-config",
            "GITHUB_API_URL": url,
            "GITHUB_GRAPHQL_URL": f"{url}/graphql",
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
            "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
            "RUNNER_TEMP": str(tmp_path),
            "JSM_ACTION_COMMAND": "plan",
            "JSM_ACTION_PATH": "jsm",
            "JSM_SITE": "sandbox",
            "JSM_ACTION_GITHUB_TOKEN": TOKEN,
        }
    )


@pytest.fixture
def never_ending_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """subprocess.run as it ends when the CLI outlives its timeout: the output so far, as bytes."""

    def stopped(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        assert kwargs["timeout"] == PLAN_TIMEOUT
        raise subprocess.TimeoutExpired(command, PLAN_TIMEOUT, output=b"", stderr=b"Reading the site\n")

    monkeypatch.setattr("reconciler.github.runner.subprocess.run", stopped)


@pytest.mark.usefixtures("never_ending_cli")
def test_a_cli_run_that_outlives_its_timeout_fails_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stdout, stderr = _runner(tmp_path).cli(["plan", "jsm"])
    assert (code, stdout) == (1, "")
    assert (
        stderr
        == "Reading the site\nError: jsm-reconciler plan took more than 60 minutes, so it was stopped.\n"
    )
    assert "took more than 60 minutes" in capsys.readouterr().err


@pytest.mark.usefixtures("never_ending_cli")
def test_a_plan_that_outlives_its_timeout_is_a_failed_plan(tmp_path: Path) -> None:
    assert run_plan(_runner(tmp_path)) == 1
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "### jsm-reconciler plan failed for `sandbox` (`jsm`)" in summary
    assert "Error: jsm-reconciler plan took more than 60 minutes, so it was stopped." in summary
    assert "summary<<" in (tmp_path / "output.txt").read_text(encoding="utf-8")


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    app = FakeGitHub(token=TOKEN)
    with serve(app, lifetime=30) as url:
        yield app, url


@pytest.mark.parametrize(
    ("listed", "why"),
    [
        ({"body": "no id"}, "KeyError: 'id'"),
        ({"id": 5, "body": "x", "user": "mallory"}, "AttributeError: 'str' object has no attribute 'get'"),
        ({"id": "five", "body": "x"}, "ValueError: invalid literal for int() with base 10: 'five'"),
    ],
)
def test_an_answer_not_as_documented_is_a_warning_not_a_traceback(
    tmp_path: Path,
    github: tuple[FakeGitHub, str],
    capsys: pytest.CaptureFixture[str],
    listed: Any,
    why: str,
) -> None:
    app, url = github
    app.comments[NUMBER] = [listed]
    post_comment(_runner(tmp_path, url), NUMBER, f"{KEY_MARKER}\nthe plan\n", KEY_MARKER)
    out = capsys.readouterr().out
    assert out.startswith(
        f"::warning::Could not comment on pull request #{NUMBER}: GitHub's answer was not"
    ), out
    assert why in out, out
    assert TOKEN not in out


def test_the_error_lines_of_a_failed_run_leave_out_its_information_lines() -> None:
    """The drift note quoted 'Ignored JSM_EMAIL, JSM_API_TOKEN: ...' as the base branch's error."""
    stderr = (
        "Using the embedded sandbox site (state in s.json); set JSM_SITE to work on a Cloud site.\n"
        "Ignored JSM_EMAIL, JSM_API_TOKEN: the sandbox site uses its own credentials.\n"
        "::error file=jsm/a.yaml,line=3,col=5,title=manifest.invalid::products[0]: expected a mapping\n"
        "jsm/a.yaml:3:5: error[manifest.invalid]: products[0]: expected a mapping\n"
        "Error: the manifests have 1 error(s)\n"
    )
    assert error_lines(stderr).splitlines() == [
        "jsm/a.yaml:3:5: error[manifest.invalid]: products[0]: expected a mapping",
        "Error: the manifests have 1 error(s)",
    ]
    assert error_lines("it stopped\n") == "it stopped"  # no line reads as an error: all of them


def test_a_path_input_through_a_symbolic_link_loop_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """resolve() raised RuntimeError("Symlink loop") on Python 3.11: a traceback from the Action."""
    (tmp_path / "loop").symlink_to("loop")
    monkeypatch.chdir(tmp_path)
    runner = Runner({"GITHUB_WORKSPACE": str(tmp_path), "JSM_ACTION_PATH": "loop/jsm"})
    assert runner.outside_workspace() == (
        "the path input 'loop/jsm' goes through a symbolic link that loops: give the manifests' directory "
        "inside the checkout"
    )
