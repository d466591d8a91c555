"""The pull request comment and the job summary of the GitHub Action. Pure: text in, text out.

A comment starts with the counts (split between this pull request and pre-existing drift) and the
destructive changes, then shows one collapsible section per kind. GitHub refuses a comment longer than
65,536 characters, so the text is cut to a budget (counted in UTF-8 bytes, which is never fewer than
GitHub's characters) with a pointer to the job summary and the uploaded plan JSON.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from reconciler.errors import Diagnostic, Severity
from reconciler.kinds.kind import Action, Change
from reconciler.plan.model import Plan
from reconciler.registry import KIND_INDEX
from reconciler.render.access import diff_markdown
from reconciler.render.markdown import code
from reconciler.render.plan import (
    exposure_block,
    markdown_destructive,
    markdown_diff,
    markdown_section,
    summary_line,
)
from reconciler.render.policy import policy_block

MARKER_PREFIX = "<!-- jsm-reconciler-plan"
CHANGED_PREFIX = "<!-- jsm-reconciler-changed-since-review"
_REVIEW_LINE = re.compile(r"<!-- jsm-reconciler-review head=([0-9a-f]{40,64}) digest=([0-9a-f]{64}) -->")
GITHUB_COMMENT_LIMIT = 65_536
COMMENT_BUDGET = 65_000  # bytes; a margin under GitHub's limit
SUMMARY_BUDGET = 1_000_000  # GitHub refuses a step summary over 1 MiB
MAX_LISTED = 50  # destructive changes, diagnostics and unmanaged objects listed in the head
MAX_PROJECTS_LISTED = 10  # projects named on one line of the access diff


def marker(key: str = "") -> str:
    """The hidden first line that identifies our comment; `key` tells apart several sites or paths."""
    cleaned = " ".join(key.replace("--", "-").replace(">", "").split())
    return f"{MARKER_PREFIX}{' ' + cleaned if cleaned else ''} -->"


def changed_marker(key: str = "") -> str:
    """The first line of the comment that shows a plan changed since review: never a reviewed plan."""
    return marker(key).replace(MARKER_PREFIX, CHANGED_PREFIX, 1)


@dataclass(frozen=True)
class ReviewMark:
    """A plan posted for review: its changesDigest, and the pull request's head commit it was made for.

    The plan comment carries it twice: visible, and hidden on the line after the marker, where a merge
    reads it back. Only that line counts, so a name in the plan cannot imitate it."""

    head: str
    digest: str

    def hidden(self) -> str:
        return f"<!-- jsm-reconciler-review head={self.head} digest={self.digest} -->"

    def visible(self) -> str:
        return f"Plan digest {code(self.digest[:12])} for commit {code(self.head[:12])}"

    @classmethod
    def read(cls, body: str, key_marker: str) -> ReviewMark | None:
        """The mark of a plan comment that starts with `key_marker`; None for a failed plan's comment."""
        lines = body.lstrip().splitlines()
        if len(lines) < 2 or lines[0] != key_marker:
            return None
        match = _REVIEW_LINE.fullmatch(lines[1])
        return cls(match.group(1), match.group(2)) if match else None


def change_signature(change: Change) -> str:
    """Two plans propose the same change when key, action and desired result agree."""
    return json.dumps([change.key, change.action.value, change.after], sort_keys=True, default=str)


@dataclass(frozen=True)
class DriftSplit:
    """This pull request's changes versus drift that the base branch's manifests already plan."""

    ours: tuple[Change, ...]
    drift: tuple[Change, ...]
    resolved: tuple[Change, ...] = ()  # planned on the base branch, no longer planned with this PR
    available: bool = True
    note: str = ""  # markdown: why the split is unavailable, or where the base came from


def split_drift(plan: Plan, base: Plan | None, *, note: str = "") -> DriftSplit:
    """With no base plan every change counts as this pull request's, and the split says why."""
    if base is None:
        return DriftSplit(ours=plan.changes, drift=(), available=False, note=note)
    before = {change_signature(c) for c in base.changes}
    now = {change_signature(c) for c in plan.changes}
    return DriftSplit(
        ours=tuple(c for c in plan.changes if change_signature(c) not in before),
        drift=tuple(c for c in plan.changes if change_signature(c) in before),
        resolved=tuple(c for c in base.changes if change_signature(c) not in now),
        note=note,
    )


