"""Exposure (MANIFEST.md, "Projects and exposure"): who can now see what.

A grant to `anyone` (anonymous users) or to `applicationRole` (every logged-in user, or every user of one
product) exposes the projects that use its scheme. After a plan is built, `assess` lists each exposure the
plan adds or removes — by changing a scheme's grants or by moving a project onto another scheme — with the
projects concerned, refuses added exposure under `settings.exposure: deny`, and refuses to delete a scheme
that projects still use. The project-to-scheme map costs a search plus one GET per project, so a plan reads
it only when a live scheme's grants change, a new scheme's exposure changes, or a scheme is deleted
(`needs_project_map`); exposure and the access diff (reconciler/access.py) share that one read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from reconciler.errors import Diagnostic, error
from reconciler.kinds.kind import Action, Change
from reconciler.live import LiveState
from reconciler.plan.model import Exposure, Plan
from reconciler.state import DesiredState

SCHEMES, PROJECTS = "permissionSchemes", "projects"
ProjectMap = Mapping[str, str]  # project key -> name of the scheme it uses now


def is_exposing(grant: str) -> bool:
    """Whether a grant label (`KEY: holder`) grants to anyone or to an application role."""
    holder = grant.partition(": ")[2]
    return holder in ("anyone", "applicationRole") or holder.startswith("applicationRole:")


def needs_project_map(plan: Plan) -> bool:
    """Scheme deletes, and changes to the grants of a live scheme (or to a new one's exposure), need to know
    every project's scheme: the projects on it are not all declared. A move alone does not: both of its
    schemes were read, and the access diff and exposure of a move concern the moved project only."""
    return any(
        change.kind == SCHEMES
        and (
            change.action is Action.DELETE
            or _grant_delta(change) != (set(), set())
            or (change.before is not None and _grants(change.before) != _grants(change.after))
        )
        for change in plan.changes
    )


def assess(plan: Plan, desired: DesiredState, live: LiveState, project_map: ProjectMap) -> Plan:
    """The plan with its exposure listed and the exposure and scheme-in-use errors added. `project_map` is
    every project's scheme when `needs_project_map(plan)` (kinds/project.py, `project_schemes`)."""
    if SCHEMES not in live.objects:
        return plan  # --target without schemes: nothing to compare a move against
    moves = _moves(plan.changes)
    exposure = _scheme_exposure(plan.changes, project_map, moves) + _move_exposure(plan.changes, live, moves)
    problems = _denied(exposure, plan.changes) if desired.settings.exposure == "deny" else []
    problems += _scheme_in_use(plan, project_map)
    return replace(
        plan,
        exposure=tuple(exposure),
        diagnostics=(*plan.diagnostics, *problems),
    )


def _grants(essence: Mapping[str, Any] | None) -> set[str]:
    return set((essence or {}).get("grants", ()))


def _exposing(essence: Mapping[str, Any] | None) -> set[str]:
    return {grant for grant in (essence or {}).get("grants", ()) if is_exposing(grant)}


def _grant_delta(change: Change) -> tuple[set[str], set[str]]:
    before, after = _exposing(change.before), _exposing(change.after)
    return after - before, before - after


def _users_after(
    change: Change, project_map: Mapping[str, str], moves: Mapping[str, Change]
) -> tuple[str, ...]:
    """The projects on this scheme once the plan is applied."""
    old_name = change.before["name"] if change.before else None
    new_name = change.after["name"] if change.after else None
    users = set()
    for key, scheme in project_map.items():
        move = moves.get(key)
        now = move.after["permissionScheme"] if move and move.after else None
        if (move is None and scheme == old_name) or (now is not None and now == new_name):
            users.add(key)
    if change.action is Action.DELETE:  # the scheme goes: those who used it before it was emptied
        users |= {key for key, scheme in project_map.items() if scheme == old_name}
    return tuple(sorted(users))


def _scheme_exposure(
    changes: Iterable[Change], project_map: Mapping[str, str], moves: Mapping[str, Change]
) -> list[Exposure]:
    found: list[Exposure] = []
    for change in changes:
        if change.kind != SCHEMES:
            continue
        added, removed = _grant_delta(change)
        if not added and not removed:
            continue
        scheme = (change.after or change.before or {})["name"]
        users = _users_after(change, project_map, moves)
        found += [Exposure("added", scheme, g, users, str(change.address)) for g in sorted(added)]
        found += [Exposure("removed", scheme, g, users, str(change.address)) for g in sorted(removed)]
    return found


def _move_exposure(changes: Iterable[Change], live: LiveState, moves: Mapping[str, Change]) -> list[Exposure]:
    """A project moved onto a scheme gains the grants to anyone and applicationRole that its old scheme
    lacks, and loses those that only the old one had. Grants the plan adds to the new scheme itself are
    listed with the scheme, the moved project among its users."""
    scheme_changes = {c.after["name"]: c for c in changes if c.kind == SCHEMES and c.after}
    live_schemes = {obj.essence["name"]: obj.essence for obj in live.of(SCHEMES)}
    found: list[Exposure] = []
    for key, move in sorted(moves.items()):
        assert move.before is not None and move.after is not None
        old_name, new_name = move.before["permissionScheme"], move.after["permissionScheme"]
        target = scheme_changes.get(new_name)
        after = _exposing(target.after if target else live_schemes.get(new_name))
        listed_with_scheme = _grant_delta(target)[0] if target else set()
        before = _exposing(live_schemes.get(old_name))
        cause = str(move.address)
        found += [
            Exposure("added", new_name, g, (key,), cause) for g in sorted(after - before - listed_with_scheme)
        ]
        found += [Exposure("removed", old_name, g, (key,), cause) for g in sorted(before - after)]
    return found


def deletes_schemes(plan: Plan) -> bool:
    """Whether the plan deletes a scheme, which `schemes_left_in_use` must then check."""
    return any(change.kind == SCHEMES and change.action is Action.DELETE for change in plan.changes)


def schemes_left_in_use(plan: Plan, project_map: ProjectMap) -> list[tuple[Change, list[str]]]:
    """Each scheme delete of the plan with the projects that use the scheme and that the plan does not move:
    the site does not refuse the delete, and those projects would fall back to another scheme."""
    moves = _moves(plan.changes)
    found: list[tuple[Change, list[str]]] = []
    for change in plan.changes:
        if change.kind != SCHEMES or change.action is not Action.DELETE or change.before is None:
            continue
        name = change.before["name"]
        staying = sorted(key for key, scheme in project_map.items() if scheme == name and key not in moves)
        if staying:
            found.append((change, staying))
    return found


def _moves(changes: Iterable[Change]) -> dict[str, Change]:
    """The plan's project moves, by project key."""
    return {
        change.address.name: change
        for change in changes
        if change.kind == PROJECTS and change.before and change.after
    }


def _scheme_in_use(plan: Plan, project_map: ProjectMap) -> list[Diagnostic]:
    return [
        error(
            "plan.scheme_in_use",
            f"the plan deletes this scheme, but {len(staying)} project(s) use it "
            f"and no manifest moves them: {', '.join(staying)}; declare them under "
            "`projects` with another permissionScheme, or keep the scheme",
            address=str(change.address),
        )
        for change, staying in schemes_left_in_use(plan, project_map)
    ]


def _denied(exposure: Iterable[Exposure], changes: Iterable[Change]) -> list[Diagnostic]:
    sources = {str(change.address): change.source for change in changes}
    return [
        error("plan.exposure", _denial(item), source=sources.get(item.cause), address=item.cause)
        for item in exposure
        if item.change == "added"
    ]


def _denial(item: Exposure) -> str:
    if item.cause.startswith(f"{PROJECTS}/"):
        what = f"moving the project onto {item.scheme} exposes it through {item.grant}"
    else:
        users = f"projects {', '.join(item.projects)}" if item.projects else "no project yet"
        what = f"the scheme gains {item.grant}, which exposes {users}"
    return f"{what}; settings.exposure is deny"
