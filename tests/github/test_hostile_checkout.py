"""A pull request runs none of its own code in the action (issue 20): action.yml's steps, run as the runner
runs them, in a checkout that adds a `reconciler` package of its own, import only the installed tool."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from tests.github.action_runner import load_action
from tests.github.fake_github import FakeGitHub
from tests.github.runner_commands import meant_commands
from tests.github.test_action_run import PLAN_INPUTS, PR_PRODUCTS, Workspace, _git, github

__all__ = ["github"]  # the fake GitHub API, a fixture

# Any of these, imported from the checkout, leaves a file `ran` beside itself and says so in the log.
HOSTILE = """import pathlib, os
with open(pathlib.Path(__file__).with_name("ran"), "a") as ran:
    ran.write(__name__ + " " + os.environ.get("JSM_API_TOKEN", "") + "\\n")
print("::warning::the pull request's code ran")
"""
HOSTILE_MODULES = (
    "reconciler/__init__.py",
    "reconciler/__main__.py",
    "reconciler/github/__init__.py",
    "reconciler/github/__main__.py",
    "sitecustomize.py",
    "usercustomize.py",
)
LEAKED = "ghs_" + "Vb8Nc1Kd6Rf3Tg5Hj0Ws2Ya9Ue7Qx2Lm9Pz4"
# `"$PYTHON" -m pip`, `"$python" -m venv`, `"$JSM_RECONCILER_PYTHON" -I -m reconciler.github`: the word after
# an interpreter.
INTERPRETER_CALL = re.compile(r'"\$(PYTHON|python|JSM_RECONCILER_PYTHON)"\s+(\S+)')


def test_the_checkouts_python_package_does_not_run(tmp_path: Path, github: tuple[FakeGitHub, str]) -> None:
    app, url = github
    ws = Workspace(tmp_path, url)
    for module in HOSTILE_MODULES:
        ws.commit(module, HOSTILE)
    ws.commit("jsm/products.yaml", PR_PRODUCTS)
    run = ws.run(PLAN_INPUTS, event=ws.pull_request_event(number=31))
    assert not run.failed, run.log
    assert list(ws.repo.rglob("ran")) == []
    assert "the pull request's code ran" not in run.log
    # The installed tool ran: its plan is on the pull request.
    [body] = app.bodies(31)
    assert "+ products/PR Widget" in body
    # And the apply job, on push (unreviewed: this test's push comes from no pull request).
    inputs = PLAN_INPUTS | {"command": "apply", "allow-delete": "true", "apply-unreviewed": "true"}
    applied = ws.run(inputs, event_name="push")
    assert not applied.failed, applied.log
    assert list(ws.repo.rglob("ran")) == []


def test_a_manifest_reads_no_credential_into_plan_comment_or_log(
    tmp_path: Path, github: tuple[FakeGitHub, str]
) -> None:
    """The issue's attack: `${JSM_API_TOKEN}` and `${JSM_EMAIL}` in a name, which reached the plan JSON
    artifact, the site, the comment, the summary and the log."""
    app, url = github
    ws = Workspace(tmp_path, url)
    leak = 'version: 1\nproducts:\n  - name: "leak ${JSM_API_TOKEN}"\n  - name: "mail ${JSM_EMAIL}"\n'
    ws.commit("jsm/leak.yaml", leak)
    run = ws.run(PLAN_INPUTS, event=ws.pull_request_event(number=35))
    assert run.failed and run.outputs["plan-json"] == ""
    assert "::error file=jsm/leak.yaml,line=3,col=17,title=manifest.variable_not_allowed::" in run.log
    assert "::error file=jsm/leak.yaml,line=4,col=17,title=manifest.variable_not_allowed::" in run.log
    [body] = app.bodies(35)
    for text in (body, run.summary, run.log, ws.state.read_text(), *_files_under(tmp_path / "runner-temp")):
        assert SANDBOX_API_TOKEN not in text and SANDBOX_EMAIL not in text


def test_a_link_to_a_credential_file_reaches_neither_comment_nor_log(
    tmp_path: Path, github: tuple[FakeGitHub, str]
) -> None:
    """The issue's attack: jsm/ links to the runner's git credentials, whose text an error used to quote."""
    app, url = github
    ws = Workspace(tmp_path, url)
    credentials = tmp_path / "home" / ".git-credentials"
    credentials.write_text(f"https://x-access-token:{LEAKED}@github.com\n")
    (ws.repo / "jsm" / "credentials.yaml").symlink_to(credentials)
    ws.commit("jsm/products.yaml", PR_PRODUCTS)
    run = ws.run(PLAN_INPUTS, event=ws.pull_request_event(number=32))
    assert run.failed
    assert "::error file=jsm/credentials.yaml,line=1,col=1,title=manifest.symlink::" in run.log
    [body] = app.bodies(32)
    assert "jsm/credentials.yaml:1:1: error[manifest.symlink]" in body
    for text in (body, run.log, run.summary):
        assert LEAKED[:12] not in text and "x-access-token" not in text and str(credentials) not in text


def test_file_and_object_names_start_no_workflow_command_in_the_action(
    tmp_path: Path, github: tuple[FakeGitHub, str]
) -> None:
    """The issue's attack: manifest files named with a line break and a workflow command, and object names
    that hold one. Only the tool's own annotations are commands; none of them is switched off."""
    _app, url = github
    ws = Workspace(tmp_path, url)
    names = ["a\n::warning title=fake::from a file name.yaml", "b\n::stop-commands::x\n.yaml"]
    for name in names:
        ws.commit(f"jsm/{name}", "version: 1\nproducts:\n  - name: A\n    colour: red\n")
    run = ws.run(PLAN_INPUTS, event=ws.pull_request_event(number=33))
    assert run.failed
    meant = [
        command for step in run.steps for out in (step.stdout, step.stderr) for command in meant_commands(out)
    ]
    assert sorted((c.name, c.properties.get("file")) for c in meant) == [("error", f"jsm/{n}") for n in names]
    # Names of objects on a plan that succeeds: shown in the log, never run.
    (ws.repo / "jsm" / names[0]).unlink()
    (ws.repo / "jsm" / names[1]).unlink()
    hostile = PR_PRODUCTS + '  - name: "::warning::from a name"\n  - name: "x ##[error]older form"\n'
    ws.commit("jsm/products.yaml", hostile)
    run = ws.run(PLAN_INPUTS, event=ws.pull_request_event(number=34))
    assert not run.failed, run.log
    assert "::warning::from a name" in run.log and "x ##[error]older form" in run.log
    assert [c for step in run.steps for out in (step.stdout, step.stderr) for c in meant_commands(out)] == []