@dataclass(frozen=True)
class Links:
    """Where the full plan is: the run's job summary and the uploaded plan JSON."""

    run_url: str = ""
    artifact: str = ""

    def pointer(self) -> str:
        summary = f"[job summary]({self.run_url})" if self.run_url else "job summary of this workflow run"
        artifact = (
            f" and in the plan JSON uploaded as the artifact {code(self.artifact)}" if self.artifact else ""
        )
        return f"The full plan is in the {summary}{artifact}."


@dataclass(frozen=True)
class Report:
    plan: Plan
    diagnostics: tuple[Diagnostic, ...] = ()
    split: DriftSplit | None = None
    path: str = ""
    base_ref: str = ""
    links: Links = field(default_factory=Links)
    banner: str = ""  # markdown right under the title: the plan's digest, or why it was not applied
    heading: str = "jsm-reconciler plan"


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _counts(changes: Sequence[Change]) -> dict[str, int]:
    counts = {action.value: 0 for action in Action}
    for change in changes:
        counts[change.action.value] += 1
    return counts


def _count_table(split: DriftSplit, total: Sequence[Change], base_ref: str) -> list[str]:
    actions = [a.value for a in Action]
    rows = [
        "| | " + " | ".join(actions) + " |",
        "|---|" + "---:|" * len(actions),
    ]
    drift_label = (
        f"Pre-existing drift (already planned on {code(base_ref, in_table=True)})"
        if base_ref
        else "Pre-existing drift"
    )
    for label, changes in (
        ("This pull request", split.ours),
        (drift_label, split.drift),
        ("**Total**", total),
    ):
        counts = _counts(changes)
        rows.append(f"| {label} | " + " | ".join(str(counts[a]) for a in actions) + " |")
    return rows


def _listed(lines: list[str], prefix: str) -> list[str]:
    if len(lines) <= MAX_LISTED:
        return lines
    return [*lines[:MAX_LISTED], f"{prefix}… and {len(lines) - MAX_LISTED} more"]


def _head(report: Report, drift_keys: frozenset[str]) -> list[str]:
    plan = report.plan
    where = f" ({code(report.path)})" if report.path else ""
    lines = [f"### {report.heading} for {code(plan.site)}{where}", ""]
    if report.banner:
        lines += [report.banner, ""]
    lines += _exposure(plan)
    lines += _policy(plan)
    lines += diff_markdown(plan.access, max_lines=MAX_LISTED, max_projects=MAX_PROJECTS_LISTED)
    lines += [f"**{summary_line(plan)}**", ""]
    split = report.split
    if split is not None and plan.changes:
        if split.available:
            lines += [*_count_table(split, plan.changes, report.base_ref), ""]
            if split.note:
                lines += [f"<sub>{split.note}</sub>", ""]
        elif split.note:
            lines += [f"> [!NOTE]\n> Pre-existing drift could not be told apart: {split.note}", ""]
    if plan.destructive:
        lines += [
            "> [!WARNING]",
            f"> **{len(plan.destructive)} destructive change(s)** (they need `allow-delete`):",
        ]
        listing = []
        for change in plan.destructive:
            drift = " _(pre-existing drift)_" if change.key in drift_keys else ""
            listing.append(f"> - {markdown_destructive(change)}{drift}")
        lines += [*_listed(listing, "> - "), ""]
    if report.diagnostics:
        errors = any(d.severity is Severity.ERROR for d in report.diagnostics)
        lines.append("> [!CAUTION]" if errors else "> [!NOTE]")
        lines += _listed([f"> {code(d.format())}" for d in report.diagnostics], "> ")
        lines.append("")
    return lines


def _more(kind: str, hidden: int) -> str:
    return f"# … {hidden} more {kind} change(s) not shown here" if hidden else ""


def _exposure(plan: Plan) -> list[str]:
    """Who can now see what comes first: the exposure block, capped like the other listings."""
    block = exposure_block(plan)
    if not block:
        return []
    head, title, *items = block[:-1]
    return [head, title, *_listed(items, "> - "), ""]


def _policy(plan: Plan) -> list[str]:
    """The broken rules come next, capped in the same way."""
    block = policy_block(plan)
    if not block:
        return []
    head, title, *items = block[:-1]
    return [head, title, *_listed(items, "> - "), ""]


@dataclass
class _Budget:
    left: int
    shown: int = 0
    hidden: int = 0


