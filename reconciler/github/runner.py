"""Everything an Action run touches: its inputs (from action.yml's environment), the event, the runner's
files (outputs, job summary), the CLI run as a subprocess, and the action's one pull request comment."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.errors import Severity
from reconciler.files import resolved
from reconciler.github.api import UNEXPECTED_ANSWER, GitHubClient, GitHubError
from reconciler.plan.model import Plan
from reconciler.redaction import redactor
from reconciler.registry import KINDS
from reconciler.render.workflow_commands import command, inert

SECRET_NAMES = (
    "JSM_API_TOKEN",
    "JSM_OAUTH_TOKEN",
    "JSM_OAUTH_CLIENT_SECRET",
    "JSM_ACTION_GITHUB_TOKEN",
    "GITHUB_TOKEN",
)
# -I: run in the checkout, `-m` would import a `reconciler` package that a pull request adds there.
CLI = (sys.executable, "-I", "-m", "reconciler", "--no-color")
PLAN_TIMEOUT = 3600
_PR_EVENTS = ("pull_request", "pull_request_target")
COMMIT = re.compile(r"[0-9a-f]{40,64}")


def _truthy(value: str | None, default: bool = False) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("true", "1", "yes", "on")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "x"


@dataclass
class Inputs:
    command: str
    path: str
    site: str
    allow_delete: bool
    force: bool
    comment: bool
    apply_unreviewed: bool
    github_token: str = field(repr=False)
    has_credentials: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        site = env.get("JSM_SITE", "").strip()
        oauth = env.get("JSM_OAUTH_TOKEN", "").strip()
        basic = env.get("JSM_EMAIL", "").strip() and env.get("JSM_API_TOKEN", "").strip()
        client = env.get("JSM_OAUTH_CLIENT_ID", "").strip() and env.get("JSM_OAUTH_CLIENT_SECRET", "").strip()
        return cls(
            command=env.get("JSM_ACTION_COMMAND", "plan").strip() or "plan",
            path=env.get("JSM_ACTION_PATH", "").strip() or ".",
            site=site,
            allow_delete=_truthy(env.get("JSM_ACTION_ALLOW_DELETE")),
            force=_truthy(env.get("JSM_ACTION_FORCE")),
            comment=_truthy(env.get("JSM_ACTION_COMMENT"), default=True),
            apply_unreviewed=_truthy(env.get("JSM_ACTION_APPLY_UNREVIEWED")),
            github_token=env.get("JSM_ACTION_GITHUB_TOKEN", "").strip(),
            has_credentials=site == "sandbox" or bool(oauth) or bool(basic) or bool(client),
        )


class Runner:
    """Everything a run touches: the environment, the event, and the files the runner reads back."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.inputs = Inputs.from_env(env)
        self.redact = redactor(env.get(name, "").strip() for name in SECRET_NAMES)
        self.event_name = env.get("GITHUB_EVENT_NAME", "")
        self.event = self._load_event(env.get("GITHUB_EVENT_PATH", ""))
        temp_root = Path(env.get("RUNNER_TEMP") or tempfile.gettempdir())
        self.key = f"{self.inputs.site or 'no-site'} {self.inputs.path}"
        self.workdir = temp_root / "jsm-reconciler" / _slug(self.key)
        self.artifact = _slug(f"jsm-reconciler-plan-{env.get('GITHUB_JOB', 'job')}-{self.key}")[:120]

    # --- the runner's files ------------------------------------------------------------------------

    @staticmethod
    def _load_event(path: str) -> dict[str, Any]:
        if not path:
            return {}
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def say(self, text: str) -> None:
        """A line for the log, which no name in it can turn into a workflow command."""
        self._print(inert(self.redact(text)))

    def workflow_command(self, kind: str, text: str) -> None:
        self._print(command(kind, self.redact(text)))

    @staticmethod
    def _print(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def set_outputs(self, **values: str) -> None:
        target = self.env.get("GITHUB_OUTPUT")
        lines = []
        for name, value in values.items():
            delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
            lines.append(f"{name.replace('_', '-')}<<{delimiter}\n{self.redact(value)}\n{delimiter}\n")
        if target:
            with open(target, "a", encoding="utf-8") as handle:
                handle.writelines(lines)
        else:
            for name, value in values.items():
                self.say(f"{name.replace('_', '-')}={self.redact(value)}")

    def add_summary(self, markdown: str) -> None:
        target = self.env.get("GITHUB_STEP_SUMMARY")
        text = self.redact(markdown)
        if target:
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(text if text.endswith("\n") else text + "\n")
        else:
            self.say(text)

    def outside_workspace(self) -> str:
        """Why the run may not go ahead, when `working-directory` or `path` resolves outside the checkout
        (GITHUB_WORKSPACE), else "". A pull request can make either a symbolic link to outside it, and the
        runner follows the link: the manifests, the journal and the sandbox state would then be read and
        written there."""
        workspace = self.env.get("GITHUB_WORKSPACE", "")
        if not workspace:
            return ""
        checkout, here = Path(workspace).resolve(), Path.cwd().resolve()
        if not here.is_relative_to(checkout):
            return (
                "the working-directory input resolves to outside the checkout (GITHUB_WORKSPACE), through a "
                "symbolic link or `..`: give a directory of the checkout that is not a link to outside it"
            )
        manifests = resolved(here / self.inputs.path)
        if manifests is None:
            return (
                f"the path input {self.inputs.path!r} goes through a symbolic link that loops: give the "
                "manifests' directory inside the checkout"
            )
        if not manifests.is_relative_to(checkout):
            return (
                f"the path input {self.inputs.path!r} resolves to outside the checkout (GITHUB_WORKSPACE), "
                "through a symbolic link or `..`: give the manifests' directory inside the checkout"
            )
        return ""

    # --- the event -----------------------------------------------------------------------------------

    @property
    def pull_request(self) -> dict[str, Any] | None:
        pr = self.event.get("pull_request")
        return pr if self.event_name in _PR_EVENTS and isinstance(pr, dict) else None

    def commit_sha(self) -> str:
        """The commit this run is for: a push's new head, or GITHUB_SHA."""
        sha = str(self.event.get("after") or "") if self.event_name == "push" else ""
        return sha or self.env.get("GITHUB_SHA", "")

    def github(self) -> GitHubClient | None:
        """A client of the GitHub API with github-token, or None without a token or repository."""
        repository = self.env.get("GITHUB_REPOSITORY") or str(
            (self.event.get("repository") or {}).get("full_name") or ""
        )
        if not self.inputs.github_token or not repository:
            return None
        api_url = self.env.get("GITHUB_API_URL") or "https://api.github.com"
        graphql = self.env.get("GITHUB_GRAPHQL_URL", "")
        return GitHubClient(api_url, self.inputs.github_token, repository, graphql=graphql)

    def secrets_withheld(self) -> bool:
        """GitHub gives no secrets to pull requests from forks, nor to Dependabot's."""
        pr = self.pull_request
        if pr is None:
            return False
        head_repo = (pr.get("head") or {}).get("repo") or {}
        base_repo = (pr.get("base") or {}).get("repo") or {}
        from_fork = bool(head_repo.get("fork")) or (
            bool(head_repo.get("full_name")) and head_repo.get("full_name") != base_repo.get("full_name")
        )
        return from_fork or self.env.get("GITHUB_ACTOR") == "dependabot[bot]"

    def run_url(self) -> str:
        server = self.env.get("GITHUB_SERVER_URL", "https://github.com")
        repository, run_id = self.env.get("GITHUB_REPOSITORY", ""), self.env.get("GITHUB_RUN_ID", "")
        if not (repository and run_id):
            return ""
        attempt = self.env.get("GITHUB_RUN_ATTEMPT", "")
        return f"{server}/{repository}/actions/runs/{run_id}" + (f"/attempts/{attempt}" if attempt else "")

    # --- the CLI ----------------------------------------------------------------------------------------

    def cli_env(self, *, annotations: bool = True) -> dict[str, str]:
        env = {k: v for k, v in self.env.items() if not (k.startswith("JSM_") and not v.strip())}
        env = {k: v for k, v in env.items() if k not in ("JSM_ACTION_GITHUB_TOKEN", "GITHUB_TOKEN")}
        if not annotations:
            env.pop("GITHUB_ACTIONS", None)
        return env

    def cli(
        self, args: Sequence[str], *, cwd: Path | None = None, annotations: bool = True, echo: bool = True
    ) -> tuple[int, str, str]:
        """Run the CLI; its output is echoed to the log (redacted) unless `echo` is off. Told GITHUB_ACTIONS
        (`annotations`), the CLI prints nothing but its annotations that can be a workflow command. A run
        that takes longer than PLAN_TIMEOUT is stopped and fails (exit code 1) with a message that says so."""
        try:
            done = subprocess.run(
                [*CLI, *args],
                env=self.cli_env(annotations=annotations),
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=PLAN_TIMEOUT,
                check=False,
            )
            exit_code, stdout, stderr = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as exc:
            minutes = PLAN_TIMEOUT // 60
            stopped = f"Error: jsm-reconciler {args[0]} took more than {minutes} minutes, so it was stopped."
            exit_code, stdout, stderr = 1, _text(exc.stdout), f"{_text(exc.stderr)}{stopped}\n"
        stdout, stderr = self.redact(stdout), self.redact(stderr)
        if echo:
            sys.stdout.write(stdout if annotations else inert(stdout))
            sys.stdout.flush()
            sys.stderr.write(stderr if annotations else inert(stderr))
            sys.stderr.flush()
        return exit_code, stdout, stderr

    def plan(
        self, path: str, out: Path, *, cwd: Path | None = None, annotations: bool = True, echo: bool = True
    ) -> tuple[int, str]:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.unlink(missing_ok=True)
        args = ["plan", path, "--out", str(out), "--detailed-exitcode"]
        if self.inputs.force:
            args.append("--force")
        code, _stdout, stderr = self.cli(args, cwd=cwd, annotations=annotations, echo=echo)
        return code, stderr


def _text(output: bytes | str | None) -> str:
    """What a stopped CLI had printed: TimeoutExpired holds it as bytes even for a text run."""
    if isinstance(output, bytes):
        return output.decode("utf-8", errors="replace")
    return output or ""


# What the CLI writes on stderr for an error: `Error: ...`, `Internal error: ...`, or a diagnostic
# (`file:line:col: error[code]: ...`). Its other lines there say what it does (the sandbox it uses, the
# credentials it ignored), and a note quoting "the error" must not quote one of them.
_ERROR_LINE = re.compile(r"^(?:Error|Internal error):|\berror\[")


def error_lines(stderr: str) -> str:
    """The CLI's error lines on stderr, or all its lines when none reads as an error."""
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("::")]
    errors = [line for line in lines if _ERROR_LINE.search(line)]
    return "\n".join((errors or lines)[:200])


