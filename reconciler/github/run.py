"""The GitHub Action's entry point: `python -m reconciler.github`, run by action.yml's main step.

It reads its inputs from the environment that action.yml sets (JSM_ACTION_*; credentials only as JSM_SITE,
JSM_EMAIL, JSM_API_TOKEN, JSM_OAUTH_TOKEN, JSM_OAUTH_CLIENT_ID and _SECRET, JSM_SCOPED_TOKEN), runs the CLI
as a subprocess (`plan --out`, and for apply `apply --plan --expect-digest`), then writes GITHUB_OUTPUT,
GITHUB_STEP_SUMMARY and, on a pull request, the one comment (runner.py).

Merge applies what was reviewed (apply.py): on a pull request the comment carries the plan's changesDigest
and the head commit, and the base branch is planned too, to tell the pull request's changes from drift
(base.py). A merge queue's run (`merge_group`) plans what will land and shows it in the job summary; it
neither comments nor applies, and it does not compare with the review: the queue's commit also holds the
pull requests ahead in the queue, whose applies have not run yet.

Exit status: 0 when the plan or apply succeeded (also when a fork's pull request had no secrets and the
plan was skipped), 1 otherwise.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.github.apply import review_banner, run_apply
from reconciler.github.base import base_commit, extract_base
from reconciler.github.comment import (
    COMMENT_BUDGET,
    SUMMARY_BUDGET,
    DriftSplit,
    Links,
    Report,
    ReviewMark,
    marker,
    render_report,
    render_skipped,
    split_drift,
)
from reconciler.github.runner import (
    COMMIT,
    Runner,
    counts_text,
    error_lines,
    load_plan,
    plan_failure,
    post_comment,
    pr_number,
)
from reconciler.plan.model import Plan
from reconciler.render.markdown import code, fenced
from reconciler.render.plan import summary_line


def run_plan(runner: Runner) -> int:
    inputs = runner.inputs
    plan_file = runner.workdir / "plan.json"
    exit_code, stderr = runner.plan(inputs.path, plan_file)
    pr = runner.pull_request
    links = Links(run_url=runner.run_url(), artifact=runner.artifact)
    if exit_code not in (0, 2) or not plan_file.exists():
        errors, why = plan_failure(plan_file, stderr)
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
            post_comment(runner, pr_number(runner, pr), f"{body}\n<sub>{pointer}</sub>\n", marker(runner.key))
        return 1
    plan = load_plan(plan_file)
    split = None
    base_ref = ""
    banner = ""
    mark = None
    if pr is not None:
        base_ref = str((pr.get("base") or {}).get("ref") or "")
        split = plan_base(runner, pr, plan)
        head = str((pr.get("head") or {}).get("sha") or "")
        if COMMIT.fullmatch(head):
            mark = ReviewMark(head, plan.changes_digest)
            banner = review_banner(mark)
    elif runner.event_name == "merge_group":
        banner = _merge_queue_banner(runner)
    report = Report(plan, plan.diagnostics, split, inputs.path, base_ref, links, banner)
    runner.add_summary(render_report(report, budget=SUMMARY_BUDGET))
    runner.set_outputs(
        has_changes="true" if plan.changes else "false",
        plan_json=str(plan_file),
        summary=counts_text(plan),
        exit_code=str(exit_code),
        artifact_name=runner.artifact,
    )
    runner.say(summary_line(plan))
    if pr is not None:
        hidden = marker(runner.key) + (f"\n{mark.hidden()}" if mark else "")
        body = render_report(report, budget=COMMENT_BUDGET, marker_line=hidden)
        post_comment(runner, pr_number(runner, pr), body, marker(runner.key))
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
        first = (error_lines(stderr).splitlines() or ["it failed"])[0]
        return split_drift(plan, None, note=f"the base branch's manifests did not plan ({code(first)})")
    return split_drift(plan, load_plan(base_dir / "plan.json"), note=drift_note(sha, how))


def drift_note(sha: str, how: str = "") -> str:
    """Under the counts: which base commit the drift was told apart with."""
    return (
        f"Drift: the base commit {code(sha[:12])}{f' ({how})' if how else ''} planned against the same site."
    )


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
    outside = runner.outside_workspace()
    if outside:
        return _refused(runner, outside, outside)
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
    return _refused(runner, problem, shown)


def _refused(runner: Runner, problem: str, shown: str) -> int:
    """A run that cannot start: the error in the log and the job summary (`shown`, as markdown)."""
    inputs = runner.inputs
    runner.workflow_command("error", f"jsm-reconciler: {problem}.")
    runner.add_summary(f"### jsm-reconciler {inputs.command} failed\n\n> [!CAUTION]\n> {shown}.\n")
    runner.set_outputs(has_changes="false", plan_json="", summary="error", exit_code="1", artifact_name="")
    return 1
