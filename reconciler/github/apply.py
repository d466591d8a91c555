"""The Action's apply: merge applies what was reviewed (CLI.md, "The GitHub Action binds merge to review").

The pull request's comment carries the plan's changesDigest and head commit; apply finds the pull request its
commit merged, reads that digest back from the action's own comment (as the action's identity last left it),
and applies only a plan with the same digest; otherwise it applies nothing and posts the new plan there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.github.api import UNEXPECTED_ANSWER, GitHubError
from reconciler.github.comment import (
    COMMENT_BUDGET,
    SUMMARY_BUDGET,
    Links,
    Report,
    ReviewMark,
    changed_marker,
    marker,
    render_report,
)
from reconciler.github.runner import COMMIT, Runner, counts_text, error_lines, load_plan, post_comment
from reconciler.render.markdown import code, fenced

OUTCOME = re.compile(
    r"Apply (complete|incomplete): \d+ applied, \d+ failed, \d+ skipped\."
    r"( Run plan to see what remains; apply again to finish\.)?"
)


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
    if not COMMIT.fullmatch(sha):
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
    except (GitHubError, *UNEXPECTED_ANSWER) as exc:
        return Review(number, head, problem=f"the reviewed plan could not be looked up ({code(str(exc))})")
    finally:
        client.close()


def run_apply(runner: Runner) -> int:
    inputs = runner.inputs
    plan_file = runner.workdir / "plan.json"
    exit_code, stderr = runner.plan(inputs.path, plan_file)
    title = f"### jsm-reconciler apply to {code(inputs.site)} ({code(inputs.path)})"
    if exit_code not in (0, 2) or not plan_file.exists():
        errors = error_lines(stderr) or "the plan failed (see the log)"
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
    plan = load_plan(plan_file)
    report = Report(plan, plan.diagnostics, None, inputs.path)
    outputs = {"has_changes": "true" if plan.changes else "false", "plan_json": str(plan_file)}
    outputs |= {"summary": counts_text(plan), "artifact_name": runner.artifact}
    args = ["apply", "--plan", str(plan_file), "--auto-approve"]
    if inputs.apply_unreviewed:
        binding = (
            "> [!WARNING]\n> **Applied without review:** `apply-unreviewed` is `true`, so this plan was not "
            "compared with the plan reviewed on a pull request."
        )
        runner.workflow_command("warning", "apply-unreviewed is true: the plan is applied without review.")
    else:
        review = find_review(runner)
        if review.mark is None or plan.changes_digest != review.mark.digest:
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
    outcome = [line for line in (stdout + stderr).splitlines() if OUTCOME.fullmatch(line)]
    problems = error_lines(stderr)
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
