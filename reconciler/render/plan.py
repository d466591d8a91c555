"""A plan as text (coloured like Terraform), markdown (for pull requests) and JSON (CLI.md)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from reconciler.errors import Severity
from reconciler.kinds.kind import Action, Change, FieldDiff
from reconciler.plan.model import Plan
from reconciler.registry import KIND_INDEX, get_kind
from reconciler.render.access import diff_markdown, diff_text
from reconciler.render.markdown import code, diff_symbol, fenced, visible
from reconciler.render.policy import POLICY_HEAD, policy_block
from reconciler.render.workflow_commands import json_inert

STYLE = {"+": "green", "-": "red", "~": "yellow", "-/+": "red", " ": ""}
MAX_MARKDOWN_CHANGES_PER_KIND = 500

NOT_MANAGED = "Not managed (on the site but in no manifest; list the kind in settings.prune to delete):"
PROTECTED = "Protected (in no manifest, in a pruned kind; kept because settings.protect lists them):"


def summary_line(plan: Plan) -> str:
    """The last word on a plan. A plan with errors claims neither changes nor "no changes": it would
    apply nothing, and its changes may be incomplete."""
    errors = sum(d.severity is Severity.ERROR for d in plan.diagnostics)
    if errors:
        return f"Plan failed: {errors} error(s). Nothing can be applied until they are resolved."
    if not plan.changes:
        return "No changes. The site matches the manifests."
    counts = plan.counts
    parts = [f"{counts[action.value]} to {action.value}" for action in Action]
    return f"Plan: {', '.join(parts)}."


def exposure_lines(plan: Plan) -> list[str]:
    """The exposure block's lines (MANIFEST.md, "Projects and exposure"); empty when nothing changes."""
    if not plan.exposure:
        return []
    head = "Exposure: grants to anyone or applicationRole that this plan adds (+) or removes (-):"
    return [head, *(f"  {item.line()}" for item in plan.exposure)]


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _diff_line(diff: FieldDiff) -> tuple[str, str]:
    field = ".".join(str(p) for p in diff.path)
    if diff.op == "add":
        return "+", f"{field}: {_value(diff.new)}"
    if diff.op == "remove":
        return "-", f"{field}: {_value(diff.old)}"
    return "~", f"{field}: {_value(diff.old)} -> {_value(diff.new)}"


def change_lines(change: Change) -> list[tuple[str, str]]:
    """(symbol, text) pairs: the change's head line, then one line per field.

    One rule for lists, in creates as in updates: a list compared as a set (grants, rights) shows one
    item a line, as its update diffs do; an ordered list (options) shows whole on one line, since its
    order is part of the value.
    """
    head = str(change.address)
    if change.reason:
        head += f"  ({change.reason})"
    lines = [(change.action.symbol, head)]
    if change.action is Action.CREATE and change.after is not None:
        set_fields = get_kind(change.kind).set_fields
        for key, value in change.after.items():
            if key == "name" or value in ([], "", None):
                continue
            items = value if key in set_fields and isinstance(value, list) else [value]
            lines += [("+", f"    {key}: {_value(item)}") for item in items]
    elif change.action is not Action.DELETE:
        for diff in change.diffs:
            symbol, text = _diff_line(diff)
            lines.append((symbol, f"    {text}"))
    return lines


def render_text(plan: Plan, *, color: bool = False, width: int = 120) -> str:
    console = Console(record=True, force_terminal=color, no_color=not color, width=width, highlight=False)
    with console.capture() as capture:
        if plan.exposure:
            for exposed in exposure_lines(plan):
                emphasis = "bold red" if exposed.startswith("  +") else ""
                console.print(Text(visible(exposed), style=emphasis), soft_wrap=True)
            console.print()
        if plan.policy:
            console.print(POLICY_HEAD)
            for broken in plan.policy:
                emphasis = "bold red" if broken.level == "error" else "yellow"
                console.print(Text(visible(f"  {broken.line()}"), style=emphasis), soft_wrap=True)
            console.print()
        if plan.access:
            for symbol, text in diff_text(plan.access):
                console.print(Text(visible(text), style=STYLE.get(symbol, "")), soft_wrap=True)
            console.print()
        for change in plan.changes:
            for symbol, text in change_lines(change):
                line = Text(visible(f"{symbol:>3} {text}"), style=STYLE.get(symbol, ""))
                console.print(line, soft_wrap=True)
        for title, addresses in ((NOT_MANAGED, plan.unmanaged), (PROTECTED, plan.protected)):
            if addresses:
                console.print()
                console.print(title)
                for address in addresses:
                    console.print(Text(visible(f"    {address}"), style="dim"), soft_wrap=True)
        if plan.diagnostics:
            console.print()
            # One line each: a line break in a name must not start a line of its own in a log.
            shown = "\n".join(visible(d.format()) for d in plan.diagnostics)
            console.print(Text(shown), soft_wrap=True)
        if plan.changes or plan.unmanaged or plan.protected or plan.diagnostics:
            console.print()
        console.print(Text(summary_line(plan), style="bold"), soft_wrap=True)
    return capture.get()


