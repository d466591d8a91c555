"""--target: a plan narrowed to the targeted changes and the changes they wait for."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import replace

from reconciler.address import Address, Target
from reconciler.errors import Severity, error
from reconciler.kind_names import TEAM_ROLES
from reconciler.kinds.kind import Action, Change, Lookups
from reconciler.kinds.team_role import resolve_team
from reconciler.live import LiveState
from reconciler.plan.model import Plan
from reconciler.state import DesiredState


def select_targets(plan: Plan, targets: Sequence[Target], desired: DesiredState, live: LiveState) -> Plan:
    """The plan narrowed to the targeted changes and what they depend on (--target); a target that names
    nothing in the manifests or on the site is an error."""
    if not targets:
        return plan
    lookups = live.lookups
    known = {*desired.objects, *(obj.address for objects in live.objects.values() for obj in objects)}
    changes = plan.changes
    by_key = {c.key: c for c in changes}
    keep: set[str] = set()
    stack = [c.key for c in changes if any(_matches(t, a, lookups) for t in targets for a in _answers_to(c))]
    while stack:
        key = stack.pop()
        if key not in keep:
            keep.add(key)
            stack.extend(by_key[key].depends_on)
    problems = [
        error(
            "plan.target",
            "--target matches no object in the manifests or on the site"
            + _nearest_target(target, known, lookups),
            address=target.text,
        )
        for target in targets
        if target.names_something and not any(_matches(target, address, lookups) for address in known)
    ]
    kept = tuple(c for c in changes if c.key in keep)
    left_out = {str(c.address) for c in changes} - {str(c.address) for c in kept}
    # A warning about a change left out says nothing of this plan; an error still refuses it.
    diagnostics = tuple(
        d for d in plan.diagnostics if d.severity is Severity.ERROR or d.address not in left_out
    )
    narrowed = replace(
        plan, changes=kept, touches={c.key: plan.touches[c.key] for c in kept}, diagnostics=diagnostics
    )
    return narrowed.with_diagnostics(problems)


def _answers_to(change: Change) -> tuple[Address, ...]:
    """The addresses that select a change: its own, and for a rename (or a replace under renamedFrom) the
    live name, which the site has until the change is applied."""
    live_name = (change.before or {}).get("name")
    if change.action in (Action.RENAME, Action.REPLACE) and isinstance(live_name, str):
        return (change.address, change.address.renamed(live_name))
    return (change.address,)


def _matches(target: Target, address: Address, lookups: Lookups) -> bool:
    """Whether the target selects the address, a team written by name or by id in either (as manifests
    may write it, and as the site names it)."""
    if target.kind != TEAM_ROLES.kind:
        return target.matches(address)
    by_id = replace(
        target,
        scope=None if target.scope is None else _team_id(target.scope, lookups),
        address=None if target.address is None else _with_team_id(target.address, lookups),
    )
    return by_id.matches(_with_team_id(address, lookups))


def _team_id(team: str, lookups: Lookups) -> str:
    """The id of the team a name or an id names; as written when it names no one team."""
    return resolve_team(team, lookups)[0] or team


def _with_team_id(address: Address, lookups: Lookups) -> Address:
    return (
        replace(address, scope=_team_id(address.scope, lookups))
        if address.kind == TEAM_ROLES.kind
        else address
    )


def _team_forms(address: Address, lookups: Lookups) -> set[Address]:
    """A team role's address with its team written as in the manifest, by id and by name."""
    if address.kind != TEAM_ROLES.kind:
        return {address}
    team_id = _team_id(address.scope, lookups)
    teams = {address.scope, team_id, lookups.teams.get(team_id, team_id)}
    return {replace(address, scope=team) for team in teams}


def _nearest_target(target: Target, known: set[Address], lookups: Lookups) -> str:
    """`; did you mean '...'?` with the closest address of the target's kind (or team, for a team's roles)."""
    of_kind = {
        form for address in known if address.kind == target.kind for form in _team_forms(address, lookups)
    }
    candidates = {str(address) for address in of_kind}
    candidates |= {f"{a.kind}/{a.scope}" for a in of_kind if target.address is None and a.scope}
    near = difflib.get_close_matches(target.text, sorted(candidates), n=1)
    return f"; did you mean {near[0]!r}?" if near else ""
