"""action.yml and the example workflows: the published schemas, zizmor, and the action's own rules."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.github.action_runner import ACTION, ROOT, load_action

BIN = Path(sys.executable).parent
WORKFLOWS = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
ZIZMOR_CONFIG = Path(__file__).parent / "zizmor.yml"
CONSTRAINTS = ROOT / "reconciler" / "github" / "constraints.txt"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_there_are_example_workflows() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"jsm-plan-apply.yml", "jsm-drift.yml", "jsm-multi-site.yml"} <= names


def test_action_matches_the_published_schema() -> None:
    done = _run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(ACTION))
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_match_the_published_schema() -> None:
    files = [str(p) for p in WORKFLOWS]
    done = _run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing_of_medium_severity_or_above() -> None:
    files = [str(ACTION), *(str(p) for p in WORKFLOWS)]
    done = _run(
        str(BIN / "zizmor"),
        "--offline",
        "--no-progress",
        "--config",
        str(ZIZMOR_CONFIG),
        "--min-severity",
        "medium",
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


def test_example_workflows_agree_and_explain_their_environments() -> None:
    """The same allow-delete choice everywhere, and every environment a job uses named in the header."""
    workflows = [*WORKFLOWS, ROOT / "examples" / "gitops" / ".github" / "workflows" / "jsm.yml"]
    for path in workflows:
        text = path.read_text(encoding="utf-8")
        header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
        assert set(re.findall(r"^\s+allow-delete: (.+)$", text, re.MULTILINE)) <= {'"false"'}, path.name
        if "allow-delete:" in text:
            assert 'allow-delete: "false"' in header and 'set it to "true"' in header, path.name
        for environment in re.findall(r"^\s+environment: ([^\s#]+)", text, re.MULTILINE):
            if "${{" in environment:  # jsm-${{ matrix.site }}: the header names each site's environment
                assert "GitHub environment" in header, path.name
            else:
                assert f"`{environment}`" in header, (path.name, environment)
