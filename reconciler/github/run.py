"""The GitHub Action's entry point: `python -m reconciler.github`, run by action.yml's main step.

It reads its inputs from the environment that action.yml sets (JSM_ACTION_*; credentials only as JSM_SITE,
JSM_EMAIL, JSM_API_TOKEN, JSM_OAUTH_TOKEN, JSM_OAUTH_CLIENT_ID and _SECRET, JSM_SCOPED_TOKEN), runs the CLI
as a subprocess (`plan --out`, and for apply `apply --plan --expect-digest`), then writes GITHUB_OUTPUT,
GITHUB_STEP_SUMMARY and, on a pull request, the one comment.

Merge applies what was reviewed (CLI.md, "The GitHub Action binds merge to review"): on a pull request the
comment carries the plan's changesDigest and the head commit; apply finds the pull request its commit merged,
reads that digest back from the action's own comment, and applies only a plan with the same digest. A merge
queue's run (`merge_group`) plans what will land and shows it in the job summary; it neither comments nor
applies, and it does not compare with the review: the queue's commit also holds the pull requests ahead in
the queue, whose applies have not run yet.

Exit status: 0 when the plan or apply succeeded (also when a fork's pull request had no secrets and the
plan was skipped), 1 otherwise.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.errors import Severity
from reconciler.github.api import GitHubClient, GitHubError
from reconciler.github.comment import (
    COMMENT_BUDGET,
    SUMMARY_BUDGET,
    DriftSplit,
    Links,
    Report,
    ReviewMark,
    changed_marker,
    marker,
    render_report,
    render_skipped,
    split_drift,
)
from reconciler.plan.model import Plan
from reconciler.redaction import redactor
from reconciler.registry import KINDS
from reconciler.render.markdown import code, fenced
from reconciler.render.plan import summary_line
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
GIT_TIMEOUT = 120
_PR_EVENTS = ("pull_request", "pull_request_target")
_COMMIT = re.compile(r"[0-9a-f]{40,64}")
_OUTCOME = re.compile(
    r"Apply (complete|incomplete): \d+ applied, \d+ failed, \d+ skipped\."
    r"( Run plan to see what remains; apply again to finish\.)?"
)


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
        (`annotations`), the CLI prints nothing but its annotations that can be a workflow command."""
        done = subprocess.run(
            [*CLI, *args],
            env=self.cli_env(annotations=annotations),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=PLAN_TIMEOUT,
            check=False,
        )
        stdout, stderr = self.redact(done.stdout), self.redact(done.stderr)
        if echo:
            sys.stdout.write(stdout if annotations else inert(stdout))
            sys.stdout.flush()
            sys.stderr.write(stderr if annotations else inert(stderr))
            sys.stderr.flush()
        return done.returncode, stdout, stderr

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


def _error_lines(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("::")]
    lines = [line for line in lines if not line.startswith("Using the embedded sandbox site")]
    return "\n".join(lines[:200])


def _plan_failure(plan_file: Path, stderr: str) -> tuple[list[str], str]:
    """The errors that stopped a plan, and a sentence on them. A plan that was made and has errors (a
    threshold, an unknown group) names them in its file; the manifests' errors are on stderr."""
    if plan_file.exists():
        errors = [d.format() for d in _load_plan(plan_file).diagnostics if d.severity is Severity.ERROR]
        if errors:
            return errors, "The plan has errors; nothing can be applied until they are resolved."
    lines = _error_lines(stderr).splitlines() or ["the plan failed (see the log)"]
    if any(line.startswith("::error file=") for line in stderr.splitlines()):
        return lines, "The plan failed; the manifest errors are also annotated on the files."
    return lines, "The plan failed."


def _load_plan(path: Path) -> Plan:
    return Plan.from_json(json.loads(path.read_text(encoding="utf-8")), KINDS)


def _counts_text(plan: Plan) -> str:
    return ", ".join(f"{n} to {action}" for action, n in plan.counts.items())


# --- the base branch ------------------------------------------------------------------------------------


def _git(args: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT, check=False)


def _commit_exists(sha: str) -> bool:
    return bool(sha) and _git(["cat-file", "-e", f"{sha}^{{commit}}"]).returncode == 0


