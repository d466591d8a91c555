"""A plan as text (coloured like Terraform), markdown (for pull requests) and JSON (CLI.md)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from rich.console import Console
from rich.text import Text

from reconciler.kinds import KIND_INDEX
from reconciler.kinds.kind import Action, Change, FieldDiff
from reconciler.plan import Plan
from reconciler.render.diagnostics import render_diagnostics

STYLE = {"+": "green", "-": "red", "~": "yellow", "-/+": "red", " ": ""}
MAX_MARKDOWN_CHANGES_PER_KIND = 500


def summary_line(plan: Plan) -> str:
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
    """(symbol, text) pairs: the change's head line, then one line per field."""
    head = str(change.address)
    if change.reason:
        head += f"  ({change.reason})"
    lines = [(change.action.symbol, head)]
    if change.action is Action.CREATE and change.after is not None:
        for key, value in change.after.items():
            if key == "name" or value in ([], "", None):
                continue
            # Long lists read better one item a line, like the field diffs of an update.
            items = value if isinstance(value, list) and len(value) > 3 else [value]
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
            for line in exposure_lines(plan):
                console.print(Text(line, style="bold red" if line.startswith("  +") else ""), soft_wrap=True)
            console.print()
        for change in plan.changes:
            for symbol, text in change_lines(change):
                console.print(Text(f"{symbol:>3} {text}", style=STYLE.get(symbol, "")), soft_wrap=True)
        if plan.unmanaged:
            console.print()
            console.print(
                "Not managed (on the site but in no manifest; list the kind in settings.prune to delete):"
            )
            for address in plan.unmanaged:
                console.print(Text(f"    {address}", style="dim"), soft_wrap=True)
        if plan.diagnostics:
            console.print()
            console.print(Text(render_diagnostics(plan.diagnostics)), soft_wrap=True)
        if plan.changes or plan.unmanaged or plan.diagnostics:
            console.print()
        console.print(Text(summary_line(plan), style="bold"), soft_wrap=True)
    return capture.get()


def render_markdown(plan: Plan) -> str:
    lines = [f"### jsm-reconciler plan for `{plan.site}`", "", *exposure_block(plan)]
    lines += [f"**{summary_line(plan)}**", ""]
    if plan.destructive:
        lines += ["> [!WARNING]", "> **Destructive changes** (they need `--allow-delete`):"]
        lines += [
            f"> - `{c.action.symbol} {c.address}`{' — ' + c.reason if c.reason else ''}"
            for c in plan.destructive
        ]
        lines.append("")
    errors = [d for d in plan.diagnostics if d.severity == "error"]
    if plan.diagnostics:
        lines += ["> [!CAUTION]" if errors else "> [!NOTE]"]
        lines += [f"> `{d.format()}`" for d in plan.diagnostics]
        lines.append("")
    by_kind: dict[str, list[Change]] = defaultdict(list)
    for change in plan.changes:
        by_kind[change.kind].append(change)
    for kind, changes in sorted(by_kind.items(), key=lambda item: KIND_INDEX[item[0]]):
        counts: dict[str, int] = defaultdict(int)
        for change in changes:
            counts[change.action.value] += 1
        summary = ", ".join(f"{n} to {action}" for action, n in counts.items())
        lines += [f"<details><summary><b>{kind}</b>: {summary}</summary>", "", "```diff"]
        for change in changes[:MAX_MARKDOWN_CHANGES_PER_KIND]:
            lines += [f"{_diff_symbol(symbol)} {text}" for symbol, text in change_lines(change)]
        if len(changes) > MAX_MARKDOWN_CHANGES_PER_KIND:
            lines.append(f"# … and {len(changes) - MAX_MARKDOWN_CHANGES_PER_KIND} more (see the plan JSON)")
        lines += ["```", "", "</details>", ""]
    if plan.unmanaged:
        lines += [f"<details><summary>Not managed: {len(plan.unmanaged)}</summary>", ""]
        lines += [f"- `{address}`" for address in plan.unmanaged]
        lines += ["", "</details>", ""]
    return "\n".join(lines).rstrip() + "\n"


def exposure_block(plan: Plan) -> list[str]:
    """A `[!CAUTION]` block listing the exposure, for the markdown plan and the PR comment."""
    if not plan.exposure:
        return []
    head, *items = exposure_lines(plan)
    return ["> [!CAUTION]", f"> **{head}**", *(f"> - `{item.strip()}`" for item in items), ""]


def _diff_symbol(symbol: str) -> str:
    """GitHub colours diff lines by their first character: + green, - red, ! orange."""
    return {"~": "!", "-/+": "-", " ": " "}.get(symbol, symbol)


def render_json(plan: Plan) -> str:
    return json.dumps(plan.to_json(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
