"""The policy block of a plan (MANIFEST.md, "Policies"): the rules the site breaks once the plan is applied,
shown first after the exposure in the text and markdown plans and in the pull request comment."""

from __future__ import annotations

from reconciler.plan.model import Plan
from reconciler.render.markdown import code

POLICY_HEAD = "Policies: rules of settings.policies that the site breaks once this plan is applied:"


def policy_block(plan: Plan) -> list[str]:
    """The block for markdown: a caution when an error-level rule is broken (the plan fails), else a
    warning. Empty when no rule is broken."""
    if not plan.policy:
        return []
    alert = "[!CAUTION]" if any(item.level == "error" for item in plan.policy) else "[!WARNING]"
    return [f"> {alert}", f"> **{POLICY_HEAD}**", *(f"> - {code(item.line())}" for item in plan.policy), ""]
