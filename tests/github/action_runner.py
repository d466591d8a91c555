"""Runs action.yml's steps locally, the way the GitHub runner runs a composite action.

Each `run:` step's script is executed by `bash --noprofile --norc -eo pipefail FILE` (the runner's
`shell: bash`), in the step's working directory, with the runner's environment plus the step's `env:`,
and with fresh GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, read back afterwards. `${{ }}` expressions are
evaluated for the contexts action.yml uses (inputs, github, steps). `uses:` steps are skipped; the test
supplies their outputs (setup-python's `python-path`).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load_action() -> dict[str, Any]:
    data = YAML(typ="safe", pure=True).load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def parse_file_commands(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT's format: `name=value` lines, or `name<<DELIM` ... `DELIM` blocks."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            collected: list[str] = []
            while lines[index] != delimiter:
                collected.append(lines[index])
                index += 1
            index += 1
            values[name] = "\n".join(collected)
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values


@dataclass
class StepResult:
    name: str
    skipped: bool
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""


@dataclass
class ActionRun:
    steps: list[StepResult]
    outputs: dict[str, str]

    @property
    def failed(self) -> bool:
        return any(s.returncode != 0 for s in self.steps)

    @property
    def summary(self) -> str:
        return "".join(s.summary for s in self.steps)

    @property
    def log(self) -> str:
        return "".join(s.stdout + s.stderr for s in self.steps)

    def step(self, step_id: str) -> StepResult:
        return next(s for s in self.steps if s.name == step_id)


class Contexts:
    def __init__(self, inputs: dict[str, str], github: dict[str, str]) -> None:
        self.inputs = inputs
        self.github = github
        self.steps: dict[str, dict[str, str]] = {}

    def value(self, expression: str) -> str:
        parts = expression.split(".")
        if parts[0] == "inputs" and len(parts) == 2:
            return self.inputs.get(parts[1], "")
        if parts[0] == "github" and len(parts) == 2:
            return self.github[parts[1]]
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return self.steps.get(parts[1], {}).get(parts[3], "")
        raise AssertionError(f"the test's evaluator does not know ${{{{ {expression} }}}}")

    def substitute(self, text: str) -> str:
        return EXPRESSION.sub(lambda match: self.value(match.group(1)), text)


def run_action(
    inputs: dict[str, str],
    *,
    runner_env: dict[str, str],
    workspace: Path,
    uses_outputs: dict[str, dict[str, str]],
    timeout: float = 120,
) -> ActionRun:
    """Run the action with `inputs` (the workflow's `with:`); returns each step's result and the outputs."""
    action = load_action()
    resolved_inputs = {}
    for name, spec in action["inputs"].items():
        default = str(spec.get("default", ""))
        resolved_inputs[name] = inputs.get(name, default)
    unknown = set(inputs) - set(resolved_inputs)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    contexts = Contexts(resolved_inputs, {"action_path": str(ROOT), "token": resolved_inputs["github-token"]})
    # A default like `${{ github.token }}` is itself an expression.
    contexts.inputs = {k: contexts.substitute(v) for k, v in resolved_inputs.items()}
    temp = Path(runner_env["RUNNER_TEMP"])
    results: list[StepResult] = []
    for number, step in enumerate(action["runs"]["steps"]):
        step_id = step.get("id", f"step{number}")
        if "uses" in step:
            contexts.steps[step_id] = dict(uses_outputs.get(step_id, {}))
            results.append(StepResult(step_id, skipped=True, outputs=contexts.steps[step_id]))
            continue
        assert "if" not in step, "the evaluator runs every run: step; a condition would need evaluating"
        assert step["shell"] == "bash"
        output_file = temp / f"_output_{number}"
        summary_file = temp / f"_summary_{number}"
        script = temp / f"_step_{number}.sh"
        output_file.write_text("")
        summary_file.write_text("")
        script.write_text(contexts.substitute(step["run"]))
        env = dict(runner_env)
        env |= {k: contexts.substitute(str(v)) for k, v in step.get("env", {}).items()}
        env |= {"GITHUB_OUTPUT": str(output_file), "GITHUB_STEP_SUMMARY": str(summary_file)}
        env["GITHUB_ACTION_PATH"] = str(ROOT)
        cwd = workspace / contexts.substitute(str(step.get("working-directory", ".")))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        outputs = parse_file_commands(output_file.read_text())
        contexts.steps[step_id] = outputs
        result = StepResult(
            step_id, False, done.returncode, done.stdout, done.stderr, outputs, summary_file.read_text()
        )
        results.append(result)
        if done.returncode != 0:
            break  # the runner stops a composite action at its first failing step
    outputs = {name: contexts.substitute(spec["value"]) for name, spec in action["outputs"].items()}
    return ActionRun(results, outputs)


def runner_environment(tmp: Path, *, event_name: str, event_path: Path, api_url: str) -> dict[str, str]:
    """The variables the runner sets for every step, plus PATH and HOME."""
    temp = tmp / "runner-temp"
    temp.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp / "home"),
        "LANG": "C.UTF-8",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_API_URL": api_url,
        "GITHUB_GRAPHQL_URL": f"{api_url}/graphql",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/jsm-config",
        "GITHUB_RUN_ID": "9876543210",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_JOB": "plan",
        "GITHUB_ACTOR": "octocat",
        "GITHUB_WORKSPACE": str(tmp / "repo"),
        "RUNNER_OS": "Linux",
        "RUNNER_TEMP": str(temp),
    }