def markdown_diff(change: Change) -> list[str]:
    """A change's lines for a ```diff block, each one line of visible text."""
    return [visible(f"{diff_symbol(symbol)} {text}") for symbol, text in change_lines(change)]


def markdown_section(kind: str, changes: Sequence[Change], lines: Sequence[str], more: str = "") -> list[str]:
    """One kind's collapsible section: its counts, then a ```diff block of `lines` (from `markdown_diff`)."""
    counts: dict[str, int] = defaultdict(int)
    for change in changes:
        counts[change.action.value] += 1
    summary = ", ".join(f"{n} to {action}" for action, n in counts.items())
    block = fenced([*lines, *([more] if more else [])], "diff")
    return [f"<details><summary><b>{kind}</b>: {summary}</summary>", "", *block, "", "</details>", ""]


def markdown_destructive(change: Change) -> str:
    """A destructive change in a list: what happens to which address, and why."""
    reason = f" — {code(change.reason)}" if change.reason else ""
    return f"{code(f'{change.action.symbol} {change.address}')}{reason}"


def render_markdown(plan: Plan) -> str:
    lines = [
        f"### jsm-reconciler plan for {code(plan.site)}",
        "",
        *exposure_block(plan),
        *policy_block(plan),
        *diff_markdown(plan.access),
    ]
    lines += [f"**{summary_line(plan)}**", ""]
    if plan.destructive:
        lines += ["> [!WARNING]", "> **Destructive changes** (they need `--allow-delete`):"]
        lines += [f"> - {markdown_destructive(c)}" for c in plan.destructive]
        lines.append("")
    errors = [d for d in plan.diagnostics if d.severity == "error"]
    if plan.diagnostics:
        lines += ["> [!CAUTION]" if errors else "> [!NOTE]"]
        lines += [f"> {code(d.format())}" for d in plan.diagnostics]
        lines.append("")
    by_kind: dict[str, list[Change]] = defaultdict(list)
    for change in plan.changes:
        by_kind[change.kind].append(change)
    for kind, changes in sorted(by_kind.items(), key=lambda item: KIND_INDEX[item[0]]):
        shown = [line for change in changes[:MAX_MARKDOWN_CHANGES_PER_KIND] for line in markdown_diff(change)]
        hidden = len(changes) - MAX_MARKDOWN_CHANGES_PER_KIND
        more = f"# … and {hidden} more (see the plan JSON)" if hidden > 0 else ""
        lines += markdown_section(kind, changes, shown, more)
    if plan.unmanaged:
        lines += [f"<details><summary>Not managed: {len(plan.unmanaged)}</summary>", ""]
        lines += [f"- {code(address)}" for address in plan.unmanaged]
        lines += ["", "</details>", ""]
    if plan.protected:
        lines += [f"<details><summary>Protected, not deleted: {len(plan.protected)}</summary>", ""]
        lines += [f"- {code(address)}" for address in plan.protected]
        lines += ["", "</details>", ""]
    return "\n".join(lines).rstrip() + "\n"


def exposure_block(plan: Plan) -> list[str]:
    """A `[!CAUTION]` block listing the exposure, for the markdown plan and the PR comment."""
    if not plan.exposure:
        return []
    head, *items = exposure_lines(plan)
    return ["> [!CAUTION]", f"> **{head}**", *(f"> - {code(item.strip())}" for item in items), ""]


def render_json(plan: Plan) -> str:
    """The plan JSON, which a log can show as it is: no line of it is a workflow command."""
    return json_inert(json.dumps(plan.to_json(), indent=2, sort_keys=False, ensure_ascii=False)) + "\n"
