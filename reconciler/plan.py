"""Building the plan: match desired to live objects, decide the actions, order them. Pure.

Matching follows MANIFEST.md: objects are matched by natural key (names compared as the API does);
`renamedFrom` turns a create + delete into a rename in place. Ordering makes the plan one the APIs
accept: a change that takes a name waits for the change that frees it; a swap or a rename cycle goes
through a temporary name; in a detail field entity that would pass its cap, deletes come first.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from graphlib import CycleError, TopologicalSorter
from typing import Any

from reconciler.address import Address
from reconciler.allocation import cycle_collection_paused
from reconciler.diff import diff_essences, scope_to_desired
from reconciler.errors import Diagnostic, Severity, SourceSpan, error, warning
from reconciler.kinds import KIND_INDEX, KINDS
from reconciler.kinds.kind import (
    Action,
    Change,
    DesiredObject,
    FieldDiff,
    Identity,
    LiveObject,
    ResourceKind,
    identity_key,
)
from reconciler.manifest import DesiredState, Thresholds
from reconciler.site.live import LiveState

FORMAT_VERSION = 1
ACTION_RANK = {Action.DELETE: 0, Action.RENAME: 1, Action.REPLACE: 2, Action.UPDATE: 3, Action.CREATE: 4}
# The cap the CSM API puts on detail fields per entity.
NAMESPACE_CAPACITY = {"detailFields": 50}


@dataclass(frozen=True)
class Plan:
    site: str
    changes: tuple[Change, ...]
    unmanaged: tuple[str, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    kinds: tuple[str, ...] = ()
    # identity key -> fingerprint of every live object read, so a saved plan can detect drift.
    fingerprints: Mapping[str, str] = field(default_factory=dict)
    # identity keys each change reads or takes: checked again before a saved plan is applied.
    touches: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def counts(self) -> dict[str, int]:
        counts = {action.value: 0 for action in Action}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    @property
    def destructive(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.destructive)

    @property
    def checksum(self) -> str:
        """Covers everything `apply --plan` relies on, so an edited plan file is refused."""
        covered = {
            "site": self.site,
            "changes": [_change_json(c) for c in self.changes],
            "diagnostics": [d.to_json() for d in self.diagnostics],
            "fingerprints": dict(self.fingerprints),
            "touches": {k: list(v) for k, v in self.touches.items()},
        }
        text = json.dumps(covered, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "formatVersion": FORMAT_VERSION,
            "site": self.site,
            "changes": [_change_json(c) for c in self.changes],
            "summary": self.counts,
            "unmanaged": list(self.unmanaged),
            "diagnostics": [d.to_json() for d in self.diagnostics],
            "kinds": list(self.kinds),
            "checksum": self.checksum,
            "fingerprints": dict(sorted(self.fingerprints.items())),
            "touches": {k: list(v) for k, v in self.touches.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        """Rebuild a saved plan. Raises KeyError/ValueError/TypeError on a malformed file."""
        if data.get("formatVersion") != FORMAT_VERSION:
            raise ValueError(f"unsupported plan formatVersion {data.get('formatVersion')!r}")
        changes = tuple(_change_from_json(c) for c in data["changes"])
        plan = cls(
            site=str(data["site"]),
            changes=changes,
            unmanaged=tuple(data.get("unmanaged", ())),
            # Errors travel with the plan: a plan that was refused stays refused when applied from a file.
            diagnostics=tuple(_diagnostic_from_json(d) for d in data.get("diagnostics", ())),
            kinds=tuple(data["kinds"]),
            fingerprints=dict(data["fingerprints"]),
            touches={k: tuple(v) for k, v in data["touches"].items()},
        )
        if data.get("checksum") != plan.checksum:
            raise ValueError("the plan's checksum does not match its changes: the file was edited")
        return plan


def _change_json(change: Change) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": change.key,
        "address": str(change.address),
        "kind": change.kind,
        "action": change.action.value,
        "before": change.before,
        "after": change.after,
        "destructive": change.destructive,
        "diff": [{"op": d.op, "path": list(d.path), "old": d.old, "new": d.new} for d in change.diffs],
        "dependsOn": sorted(change.depends_on),
        "context": dict(change.context),
    }
    if change.reason:
        data["reason"] = change.reason
    if change.source:
        data["source"] = {
            "file": change.source.file,
            "line": change.source.line,
            "column": change.source.column,
        }
    return data


def _diagnostic_from_json(data: Mapping[str, Any]) -> Diagnostic:
    source = SourceSpan(data["file"], data["line"], data["column"]) if "file" in data else None
    return Diagnostic(Severity(data["severity"]), data["code"], data["message"], source, data.get("address"))


def _change_from_json(data: Mapping[str, Any]) -> Change:
    address = Address.parse(data["address"])
    source = data.get("source")
    return Change(
        key=str(data["key"]),
        address=address,
        action=Action(data["action"]),
        before=data["before"],
        after=data["after"],
        diffs=tuple(FieldDiff(d["op"], tuple(d["path"]), d["old"], d["new"]) for d in data["diff"]),
        context=dict(data["context"]),
        depends_on=frozenset(data["dependsOn"]),
        reason=data.get("reason"),
        source=SourceSpan(source["file"], source["line"], source["column"]) if source else None,
    )


# --- building ----------------------------------------------------------------------------------------


@dataclass
class _Draft:
    """A change before ordering: what it does, and which names it frees and takes."""

    kind: ResourceKind
    address: Address
    action: Action
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    diffs: tuple[FieldDiff, ...]
    context: dict[str, Any]
    source: SourceSpan | None
    releases: set[Identity] = field(default_factory=set)
    claims: set[Identity] = field(default_factory=set)
    touches: set[str] = field(default_factory=set)
    waits_for: list[_Draft] = field(default_factory=list)
    reason: str | None = None
    step: int = 0
    key: str = ""


@cycle_collection_paused()
def build_plan(
    desired: DesiredState,
    live: LiveState,
    *,
    targets: Sequence[Address] = (),
    force: bool = False,
) -> Plan:
    diagnostics: list[Diagnostic] = []
    drafts: list[_Draft] = []
    unmanaged: list[str] = []
    for kind in KINDS:
        if kind.name not in live.objects:
            continue
        desired_objects, problems = kind.desired(desired, live.lookups)
        diagnostics += problems
        kind_drafts, kind_unmanaged, kind_diagnostics = _plan_kind(
            kind, desired_objects, live.of(kind.name), desired
        )
        drafts += kind_drafts
        unmanaged += kind_unmanaged
        diagnostics += kind_diagnostics
        thresholds = desired.settings.thresholds
        if thresholds is not None:
            diagnostics += _check_thresholds(
                kind.name, kind_drafts, len(live.of(kind.name)), thresholds, force
            )
    ordered, touches, order_problems = _order(drafts, live)
    diagnostics += order_problems
    if targets:
        ordered, target_problems = _select_targets(ordered, targets)
        diagnostics += target_problems
    return Plan(
        site=live.site,
        changes=ordered,
        unmanaged=tuple(sorted(unmanaged)),
        diagnostics=tuple(_sorted_diagnostics(diagnostics)),
        kinds=tuple(name for name in live.objects),
        fingerprints=live.fingerprints(),
        touches={change.key: touches[change.key] for change in ordered},
    )


def _plan_kind(
    kind: ResourceKind,
    desired_objects: list[DesiredObject],
    live_objects: Sequence[LiveObject],
    state: DesiredState,
) -> tuple[list[_Draft], list[str], list[Diagnostic]]:
    live_by_identity: dict[Identity, LiveObject] = {}
    twins: list[LiveObject] = []
    for obj in live_objects:
        if live_by_identity.setdefault(obj.identity, obj) is not obj:
            twins.append(obj)  # the site allows it for some kinds (products); the first one is matched
    matches, diagnostics = _match(desired_objects, live_by_identity)
    diagnostics += [
        warning(
            "plan.duplicate_live",
            f"the site has more than one {twin.address} (ids {live_by_identity[twin.identity].server_id}, "
            f"{twin.server_id}); the first is managed, the others are treated as not declared",
            address=str(twin.address),
        )
        for twin in twins
    ]
    drafts: list[_Draft] = []
    matched_live: set[int] = set()  # ids of the live objects matched: twins share an identity
    protected = _Protection(state.protected)
    for wanted in desired_objects:
        current = matches.get(wanted.identity)
        if current is None:
            drafts.append(_draft(kind, Action.CREATE, wanted, None))
            continue
        matched_live.add(id(current))
        diagnostics += kind.notes(wanted, current)
        if not kind.can_update_in_place(current.essence, wanted.essence):
            if protected.covers(current.address):
                diagnostics.append(
                    error(
                        "plan.protected",
                        f"{wanted.address} would be replaced (deleted and created again), "
                        f"but {current.address} is protected in settings.protect",
                        source=wanted.source,
                        address=str(wanted.address),
                    )
                )
                continue
            drafts.append(_draft(kind, Action.REPLACE, wanted, current))
        elif current.identity != wanted.identity:
            drafts.append(_draft(kind, Action.RENAME, wanted, current))
        elif diff_essences(current.essence, wanted.essence, kind.set_fields):
            drafts.append(_draft(kind, Action.UPDATE, wanted, current))
    unmanaged: list[str] = []
    for obj in live_objects:
        if id(obj) in matched_live:
            continue
        if kind.name in state.prune and not protected.covers(obj.address):
            drafts.append(_draft(kind, Action.DELETE, None, obj))
        else:
            unmanaged.append(str(obj.address))
    return drafts, unmanaged, diagnostics


def _match(
    desired_objects: list[DesiredObject], live_by_identity: Mapping[Identity, LiveObject]
) -> tuple[dict[Identity, LiveObject], list[Diagnostic]]:
    """Which live object each desired object becomes (MANIFEST.md, "Identity and addresses").

    An object whose name is live keeps it, unless that live object is the earlier name of an object
    that must be renamed (a rename chain). Objects that name each other in `renamedFrom` while all
    their names are live (a swap or rotation) are renamed only when the live objects fit the manifests
    better that way: once applied, the names line up and the same manifests plan no changes.
    """
    renaming = _needing_rename(desired_objects, live_by_identity)
    matches: dict[Identity, LiveObject] = {}
    taken: set[Identity] = set()
    diagnostics: list[Diagnostic] = []

    def take(wanted: DesiredObject, identity: Identity) -> None:
        matches[wanted.identity] = live_by_identity[identity]
        taken.add(identity)

    for wanted in desired_objects:
        if wanted.identity not in renaming and wanted.identity in live_by_identity:
            take(wanted, wanted.identity)
    for wanted in desired_objects:
        if wanted.identity not in renaming:
            continue
        earlier = [old for old in wanted.renamed_from if old in live_by_identity and old not in taken]
        if len(earlier) > 1:
            names = ", ".join(repr(live_by_identity[old].essence["name"]) for old in earlier)
            diagnostics.append(
                error(
                    "plan.rename_ambiguous",
                    f"several earlier names of {wanted.address} exist on the site ({names}); "
                    "keep only one of them in renamedFrom",
                    source=wanted.source,
                    address=str(wanted.address),
                )
            )
        elif earlier:
            take(wanted, earlier[0])
        elif wanted.identity in live_by_identity and wanted.identity not in taken:
            take(wanted, wanted.identity)
    for wanted in desired_objects:
        current = matches.get(wanted.identity)
        if current is None or current.identity != wanted.identity:
            continue
        for old in wanted.renamed_from:
            if old in live_by_identity and old not in taken:
                earlier_name = live_by_identity[old].essence["name"]
                diagnostics.append(
                    error(
                        "plan.rename_conflict",
                        f"both {wanted.address} and its earlier name {earlier_name!r} exist on the site; "
                        "delete one of them or remove the name from renamedFrom",
                        source=wanted.source,
                        address=str(wanted.address),
                    )
                )
    return matches, diagnostics


def _needing_rename(
    desired_objects: list[DesiredObject], live_by_identity: Mapping[Identity, LiveObject]
) -> set[Identity]:
    """The desired objects that take their live object from an earlier name."""
    renaming = {obj.identity for obj in desired_objects if obj.identity not in live_by_identity}
    while True:
        # A live name that an object being renamed takes away is no longer there for its owner.
        claimed = {old for obj in desired_objects if obj.identity in renaming for old in obj.renamed_from}
        freed = {
            obj.identity
            for obj in desired_objects
            if obj.identity not in renaming and obj.identity in claimed
        }
        if not freed:
            break
        renaming |= freed
    for cycle in _rename_cycles(desired_objects, live_by_identity, renaming):
        if _misfits(cycle, live_by_identity, rotated=True) < _misfits(cycle, live_by_identity, rotated=False):
            renaming.update(obj.identity for obj, _ in cycle)
    return renaming


def _rename_cycles(
    desired_objects: list[DesiredObject],
    live_by_identity: Mapping[Identity, LiveObject],
    renaming: set[Identity],
) -> list[list[tuple[DesiredObject, Identity]]]:
    """Cycles of objects whose names are all live and which name each other as earlier names:
    each entry is (object, the earlier name it would take)."""
    staying = {
        obj.identity: obj
        for obj in desired_objects
        if obj.identity in live_by_identity and obj.identity not in renaming
    }
    successor: dict[Identity, Identity] = {}
    for identity, obj in staying.items():
        earlier = [old for old in obj.renamed_from if old in staying and old != identity]
        if len(earlier) == 1:
            successor[identity] = earlier[0]
    cycles: list[list[tuple[DesiredObject, Identity]]] = []
    seen: set[Identity] = set()
    for start in sorted(successor):
        path: list[Identity] = []
        node: Identity | None = start
        while node is not None and node not in seen and node not in path:
            path.append(node)
            node = successor.get(node)
        seen.update(path)
        if node is not None and node in path:
            cycle = path[path.index(node) :]
            cycles.append([(staying[identity], successor[identity]) for identity in cycle])
    return cycles


def _misfits(
    cycle: list[tuple[DesiredObject, Identity]],
    live_by_identity: Mapping[Identity, LiveObject],
    *,
    rotated: bool,
) -> int:
    """How many objects of the cycle would need more than a new name, matched as they are or rotated."""

    def unnamed(essence: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in essence.items() if k != "name"}

    count = 0
    for wanted, earlier in cycle:
        current = live_by_identity[earlier if rotated else wanted.identity]
        if unnamed(scope_to_desired(current.essence, wanted.essence)) != unnamed(wanted.essence):
            count += 1
    return count


def _draft(
    kind: ResourceKind, action: Action, wanted: DesiredObject | None, current: LiveObject | None
) -> _Draft:
    if wanted is not None:
        address = wanted.address
    else:
        assert current is not None
        address = current.address
    before = dict(current.essence) if current else None
    after = {**(current.essence if current else {}), **wanted.essence} if wanted else None
    diffs = diff_essences(current.essence, wanted.essence, kind.set_fields) if current and wanted else ()
    draft = _Draft(
        kind=kind,
        address=address,
        action=action,
        before=before,
        after=after,
        diffs=diffs,
        context=kind.write_context(wanted, current),
        source=wanted.source if wanted else None,
    )
    if current is not None:
        draft.touches.add(identity_key(kind.name, current.identity))
        if action in (Action.DELETE, Action.RENAME, Action.REPLACE) and (
            not wanted or wanted.identity != current.identity
        ):
            draft.releases.add(current.identity)
    if wanted is not None:
        draft.touches.add(identity_key(kind.name, wanted.identity))
        if current is None or current.identity != wanted.identity:
            draft.claims.add(wanted.identity)
    if action is Action.REPLACE:
        assert before is not None and after is not None
        draft.reason = kind.replace_reason(before, after)
    elif action is Action.RENAME and current is not None:
        draft.reason = f"renamed from {current.essence['name']!r}"
    return draft


class _Protection:
    def __init__(self, protected: Iterable[Address]) -> None:
        self._keys = {self._key(address) for address in protected}

    @staticmethod
    def _key(address: Address) -> tuple[str, str, str]:
        if address.kind == "detailFields":  # names are case-insensitive there
            return (address.kind, address.scope, address.name.casefold())
        return (address.kind, address.scope, address.name)

    def covers(self, address: Address) -> bool:
        return self._key(address) in self._keys


def _check_thresholds(
    kind: str, drafts: list[_Draft], existing: int, thresholds: Thresholds, force: bool
) -> list[Diagnostic]:
    if existing < thresholds.min_existing or existing == 0:
        return []
    deleting = sum(1 for d in drafts if d.action.destructive)
    updating = sum(1 for d in drafts if d.action in (Action.UPDATE, Action.RENAME))
    found: list[Diagnostic] = []
    for what, count, limit in (
        ("delete or replace", deleting, thresholds.max_delete_percent),
        ("update or rename", updating, thresholds.max_update_percent),
    ):
        if limit is None or count * 100 <= limit * existing:
            continue
        share = count * 100 / existing
        message = (
            f"the plan would {what} {count} of {existing} existing {kind} ({share:.0f}%), "
            f"more than settings.thresholds allows ({limit}%)"
        )
        if force:
            found.append(
                warning("plan.threshold", message + "; going ahead because of --force", address=kind)
            )
        else:
            found.append(
                error("plan.threshold", message + "; review it and pass --force to go ahead", address=kind)
            )
    return found


# --- ordering ----------------------------------------------------------------------------------------


def _order(
    drafts: list[_Draft], live: LiveState
) -> tuple[tuple[Change, ...], dict[str, tuple[str, ...]], list[Diagnostic]]:
    drafts = _break_rename_cycles(drafts)
    _assign_keys(drafts)
    edges = _dependencies(drafts, live)
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for draft in drafts:
        sorter.add(draft.key, *sorted(edges[draft.key]))
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        return (), {}, [error("plan.cycle", f"these changes wait for each other: {cycle}")]
    by_key = {d.key: d for d in drafts}
    ready: list[tuple[Any, ...]] = []
    ordered: list[_Draft] = []
    while sorter.is_active():
        for key in sorter.get_ready():
            heapq.heappush(ready, (_sort_key(by_key[key]), key))
        _, key = heapq.heappop(ready)
        ordered.append(by_key[key])
        sorter.done(key)
    changes = tuple(
        Change(
            key=d.key,
            address=d.address,
            action=d.action,
            before=d.before,
            after=d.after,
            diffs=d.diffs,
            context=d.context,
            depends_on=frozenset(edges[d.key]),
            reason=d.reason,
            source=d.source,
        )
        for d in ordered
    )
    return changes, {d.key: tuple(sorted(d.touches)) for d in ordered}, []


def _sort_key(draft: _Draft) -> tuple[Any, ...]:
    kind_index = KIND_INDEX[draft.kind.name]
    deleting = draft.action is Action.DELETE
    # Deletes first and in reverse kind order (referrers before what they refer to), then the rest.
    return (
        0 if deleting else 1,
        -kind_index if deleting else kind_index,
        ACTION_RANK[draft.action],
        str(draft.address),
        draft.step,
    )


def _assign_keys(drafts: list[_Draft]) -> None:
    seen: dict[str, int] = defaultdict(int)
    for draft in sorted(drafts, key=_sort_key):
        base = str(draft.address)
        seen[base] += 1
        draft.key = base if seen[base] == 1 else f"{base}#{seen[base]}"


def _dependencies(drafts: list[_Draft], live: LiveState) -> dict[str, set[str]]:
    """key -> keys of the changes that must finish first."""
    edges: dict[str, set[str]] = {d.key: set() for d in drafts}
    releasers: dict[tuple[str, Identity], list[_Draft]] = defaultdict(list)
    for draft in drafts:
        for identity in draft.releases:
            releasers[(draft.kind.name, identity)].append(draft)
    for draft in drafts:
        edges[draft.key].update(w.key for w in draft.waits_for)
        for identity in draft.claims:
            for releaser in releasers[(draft.kind.name, identity)]:
                if releaser is not draft:
                    edges[draft.key].add(releaser.key)
    for kind_name, capacity in NAMESPACE_CAPACITY.items():
        present: dict[str, int] = defaultdict(int)
        for obj in live.of(kind_name):
            present[obj.identity[0]] += 1
        by_namespace: dict[str, list[_Draft]] = defaultdict(list)
        for draft in drafts:
            if draft.kind.name == kind_name:
                by_namespace[draft.address.scope].append(draft)
        for namespace, group in by_namespace.items():
            creates = [d for d in group if d.action is Action.CREATE]
            deletes = [d for d in group if d.action is Action.DELETE]
            if present[namespace] + len(creates) > capacity:
                for create in creates:
                    edges[create.key].update(d.key for d in deletes)
    return edges


def _break_rename_cycles(drafts: list[_Draft]) -> list[_Draft]:
    """Park one rename of each cycle (a swap, a rotation) under a temporary name first."""
    result = list(drafts)
    renames = [d for d in result if d.action in (Action.RENAME, Action.REPLACE) and d.claims and d.releases]
    claimers = {(d.kind.name, identity): d for d in renames for identity in d.claims}
    visited: set[int] = set()
    for start in sorted(renames, key=lambda d: str(d.address)):
        path: list[_Draft] = []
        node: _Draft | None = start
        while node is not None and id(node) not in visited:
            visited.add(id(node))
            path.append(node)
            node = next(
                (
                    claimers[(node.kind.name, i)]
                    for i in sorted(node.releases)
                    if (node.kind.name, i) in claimers
                ),
                None,
            )
        if node is None or node not in path:
            continue
        parked = node
        index = result.index(parked)
        result[index : index + 1] = _park(parked)
    return result


def _park(draft: _Draft) -> list[_Draft]:
    assert draft.before is not None and draft.after is not None
    old_name, new_name = draft.before["name"], draft.after["name"]
    token = hashlib.sha256(f"{draft.address}|{old_name}".encode()).hexdigest()[:6]
    temporary = draft.kind.temporary_name(old_name, token)
    namespace = next(iter(draft.releases))[0]
    parked_identity = (namespace, temporary.casefold() if draft.kind.name == "detailFields" else temporary)
    first = replace(
        draft,
        action=Action.RENAME,
        after={**draft.before, "name": temporary},
        diffs=(FieldDiff("change", ("name",), old_name, temporary),),
        claims={parked_identity},
        reason=f"temporary name, to free {old_name!r} for another rename",
        touches=set(draft.touches),
        step=1,
    )
    second = replace(
        draft,
        before={**draft.before, "name": temporary},
        diffs=tuple(
            d if d.path != ("name",) else FieldDiff("change", ("name",), temporary, new_name)
            for d in draft.diffs
        ),
        releases=set(),
        reason=draft.reason,
        touches=set(draft.touches),
        waits_for=[first],
        step=2,
    )
    return [first, second]


def _select_targets(
    changes: tuple[Change, ...], targets: Sequence[Address]
) -> tuple[tuple[Change, ...], list[Diagnostic]]:
    wanted = {str(t) for t in targets}
    by_key = {c.key: c for c in changes}
    keep: set[str] = set()
    stack = [c.key for c in changes if str(c.address) in wanted]
    while stack:
        key = stack.pop()
        if key not in keep:
            keep.add(key)
            stack.extend(by_key[key].depends_on)
    found = {str(c.address) for c in changes if c.key in keep}
    problems = [
        warning("plan.target", f"--target {target}: no change to make there", address=target)
        for target in sorted(wanted - found)
    ]
    return tuple(c for c in changes if c.key in keep), problems


def _sorted_diagnostics(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    def key(d: Diagnostic) -> tuple[Any, ...]:
        source = d.source
        return (
            source is None,
            source.file if source else "",
            source.line if source else 0,
            source.column if source else 0,
            d.address or "",
            d.code,
            d.message,
        )

    return sorted(diagnostics, key=key)


def kinds_for(names: Iterable[str] | None) -> tuple[ResourceKind, ...]:
    """The kinds to read: all of them, or the named ones in registry order."""
    if names is None:
        return KINDS
    chosen = set(names)
    return tuple(kind for kind in KINDS if kind.name in chosen)