def base_commit(pr: Mapping[str, Any]) -> tuple[str, str]:
    """The base branch's commit to plan: (sha, how it was found), or ("", why not)."""
    if _git(["rev-parse", "--is-inside-work-tree"]).returncode != 0:
        return "", "the working directory is not a git checkout"
    sha = str((pr.get("base") or {}).get("sha") or "")
    if _commit_exists(sha):
        return sha, ""
    if (
        sha
        and _git(["fetch", "--no-tags", "--depth=1", "origin", sha]).returncode == 0
        and _commit_exists(sha)
    ):
        return sha, ""
    # actions/checkout of a pull request checks out GitHub's merge commit; its first parent is the base.
    parents = _git(["rev-list", "--parents", "-n", "1", "HEAD"]).stdout.decode().split()
    if len(parents) == 3 and _commit_exists(parents[1]):
        return parents[1], "first parent of the merge commit"
    advice = "use actions/checkout with fetch-depth: 2"
    return "", f"the base commit {code(sha[:12])} is not in the checkout ({advice})"


def extract_base(sha: str, path: str, into: Path) -> Path | None:
    """Write the base commit's files under `path` (relative to the working directory) into `into`.

    Returns the path to plan there, or None when `path` does not exist on the base commit."""
    top = Path(_git(["rev-parse", "--show-toplevel"]).stdout.decode().strip())
    target = (Path.cwd() / path).resolve()
    try:
        relative = target.relative_to(top.resolve())
    except ValueError:
        return None
    spec = relative.as_posix() if str(relative) != "." else "."
    archive = _git(["-C", str(top), "archive", "--format=tar", sha, "--", spec])
    if archive.returncode != 0:
        return None
    into.mkdir(parents=True, exist_ok=True)
    tar_path = into.parent / f"{into.name}.tar"
    tar_path.write_bytes(archive.stdout)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    tar_path.unlink()
    planned = into / relative
    return planned if planned.exists() else None


# --- the commands ------------------------------------------------------------------------------------


def run_plan(runner: Runner) -> int:
    inputs = runner.inputs
    plan_file = runner.workdir / "plan.json"
    exit_code, stderr = runner.plan(inputs.path, plan_file)
    pr = runner.pull_request
    links = Links(run_url=runner.run_url(), artifact=runner.artifact)
    if exit_code not in (0, 2) or not plan_file.exists():
        errors, why = _plan_failure(plan_file, stderr)
        body = "\n".join(
            [
                f"### jsm-reconciler plan failed for {code(inputs.site)} ({code(inputs.path)})",
                "",
                "> [!CAUTION]",
                f"> {why}",
                "",
                *fenced(errors, "text"),
                "",
            ]
        )
        runner.add_summary(body)
        runner.set_outputs(
            has_changes="false",
            plan_json=str(plan_file) if plan_file.exists() else "",
            summary="error",
            exit_code=str(exit_code or 1),
            artifact_name=runner.artifact if plan_file.exists() else "",
        )
        if pr is not None:
            pointer = Links(run_url=links.run_url).pointer().replace("full plan", "log")
            post_comment(runner, _number(runner, pr), f"{body}\n<sub>{pointer}</sub>\n", marker(runner.key))
        return 1
    plan = _load_plan(plan_file)
    split = None
    base_ref = ""
    banner = ""
    mark = None
    if pr is not None:
        base_ref = str((pr.get("base") or {}).get("ref") or "")
        split = plan_base(runner, pr, plan)
        head = str((pr.get("head") or {}).get("sha") or "")
        if _COMMIT.fullmatch(head):
            mark = ReviewMark(head, plan.changes_digest)
            banner = review_banner(mark)
    elif runner.event_name == "merge_group":
        banner = _merge_queue_banner(runner)
    report = Report(plan, plan.diagnostics, split, inputs.path, base_ref, links, banner)
    runner.add_summary(render_report(report, budget=SUMMARY_BUDGET))
    runner.set_outputs(
        has_changes="true" if plan.changes else "false",
        plan_json=str(plan_file),
        summary=_counts_text(plan),
        exit_code=str(exit_code),
        artifact_name=runner.artifact,
    )
    runner.say(summary_line(plan))
    if pr is not None:
        hidden = marker(runner.key) + (f"\n{mark.hidden()}" if mark else "")
        body = render_report(report, budget=COMMENT_BUDGET, marker_line=hidden)
        post_comment(runner, _number(runner, pr), body, marker(runner.key))
    return 0