def plan_failure(plan_file: Path, stderr: str) -> tuple[list[str], str]:
    """The errors that stopped a plan, and a sentence on them. A plan that was made and has errors (a
    threshold, an unknown group) names them in its file; the manifests' errors are on stderr."""
    if plan_file.exists():
        errors = [d.format() for d in load_plan(plan_file).diagnostics if d.severity is Severity.ERROR]
        if errors:
            return errors, "The plan has errors; nothing can be applied until they are resolved."
    lines = error_lines(stderr).splitlines() or ["the plan failed (see the log)"]
    if any(line.startswith("::error file=") for line in stderr.splitlines()):
        return lines, "The plan failed; the manifest errors are also annotated on the files."
    return lines, "The plan failed."


def load_plan(path: Path) -> Plan:
    return Plan.from_json(json.loads(path.read_text(encoding="utf-8")), KINDS)


def counts_text(plan: Plan) -> str:
    return ", ".join(f"{n} to {action}" for action, n in plan.counts.items())


def pr_number(runner: Runner, pr: Mapping[str, Any]) -> int | None:
    number = pr.get("number") or runner.event.get("number")
    return number if isinstance(number, int) else None


def post_comment(runner: Runner, number: int | None, body: str, key_marker: str) -> None:
    """Create or update the action's own comment that starts with `key_marker` on pull request `number`."""
    if not runner.inputs.comment:
        return
    if number is None:
        runner.workflow_command("warning", "No pull request comment: the event names no pull request.")
        return
    client = runner.github()
    if client is None:
        runner.workflow_command("warning", "No pull request comment: github-token is empty.")
        return
    if not body.startswith(key_marker):
        body = f"{key_marker}\n{body}"
    try:
        owner = client.viewer()
        verb, comment = client.upsert_comment(number, key_marker, runner.redact(body), owner)
    except GitHubError as exc:
        runner.workflow_command(
            "warning",
            f"Could not comment on pull request #{number}: {exc}. "
            "Give the job `permissions: pull-requests: write`.",
        )
        return
    except UNEXPECTED_ANSWER as exc:
        runner.workflow_command(
            "warning",
            f"Could not comment on pull request #{number}: GitHub's answer was not as documented "
            f"({type(exc).__name__}: {exc}).",
        )
        return
    finally:
        client.close()
    runner.say(f"{verb.capitalize()} the plan comment on pull request #{number} (id {comment.id}).")
