"""action.yml and the example workflows: the published schemas, zizmor, and the action's own rules."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from ruamel.yaml import YAML

from tests.github.action_runner import ACTION, ROOT, load_action

BIN = Path(sys.executable).parent
GITOPS_WORKFLOW = ROOT / "examples" / "gitops" / ".github" / "workflows" / "jsm.yml"
WORKFLOWS = [*sorted((ROOT / "examples" / "workflows").glob("*.yml")), GITOPS_WORKFLOW]
ZIZMOR_CONFIG = Path(__file__).parent / "zizmor.yml"
CONSTRAINTS = ROOT / "reconciler" / "github" / "constraints.txt"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_there_are_example_workflows() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"jsm-plan-apply.yml", "jsm-drift.yml", "jsm-multi-site.yml", "jsm.yml"} <= names


def test_action_matches_the_published_schema() -> None:
    done = _run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(ACTION))
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_match_the_published_schema() -> None:
    files = [str(p) for p in WORKFLOWS]
    done = _run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("persona", ["regular", "auditor"])
def test_zizmor_finds_nothing(persona: str) -> None:
    """Nothing at all, even for the auditor persona; what is left is ignored where it stands, with why."""
    files = [str(ACTION), *(str(p) for p in WORKFLOWS)]
    done = _run(
        str(BIN / "zizmor"),
        "--offline",
        "--no-progress",
        "--persona",
        persona,
        "--config",
        str(ZIZMOR_CONFIG),
        "--format",
        "plain",
        *files,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout, done.stdout + done.stderr
    for path in files:  # every input was audited, none skipped as unparsable
        assert re.search(rf"completed \S*{re.escape(Path(path).name)}", done.stderr), done.stderr


def test_inputs_reach_scripts_only_through_env() -> None:
    """No `${{ }}` inside `run:` (template injection); credentials only as JSM_* variables."""
    action = load_action()
    steps = action["runs"]["steps"]
    for step in steps:
        assert "${{" not in step.get("run", ""), step
    run_step = next(s for s in steps if s.get("id") == "run")
    assert run_step["env"]["JSM_API_TOKEN"] == "${{ inputs.api-token }}"
    assert run_step["env"]["JSM_OAUTH_TOKEN"] == "${{ inputs.oauth-token }}"
    assert run_step["env"]["JSM_SCOPED_TOKEN"] == "${{ inputs.scoped-token }}"
    assert run_step["env"]["JSM_SITE"] == "${{ inputs.site }}"
    text = ACTION.read_text()
    for secret_input in ("api-token", "oauth-token", "scoped-token", "github-token", "email"):
        uses = re.findall(rf"\$\{{\{{\s*inputs\.{secret_input}\s*\}}\}}", text)
        assert len(uses) == 1, secret_input  # only in the run step's env
    for name in (
        "command",
        "path",
        "site",
        "email",
        "api-token",
        "oauth-token",
        "scoped-token",
        "allow-delete",
        "force",
        "comment",
        "apply-unreviewed",
        "github-token",
        "working-directory",
    ):
        assert name in action["inputs"], name
    assert set(action["outputs"]) == {"has-changes", "plan-json", "summary", "exit-code"}


def test_third_party_actions_are_pinned_by_sha() -> None:
    for path in [ACTION, *WORKFLOWS]:
        for ref in re.findall(r"uses:\s*(\S+)", path.read_text()):
            if ref.startswith("jsm-reconciler/jsm-reconciler@"):
                continue  # the documented placeholder for this action
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), (path.name, ref)


def test_every_dependency_is_pinned_for_the_action() -> None:
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            pins[canonicalize_name(requirement.name)] = requirement
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for dependency in project["dependencies"]:
        wanted = Requirement(dependency)
        pin = pins.get(canonicalize_name(wanted.name))
        assert pin is not None, f"{wanted.name} is not pinned in {CONSTRAINTS.name}"
        version = next(iter(pin.specifier)).version
        assert wanted.specifier.contains(version), f"{pin} does not satisfy {wanted}"


def test_check_script_runs_the_same_checks() -> None:
    script = (ROOT / "scripts" / "check-action.sh").read_text()
    assert "vendor.github-actions" in script and "vendor.github-workflows" in script and "zizmor" in script
    assert "auditor" in script and "examples/gitops/.github/workflows/jsm.yml" in script


def _environments(job: dict[str, Any]) -> set[str]:
    """The environments a job runs in, one for each value of a matrix the name is made from."""
    name = job.get("environment")
    if name is None:
        return set()
    matrix = job.get("strategy", {}).get("matrix", {})
    names = {name}
    for key, values in matrix.items():
        names = {n.replace(f"${{{{ matrix.{key} }}}}", str(v)) for n in names for v in values}
    assert not any("${{" in n for n in names), (name, matrix)
    return names


def _jobs_running(command: str, path: Path) -> list[dict[str, Any]]:
    jobs = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))["jobs"].values()
    return [job for job in jobs if any(s.get("with", {}).get("command") == command for s in job["steps"])]


def test_example_workflows_agree_and_explain_their_environments() -> None:
    """The same allow-delete choice everywhere, and every environment a job uses named in the header."""
    for path in WORKFLOWS:
        text = path.read_text(encoding="utf-8")
        header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
        assert set(re.findall(r"^\s+allow-delete: (.+)$", text, re.MULTILINE)) <= {'"false"'}, path.name
        if "allow-delete:" in text:
            assert 'allow-delete: "false"' in header and 'set it to "true"' in header, path.name
        jobs = YAML(typ="safe", pure=True).load(text)["jobs"].values()
        for environment in set().union(*(_environments(job) for job in jobs)):
            assert f"`{environment}`" in header, (path.name, environment)


def test_plan_jobs_get_nothing_that_writes() -> None:
    """A pull request's plan runs its author's manifests: its environment is never the apply's, and the
    token there is one with scopes (read only)."""
    for path in WORKFLOWS:
        applying = set().union(*(_environments(job) for job in _jobs_running("apply", path)))
        for job in _jobs_running("plan", path):
            environments = _environments(job)
            assert not environments & applying, (path.name, environments & applying)
            if environments:
                plan_step = next(s for s in job["steps"] if s.get("with", {}).get("command") == "plan")
                assert plan_step["with"].get("scoped-token") == "true", path.name


def test_apply_jobs_may_read_the_review_and_post_the_refusal() -> None:
    """apply finds the merged pull request, reads the reviewed plan from the action's comment, and posts the
    new plan there when it has changed: its job needs `pull-requests: write`."""
    for path in WORKFLOWS:
        for name, job in YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))["jobs"].items():
            commands = [step.get("with", {}).get("command") for step in job["steps"]]
            if "apply" in commands:
                assert job["permissions"].get("pull-requests") == "write", (path.name, name)


def test_examples_and_docs_agree_on_pinning_and_say_why() -> None:
    """The examples and the docs name this action by the same tag, each time with the reason, and tell to
    pin a commit SHA instead."""
    docs_path = ROOT / "docs" / "github-action.md"
    docs = docs_path.read_text(encoding="utf-8")
    for path in [*WORKFLOWS, docs_path]:
        text = path.read_text(encoding="utf-8")
        # As an action (`uses:`), or as the package a workflow installs with pip (the access audit's).
        uses = re.findall(
            r"(?:uses: |git\+https://github\.com/)jsm-reconciler/jsm-reconciler@([^\s\"]+)\"?(.*)", text
        )
        assert uses, path
        for ref, comment in uses:
            if path == docs_path and (ref, comment) == ("<40-hex-sha>", " # v1"):
                continue  # Pinning's own example of what to write instead
            assert ref == "v1", (path, ref)
            assert "a tag until a release commit exists: pin a SHA" in comment, (path, comment)
    for path in WORKFLOWS:
        header = "".join(line for line in path.read_text().splitlines(keepends=True) if line.startswith("#"))
        assert "has no release commit to point at yet" in header and "@<40-hex-sha> # v1" in header, path
    assert "has no release commit to point at yet" in docs and "@<40-hex-sha> # v1" in docs


def test_every_input_is_documented_and_scoped_token_is_shown() -> None:
    docs = (ROOT / "docs" / "github-action.md").read_text(encoding="utf-8")
    for name in load_action()["inputs"]:
        assert re.search(rf"^\| `{re.escape(name)}` \|", docs, re.MULTILINE), name
    assert any('scoped-token: "true"' in p.read_text() for p in WORKFLOWS)
    assert 'scoped-token: "true"' in docs


def test_docs_say_what_a_branch_of_the_repository_can_reach() -> None:
    """A pull request from a branch of the repository runs its own workflows: the docs tell to keep the
    apply environment to the default branch, to have `.github/workflows/` reviewed, and whom the comment
    check trusts."""
    docs = (ROOT / "docs" / "github-action.md").read_text(encoding="utf-8")
    permissions = docs.split("## Permissions", 1)[1].split("\n## ", 1)[0]
    assert "Deployment branches and tags" in permissions and "only the default branch" in permissions
    assert "CODEOWNERS" in permissions and "`.github/workflows/`" in permissions
    threats = docs.split("## What a pull request author can and cannot do", 1)[1].split("\n## ", 1)[0]
    threats = " ".join(threats.split())  # whatever the line breaks
    assert "trusts any workflow of the repository that runs with `GITHUB_TOKEN`" in threats
    assert "GitHub App installation token" in threats


def test_the_python_floor_has_the_tarfile_filters_and_is_stated_alike() -> None:
    """The base branch's manifests are extracted with `filter="data"`, which came in Python 3.11.4."""
    floor = SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"])
    assert "3.11.3" not in floor and "3.11.4" in floor
    assert "(3.11.4 or later)" in load_action()["inputs"]["python-version"]["description"]
    for page in ("docs/github-action.md", "docs/cli.md", "README.md", "examples/gitops/README.md"):
        assert "3.11.4 or later" in (ROOT / page).read_text(encoding="utf-8"), page