def _merge_queue_banner(runner: Runner) -> str:
    group = runner.event.get("merge_group") or {}
    head = str(group.get("head_sha") or runner.env.get("GITHUB_SHA", ""))
    base = str(group.get("base_ref") or "").removeprefix("refs/heads/")
    onto = f" onto {code(base)}" if base else ""
    return (
        "> [!NOTE]\n"
        f"> Merge queue: the plan of commit {code(head[:12])}, what will land{onto} (with the pull requests "
        "ahead in the queue). Nothing is applied here; after the merge, apply compares its plan with the "
        "one reviewed on the pull request."
    )


def plan_base(runner: Runner, pr: Mapping[str, Any], plan: Plan) -> DriftSplit:
    """Plan the base branch's manifests against the same site, to tell this PR's changes from drift."""
    sha, how = base_commit(pr)
    if not sha:
        return split_drift(plan, None, note=how)
    base_dir = runner.workdir / "base"
    extracted = extract_base(sha, runner.inputs.path, base_dir / "tree")
    if extracted is None:
        note = f"the manifests are new: {code(runner.inputs.path)} does not exist on the base branch"
        return split_drift(plan, Plan(site=plan.site, changes=()), note=note)
    exit_code, stderr = runner.plan(str(extracted), base_dir / "plan.json", annotations=False, echo=False)
    if exit_code not in (0, 2):
        first = (_error_lines(stderr).splitlines() or ["it failed"])[0]
        return split_drift(plan, None, note=f"the base branch's manifests did not plan ({code(first)})")
    return split_drift(plan, _load_plan(base_dir / "plan.json"), note=drift_note(sha, how))


def drift_note(sha: str, how: str = "") -> str:
    """Under the counts: which base commit the drift was told apart with."""
    return (
        f"Drift: the base commit {code(sha[:12])}{f' ({how})' if how else ''} planned against the same site."
    )


def _number(runner: Runner, pr: Mapping[str, Any]) -> int | None:
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
    finally:
        client.close()
    runner.say(f"{verb.capitalize()} the plan comment on pull request #{number} (id {comment.id}).")


@dataclass(frozen=True)
class Review:
    """The plan that reviewers of the merged pull request saw: the one posted for its final head commit."""

    number: int | None = None  # the pull request this commit merged
    head: str = ""  # its final head commit
    mark: ReviewMark | None = None
    problem: str = ""  # markdown: why there is no reviewed plan to apply


def find_review(runner: Runner) -> Review:
    """The reviewed plan, read back only from the action's own comment, as its own identity last left it."""
    sha = runner.commit_sha()
    if not _COMMIT.fullmatch(sha):
        return Review(problem="the commit of this run is unknown (GITHUB_SHA)")
    client = runner.github()
    if client is None:
        return Review(problem="`github-token` is empty, so the reviewed plan cannot be looked up")
    number, head = None, ""
    try:
        pull = client.merged_pull_request(sha)
        if pull is None:
            return Review(problem=f"no pull request was merged by commit {code(sha[:12])}")
        number, head = int(pull["number"]), str(pull["head"]["sha"])
        where = f"pull request #{number}"
        owner = client.viewer()
        key_marker = marker(runner.key)
        comment = client.own_comment(number, key_marker, owner)
        if comment is None:
            return Review(number, head, problem=f"{where} has no plan comment by {code(owner.login)}")
        mark = ReviewMark.read(comment.body, key_marker)
        if mark is None:
            return Review(number, head, problem=f"the last plan posted on {where} failed")
        if mark.head != head:
            return Review(
                number,
                head,
                problem=f"the plan posted on {where} is for commit {code(mark.head[:12])}, not for its "
                f"final head commit {code(head[:12])}",
            )
        if client.last_editor(comment) not in (None, owner.id):
            return Review(
                number,
                head,
                problem=f"the plan comment on {where} was edited by someone other than the action",
            )
        return Review(number, head, mark)
    except (GitHubError, KeyError, TypeError, ValueError) as exc:
        return Review(number, head, problem=f"the reviewed plan could not be looked up ({code(str(exc))})")
    finally:
        client.close()


