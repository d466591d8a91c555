"""The one gate between a plan and the site: whether a plan may be applied, and if not, why.

It reads finished plans and never takes part in building one (the octoDNS and SQLMesh shape): once a plan
is built, `judge_thresholds` judges each kind's share of destructive and updating changes against
settings.thresholds (or lets it pass with --force). Its verdicts are diagnostics of the plan, so the plan
shows them and a saved plan keeps them. Before anything is written, `check_fresh` refuses a saved plan
whose site or touched objects changed, `check_schemes_unused` one whose scheme deletes a project has moved
onto since, and `check_applicable` a plan with errors or a destructive plan
without --allow-delete. The CLI and the GitHub Action (which runs the CLI) ask here; neither decides on
its own. (Protected objects are kept out of deletes and replaces while the plan is built, as the desired
state says: `DesiredState.protects`.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from reconciler.diff import diff_essences
from reconciler.errors import (
    ConfigError,
    Diagnostic,
    PlanMismatchError,
    SourceSpan,
    UnsafePlanError,
    error,
    warning,
)
from reconciler.exposure import ProjectMap, schemes_left_in_use
from reconciler.kinds.kind import Action, Change, ResourceKind
from reconciler.live import LiveState
from reconciler.plan.model import Plan
from reconciler.state import DesiredState, Thresholds

# The settings.thresholds keys that a plan can pass, as the manifests write them.
LIMIT_KEYS = ("maxDeletePercent", "maxUpdatePercent")


def judge_thresholds(plan: Plan, live: LiveState, desired: DesiredState, force: bool) -> Plan:
    """The plan with the verdicts of settings.thresholds among its diagnostics, each at the limit it passes:
    each kind's changes are measured against the objects of that kind the plan read. Judge the plan before
    --target narrows it: the thresholds weigh everything the manifests would do."""
    thresholds = desired.settings.thresholds
    if thresholds is None:
        return plan
    sources = {key: desired.locate_setting("thresholds", key) for key in LIMIT_KEYS}
    by_kind: dict[str, list[Change]] = defaultdict(list)
    for change in plan.changes:
        by_kind[change.kind].append(change)
    found = [
        problem
        for kind, changes in by_kind.items()
        for problem in threshold_problems(
            kind,
            [change.action for change in changes],
            len(live.of(kind)),
            thresholds,
            force,
            losing_data=sum(change.loses_data for change in changes),
            sources=sources,
        )
    ]
    return plan.with_diagnostics(found)


def threshold_problems(
    kind: str,
    actions: Sequence[Action],
    existing: int,
    thresholds: Thresholds,
    force: bool,
    *,
    losing_data: int = 0,
    sources: Mapping[str, SourceSpan | None] | None = None,
) -> list[Diagnostic]:
    """An error (a warning with --force) where one kind's changes pass settings.thresholds. `losing_data`
    of the updates may lose stored data: they count as deletes."""
    if existing < thresholds.min_existing or existing == 0:
        return []
    deleting = sum(1 for action in actions if action.destructive) + losing_data
    updating = sum(1 for action in actions if action in (Action.UPDATE, Action.RENAME)) - losing_data
    found: list[Diagnostic] = []
    delete_key, update_key = LIMIT_KEYS
    for what, count, limit, key in (
        ("delete or replace", deleting, thresholds.max_delete_percent, delete_key),
        ("update or rename", updating, thresholds.max_update_percent, update_key),
    ):
        if limit is None or count * 100 <= limit * existing:
            continue
        share = count * 100 / existing
        message = (
            f"the plan would {what} {count} of {existing} existing {kind} ({share:.0f}%), "
            f"more than settings.thresholds allows ({limit}%)"
        )
        where = (sources or {}).get(key)
        if force:
            found.append(
                warning(
                    "plan.threshold", message + "; going ahead because of --force", source=where, address=kind
                )
            )
        else:
            found.append(
                error(
                    "plan.threshold",
                    message + "; review it and pass --force to go ahead",
                    source=where,
                    address=kind,
                )
            )
    return found


def check_applicable(plan: Plan, *, allow_delete: bool) -> None:
    """Raise unless `plan` may be applied (a saved plan also passes `check_fresh` first)."""
    if plan.has_errors:
        raise ConfigError("the plan has errors (above); nothing was applied")
    if plan.destructive and not allow_delete:
        listing = "\n".join(
            f"  {c.action.symbol} {c.address}" + (f" ({c.reason})" if c.loses_data else "")
            for c in plan.destructive
        )
        raise UnsafePlanError(
            "the plan deletes or replaces objects, so nothing was applied. "
            f"Review them and pass --allow-delete:\n{listing}"
        )


def check_fresh(saved: Plan, live: LiveState, kinds: Sequence[ResourceKind]) -> None:
    """A saved plan of `kinds` applies only to its own site, and only while what it touches is unchanged."""
    if saved.site != live.site:
        raise PlanMismatchError(f"the plan was made for {saved.site}, not {live.site}; nothing was applied")
    current = live.fingerprints()
    stale = sorted(
        {
            str(change.address)
            for change in saved.changes
            for key in saved.touches.get(change.key, ())
            if current.get(key) != saved.fingerprints.get(key)
        }
    )
    if not stale:
        return
    listing = "\n".join(f"  {address}" for address in stale)
    if looks_applied(saved, live, kinds):
        raise PlanMismatchError(
            "the site already is as this plan leaves it: the plan was probably applied already. "
            f"Nothing was applied; run plan to see what remains.\n{listing}"
        )
    raise PlanMismatchError(
        f"the site changed since the plan was made, so nothing was applied; plan again.\n{listing}"
    )


def check_schemes_unused(saved: Plan, project_map: ProjectMap) -> None:
    """A saved plan's scheme delete stays fresh only while no project uses the scheme but those the plan
    moves off it (`project_map`: every project's scheme, read again). A delete's `touches` hold the scheme
    alone, so a project moved onto it since the plan was made is found here, not by `check_fresh`; the
    site would not refuse the delete, and that project would silently fall back to another scheme."""
    in_use = schemes_left_in_use(saved, project_map)
    if not in_use:
        return
    listing = "\n".join(
        f"  {change.address}: now used by project(s) {', '.join(keys)}, which the plan does not move"
        for change, keys in in_use
    )
    raise PlanMismatchError(
        "the site changed since the plan was made, so nothing was applied; plan again. The plan deletes "
        f"a permission scheme that projects have moved onto since:\n{listing}"
    )


def looks_applied(plan: Plan, live: LiveState, kinds: Sequence[ResourceKind]) -> bool:
    """Whether the site already is as the plan leaves it: each object's last change has taken effect."""
    if not plan.changes:
        return False
    by_name = {kind.name: kind for kind in kinds}
    last = {change.address: change for change in plan.changes}
    present = {obj.address: obj for objects in live.objects.values() for obj in objects}
    for address, change in last.items():
        if change.action is Action.DELETE or change.after is None:
            if address in present:
                return False
            continue
        kind = by_name[address.kind]
        current = present.get(address.renamed(str(change.after[kind.name_field])))
        if current is None or diff_essences(current.essence, change.after, kind.set_fields):
            return False
    return True
