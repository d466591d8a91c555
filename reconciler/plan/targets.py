"""--target: a plan narrowed to the targeted changes and the changes they wait for."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import replace

from reconciler.address import Address, Target
from reconciler.errors import error
from reconciler.live import LiveState
from reconciler.plan.model import Plan
from reconciler.state import DesiredState


def select_targets(plan: Plan, targets: Sequence[Target], desired: DesiredState, live: LiveState) -> Plan:
    """The plan narrowed to the targeted changes and what they depend on (--target); a target that names
    nothing in the manifests or on the site is an error."""
    if not targets:
        return plan
    known = {*desired.objects, *(obj.address for objects in live.objects.values() for obj in objects)}
    changes = plan.changes
    by_key = {c.key: c for c in changes}
    keep: set[str] = set()
    stack = [c.key for c in changes if any(t.matches(c.address) for t in targets)]
    while stack:
        key = stack.pop()
        if key not in keep:
            keep.add(key)
            stack.extend(by_key[key].depends_on)
    problems = [
        error(
            "plan.target",
            f"--target matches no object in the manifests or on the site{_nearest_target(target, known)}",
            address=target.text,
        )
        for target in targets
        if target.names_something and not any(target.matches(address) for address in known)
    ]
    kept = tuple(c for c in changes if c.key in keep)
    narrowed = replace(plan, changes=kept, touches={c.key: plan.touches[c.key] for c in kept})
    return narrowed.with_diagnostics(problems)


def _nearest_target(target: Target, known: set[Address]) -> str:
    """`; did you mean '...'?` with the closest address of the target's kind (or team, for a team's roles)."""
    of_kind = [address for address in known if address.kind == target.kind]
    candidates = {str(address) for address in of_kind}
    candidates |= {f"{a.kind}/{a.scope}" for a in of_kind if target.address is None and a.scope}
    near = difflib.get_close_matches(target.text, sorted(candidates), n=1)
    return f"; did you mean {near[0]!r}?" if near else ""