def run_apply(runner: Runner) -> int:
    inputs = runner.inputs
    plan_file = runner.workdir / "plan.json"
    exit_code, stderr = runner.plan(inputs.path, plan_file)
    title = f"### jsm-reconciler apply to {code(inputs.site)} ({code(inputs.path)})"
    if exit_code not in (0, 2) or not plan_file.exists():
        errors = _error_lines(stderr) or "the plan failed (see the log)"
        caution = ["", "> [!CAUTION]", "> The plan failed; nothing was applied.", ""]
        runner.add_summary("\n".join([title, *caution, *fenced(errors.splitlines(), "text"), ""]))
        runner.set_outputs(
            has_changes="false",
            plan_json="",
            summary="error",
            exit_code=str(exit_code or 1),
            artifact_name="",
        )
        return 1
    plan = _load_plan(plan_file)
    report = Report(plan, plan.diagnostics, None, inputs.path)
    outputs = {"has_changes": "true" if plan.changes else "false", "plan_json": str(plan_file)}
    outputs |= {"summary": _counts_text(plan), "artifact_name": runner.artifact}
    args = ["apply", "--plan", str(plan_file), "--auto-approve"]
    if inputs.apply_unreviewed:
        binding = (
            "> [!WARNING]\n> **Applied without review:** `apply-unreviewed` is `true`, so this plan was not "
            "compared with the plan reviewed on a pull request."
        )
        runner.workflow_command("warning", "apply-unreviewed is true: the plan is applied without review.")
    else:
        review = find_review(runner)
        if review.mark is None or not plan.changes_digest.startswith(review.mark.digest):
            return refuse_unreviewed(runner, report, review, title, outputs)
        binding = (
            f"> [!NOTE]\n> The plan reviewed on pull request #{review.number}: "
            f"{review.mark.visible()}, unchanged."
        )
        args += ["--expect-digest", review.mark.digest]
    if not plan.changes:
        runner.add_summary(f"{title}\n\n{binding}\n\n**No changes. The site matches the manifests.**\n")
        runner.set_outputs(**outputs, exit_code="0")
        return 0
    if inputs.allow_delete:
        args.append("--allow-delete")
    exit_code, stdout, stderr = runner.cli(args)
    results = [
        line.strip() for line in stdout.splitlines() if re.match(r"^\s*(applied|failed|skipped)\s", line)
    ]
    # Only the CLI's own outcome line, in full: a name printed in the plan could imitate its start.
    outcome = [line for line in (stdout + stderr).splitlines() if _OUTCOME.fullmatch(line)]
    problems = _error_lines(stderr)
    verdict = "> [!CAUTION]\n> **The apply failed.**" if exit_code else "> [!NOTE]\n> **Applied.**"
    parts = [title, "", binding, "", f"{verdict} {' '.join(outcome)}".rstrip(), ""]
    if results:
        parts += [*fenced(results, "text"), ""]
    if problems and exit_code:
        parts += [*fenced(problems.splitlines(), "text"), ""]
    parts += ["<details><summary>The plan that was applied</summary>", ""]
    parts += [render_report(report, budget=SUMMARY_BUDGET // 2), "</details>", ""]
    runner.add_summary("\n".join(parts))
    runner.set_outputs(**outputs, exit_code=str(exit_code))
    if exit_code:
        runner.workflow_command("error", f"jsm-reconciler apply failed: {' '.join(outcome) or 'see the log'}")
        return 1
    return 0


def review_banner(mark: ReviewMark) -> str:
    """The line under the title of a pull request's plan: what merge will hold this plan to. Pure."""
    return (
        f"<sub>{mark.visible()}. On merge the action applies this plan only if the merged commit "
        "still plans exactly this; otherwise it applies nothing and posts the new plan here.</sub>"
    )


def refusal_report(report: Report, review: Review, commit: str, links: Links) -> Report:
    """The new plan, headed by why it was not applied: for the job summary and the pull request. Pure."""
    plan = report.plan
    now = f"The plan of commit {code(commit[:12])} has digest {code(plan.changes_digest[:12])}"
    if review.mark is not None:
        heading = "jsm-reconciler plan changed since review"
        headline = "Not applied: the plan has changed since review."
        reason = (
            f"{now}; the plan reviewed on pull request #{review.number} had {code(review.mark.digest[:12])} "
            f"(for commit {code(review.mark.head[:12])}). The site has drifted, or the base branch moved."
        )
    else:
        heading = "jsm-reconciler plan not reviewed"
        headline = "Not applied: no reviewed plan."
        reason = f"{now}, and {review.problem}."
    advice = (
        "Nothing was written. Review the plan below; to apply it, open a pull request (its plan is "
        "reviewed and applied on merge), or run the workflow with `apply-unreviewed: true`."
    )
    banner = f"> [!CAUTION]\n> **{headline}** {reason}\n>\n> {advice}"
    return Report(plan, plan.diagnostics, None, report.path, links=links, banner=banner, heading=heading)


def refuse_unreviewed(
    runner: Runner, report: Report, review: Review, title: str, outputs: Mapping[str, str]
) -> int:
    """Nothing is applied: the summary and the pull request get the new plan, marked changed since review."""
    links = Links(run_url=runner.run_url(), artifact=runner.artifact)
    refused = refusal_report(report, review, runner.commit_sha(), links)
    runner.add_summary(f"{title}\n\n{render_report(refused, budget=SUMMARY_BUDGET)}")
    runner.set_outputs(**outputs, exit_code="1")
    short = "the plan has changed since review" if review.mark is not None else "no reviewed plan"
    runner.workflow_command("error", f"jsm-reconciler: nothing was applied: {short}.")
    if review.number is not None:
        key_marker = changed_marker(runner.key)
        body = render_report(refused, budget=COMMENT_BUDGET, marker_line=key_marker)
        post_comment(runner, review.number, body, key_marker)
    return 1


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    environ = dict(os.environ if env is None else env)
    if args:
        environ["JSM_ACTION_COMMAND"] = args[0]
    runner = Runner(environ)
    inputs = runner.inputs
    if inputs.command not in ("plan", "apply"):
        runner.workflow_command("error", f"command must be plan or apply, not {inputs.command!r}")
        return 1
    if inputs.command == "apply" and runner.event_name == "merge_group":
        runner.workflow_command(
            "error", "command apply does not run in a merge queue: plan there, apply on push after the merge"
        )
        return 1
    if not inputs.site or not inputs.has_credentials:
        return _no_credentials(runner)
    if inputs.command == "plan":
        return run_plan(runner)
    return run_apply(runner)


def _no_credentials(runner: Runner) -> int:
    inputs = runner.inputs
    if inputs.command == "plan" and runner.secrets_withheld():
        reason = (
            "The plan was skipped: this pull request comes from a fork (or Dependabot), and GitHub does not "
            "give such workflows the repository's secrets, so the site and its credentials are empty. "
            "Merged, it has no reviewed plan to apply: a maintainer can open the same change from a branch "
            "of this repository, whose plan is posted for review."
        )
        runner.workflow_command("notice", reason)
        runner.add_summary(render_skipped(reason))
        runner.set_outputs(
            has_changes="false", plan_json="", summary="skipped", exit_code="0", artifact_name=""
        )
        return 0
    if not inputs.site:
        problem = "the `site` input is empty: pass the site URL (or `sandbox` for the embedded sandbox)"
        shown = problem
    else:
        advice = (
            "pass `email` and `api-token`, `oauth-token`, or `oauth-client-id` and `oauth-client-secret` "
            "(from secrets)"
        )
        problem = f"no credentials for {inputs.site}: {advice}"
        shown = f"no credentials for {code(inputs.site)}: {advice}"
    runner.workflow_command("error", f"jsm-reconciler: {problem}.")
    runner.add_summary(f"### jsm-reconciler {inputs.command} failed\n\n> [!CAUTION]\n> {shown}.\n")
    runner.set_outputs(has_changes="false", plan_json="", summary="error", exit_code="1", artifact_name="")
    return 1