def _files_under(directory: Path) -> list[str]:
    return [path.read_text(errors="replace") for path in directory.rglob("*") if path.is_file()]


def test_every_python_the_action_runs_is_isolated() -> None:
    """-I in every step: even pip and venv, run in the checkout, would import a `pip` or `venv` it adds."""
    scripts = [str(step["run"]) for step in load_action()["runs"]["steps"] if "run" in step]
    calls = [match for script in scripts for match in INTERPRETER_CALL.finditer(script)]
    assert len(calls) >= 5
    assert [match.group(0) for match in calls if match.group(2) != "-I"] == []


@pytest.mark.parametrize(
    ("link", "inputs"),
    [
        ("infra", {"working-directory": "infra", "path": "jsm"}),
        ("deploy", {"path": "deploy/jsm"}),
    ],
)
def test_a_working_directory_or_path_linked_out_of_the_checkout_is_refused(
    tmp_path: Path, github: tuple[FakeGitHub, str], link: str, inputs: dict[str, str]
) -> None:
    """A pull request makes `infra` (or `deploy`) a link to outside the checkout; the runner follows it."""
    app, url = github
    ws = Workspace(tmp_path, url)
    outside = tmp_path / "outside"
    (outside / "jsm").mkdir(parents=True)
    (outside / "jsm" / "x.yaml").write_text(f'version: 1\nproducts:\n  - name: "{LEAKED}"\n')
    (ws.repo / link).symlink_to("../outside", target_is_directory=True)
    _git(ws.repo, "add", "-A")
    _git(ws.repo, "commit", "-q", "-m", "link")
    run = ws.run(PLAN_INPUTS | inputs, event=ws.pull_request_event(number=43))
    assert run.failed and run.outputs["summary"] == "error"
    assert "::error::jsm-reconciler: the " in run.log and "resolves to outside the checkout" in run.log
    assert LEAKED not in run.log + run.summary + "".join(app.bodies(43))
    assert sorted(path.name for path in outside.rglob("*")) == ["jsm", "x.yaml"]  # nothing written there