def _sections(changes: Sequence[Change], budget: _Budget) -> list[str]:
    """Collapsible sections per kind, in kind order, within the budget."""
    by_kind: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        by_kind[change.kind].append(change)
    out: list[str] = []
    for kind, kind_changes in sorted(by_kind.items(), key=lambda item: KIND_INDEX.get(item[0], 99)):
        reserve = _size("\n".join(markdown_section(kind, kind_changes, [], _more(kind, 0)))) + 80
        if budget.left < reserve:
            budget.hidden += len(kind_changes)
            continue
        # One change is one block of lines (its head, then a line per field), shown whole or not at all.
        blocks: list[list[str]] = []
        left = budget.left - reserve
        for change in kind_changes:
            block = markdown_diff(change)
            if _size("\n".join(block)) + 1 > left:
                break
            blocks.append(block)
            left -= _size("\n".join(block)) + 1
        text = "\n".join(
            markdown_section(kind, kind_changes, _flat(blocks), _more(kind, len(kind_changes) - len(blocks)))
        )
        # A name with a run of backticks lengthens the fence: give back changes until the section fits.
        while blocks and _size(text) + 1 > budget.left:
            blocks.pop()
            more = _more(kind, len(kind_changes) - len(blocks))
            text = "\n".join(markdown_section(kind, kind_changes, _flat(blocks), more))
        budget.left -= _size(text) + 1
        budget.shown += len(blocks)
        budget.hidden += len(kind_changes) - len(blocks)
        out.append(text)
    return out


def _flat(blocks: Sequence[Sequence[str]]) -> list[str]:
    return [line for block in blocks for line in block]


def render_report(report: Report, *, budget: int, marker_line: str = "") -> str:
    """The comment (with `marker_line`) or the job summary (without), at most `budget` bytes."""
    plan = report.plan
    split = report.split
    drift_keys = frozenset(c.key for c in split.drift) if split is not None else frozenset()
    head = "\n".join(([marker_line] if marker_line else []) + _head(report, drift_keys))
    tail = _tail(report)
    truncation_reserve = 600
    remaining = _Budget(left=budget - _size(head) - _size(tail) - truncation_reserve)
    body: list[str] = []
    if split is not None and split.available and split.drift:
        body += ["#### Changes from this pull request", ""]
        body += (
            _sections(split.ours, remaining)
            if split.ours
            else ["_None: the plan is all pre-existing drift._", ""]
        )
        base = f" {code(report.base_ref)}" if report.base_ref else ""
        body += [
            "#### Pre-existing drift",
            "",
            f"_The base branch{base} already plans these: the site differs from its manifests too. "
            "Merging applies them as well._",
            "",
        ]
        body += _sections(split.drift, remaining)
    else:
        body += _sections(plan.changes, remaining)
    if split is not None and split.resolved:
        title = f"Drift this pull request no longer plans: {len(split.resolved)}"
        _add_list(body, remaining, title, [code(f"{c.action.symbol} {c.address}") for c in split.resolved])
    if plan.unmanaged:
        _add_list(body, remaining, f"Not managed: {len(plan.unmanaged)}", [code(a) for a in plan.unmanaged])
    if plan.protected:
        title = f"Protected, not deleted: {len(plan.protected)}"
        _add_list(body, remaining, title, [code(a) for a in plan.protected])
    notice: list[str] = []
    if remaining.hidden:
        notice = [
            "> [!IMPORTANT]",
            f"> **This plan is too long to show in full: {remaining.shown} of {len(plan.changes)} "
            f"changes are shown, {remaining.hidden} are not.** {report.links.pointer()}",
            "",
        ]
    return "\n".join([head, *notice, *body, tail]).rstrip() + "\n"


def _add_list(body: list[str], budget: _Budget, title: str, items: Sequence[str]) -> None:
    """A collapsible list, when it fits."""
    lines = [f"<details><summary>{title}</summary>", "", *_listed([f"- {i}" for i in items], "- "), ""]
    block = "\n".join([*lines, "</details>", ""])
    if _size(block) < budget.left:
        body.append(block)
        budget.left -= _size(block) + 1


def _tail(report: Report) -> str:
    if report.links.run_url or report.links.artifact:
        return f"<sub>{report.links.pointer()}</sub>"
    return ""


def render_skipped(reason: str) -> str:
    return f"### jsm-reconciler plan skipped\n\n> [!NOTE]\n> {reason}\n"
