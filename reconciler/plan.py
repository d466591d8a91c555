"""Building the plan: match desired to live objects, decide the actions, order them. Pure.

Matching follows MANIFEST.md: objects are matched by natural key (names compared as the API does);
`renamedFrom` turns a create + delete into a rename in place. Ordering makes the plan one the APIs
accept: a change that takes a name waits for the change that frees it; a change that comes to name an
object of another kind (a project's scheme) waits for the change that creates it, and a delete waits for the
changes that stop naming it; in a scope that would pass its kind's capacity, deletes come first. What may be
applied is decided in safety.py.
"""

from __future__ import annotations

import difflib
import hashlib
import heapq
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from graphlib import CycleError, TopologicalSorter
from typing import Any

from reconciler.address import Address, Target
from reconciler.allocation import cycle_collection_paused
from reconciler.diff import diff_essences
from reconciler.errors import Diagnostic, Severity, SourceSpan, error, warning
from reconciler.exposure import Exposure
from reconciler.kinds import KIND_INDEX, KINDS, get_kind
from reconciler.kinds.kind import (
    Action,
    Change,
    DesiredObject,
    FieldDiff,
    Identity,
    LiveObject,
    Reference,
    ResourceKind,
    WriteData,
)
from reconciler.manifest import DesiredState
from reconciler.policy_rules import Violation, kinds_judged
from reconciler.safety import Protection, threshold_problems
from reconciler.site.live import LiveState

FORMAT_VERSION = 1
ACTION_RANK = {Action.DELETE: 0, Action.RENAME: 1, Action.REPLACE: 2, Action.UPDATE: 3, Action.CREATE: 4}


@dataclass(frozen=True)
class Plan:
    site: str
    changes: tuple[Change, ...]
    unmanaged: tuple[str, ...] = ()
    # In a pruned kind, declared nowhere, and kept because settings.protect lists them.
    protected: tuple[str, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    kinds: tuple[str, ...] = ()
    # identity key -> fingerprint of every live object read, so a saved plan can detect drift.
    fingerprints: Mapping[str, str] = field(default_factory=dict)
    # identity keys each change reads or takes: checked again before a saved plan is applied.
    touches: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Grants to anyone or applicationRole the plan adds or removes (reconciler.exposure).
    exposure: tuple[Exposure, ...] = ()
    # The rules of settings.policies that the site breaks once the plan is applied (reconciler.policies).
    policy: tuple[Violation, ...] = ()

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
            "exposure": [e.to_json() for e in self.exposure],
            "policy": [v.to_json() for v in self.policy],
        }
        text = json.dumps(covered, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def changes_digest(self) -> str:
        """What a reviewer sees, hashed (CLI.md `changesDigest`): the changes and the exposure, in a canonical
        order. Left out is what two reads of an unchanged site may tell differently: fingerprints, the ids
        the writes use (`context`), the execution order, manifest positions."""
        canonical = {
            "changes": sorted((_reviewed_change(c) for c in self.changes), key=_canonical_json),
            "exposure": sorted(
                ({**e.to_json(), "projects": sorted(e.projects)} for e in self.exposure), key=_canonical_json
            ),
        }
        return hashlib.sha256(_canonical_json(canonical).encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "formatVersion": FORMAT_VERSION,
            "site": self.site,
            "changesDigest": self.changes_digest,
            "exposure": [e.to_json() for e in self.exposure],
            "policy": [v.to_json() for v in self.policy],
            "changes": [_change_json(c) for c in self.changes],
            "summary": self.counts,
            "unmanaged": list(self.unmanaged),
            "protected": list(self.protected),
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
            protected=tuple(data.get("protected", ())),
            # Errors travel with the plan: a plan that was refused stays refused when applied from a file.
            diagnostics=tuple(Diagnostic.from_json(d) for d in data.get("diagnostics", ())),
            kinds=tuple(data["kinds"]),
            fingerprints=dict(data["fingerprints"]),
            touches={k: tuple(v) for k, v in data["touches"].items()},
            exposure=tuple(Exposure.from_json(e) for e in data.get("exposure", ())),
            policy=tuple(Violation.from_json(v) for v in data.get("policy", ())),
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
        "context": change.context.to_json(),
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


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _reviewed_change(change: Change) -> dict[str, Any]:
    """A change as a reviewer sees it (the kinds keep set fields sorted in their essences)."""
    return {
        "address": str(change.address),
        "action": change.action.value,
        "before": change.before,
        "after": change.after,
        "diff": [{"op": d.op, "path": list(d.path), "old": d.old, "new": d.new} for d in change.diffs],
        "destructive": change.destructive,
        "reason": change.reason,
    }


def _change_from_json(data: Mapping[str, Any]) -> Change:
    address = Address.parse(data["address"])
    source = data.get("source")
    action = Action(data["action"])
    return Change(
        key=str(data["key"]),
        address=address,
        action=action,
        before=data["before"],
        after=data["after"],
        diffs=tuple(FieldDiff(d["op"], tuple(d["path"]), d["old"], d["new"]) for d in data["diff"]),
        context=get_kind(address.kind).write_data.model_validate(data["context"]),
        depends_on=frozenset(data["dependsOn"]),
        reason=data.get("reason"),
        source=SourceSpan(source["file"], source["line"], source["column"]) if source else None,
        loses_data=bool(data["destructive"]) and not action.destructive,
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
    context: WriteData
    source: SourceSpan | None
    releases: set[Identity] = field(default_factory=set)
    claims: set[Identity] = field(default_factory=set)
    touches: set[str] = field(default_factory=set)
    reason: str | None = None
    loses_data: str | None = None  # what an update in place may lose (ResourceKind.loses_data)
    key: str = ""


@cycle_collection_paused()
def build_plan(
    desired: DesiredState,
    live: LiveState,
    *,
    targets: Sequence[Target] = (),
    force: bool = False,
) -> Plan:
    diagnostics: list[Diagnostic] = []
    drafts: list[_Draft] = []
    unmanaged: list[str] = []
    protected: list[str] = []
    declared: dict[str, list[DesiredObject]] = {}
    for kind in KINDS:
        # A kind no manifest names is not planned, even when read for what the named ones refer to.
        if kind.name not in live.objects or kind.name not in desired.named_kinds:
            continue
        desired_objects, problems = kind.desired(desired, live.lookups)
        declared[kind.name] = desired_objects
        diagnostics += problems
        current = _through_renames(kind, live.of(kind.name), drafts)
        kind_drafts, kind_unmanaged, kind_protected, kind_diagnostics = _plan_kind(
            kind, desired_objects, current, desired
        )
        drafts += kind_drafts
        unmanaged += kind_unmanaged
        protected += kind_protected
        diagnostics += kind_diagnostics
        thresholds = desired.settings.thresholds
        if thresholds is not None:
            actions = [draft.action for draft in kind_drafts]
            lossy = sum(draft.loses_data is not None for draft in kind_drafts)
            existing = len(live.of(kind.name))
            diagnostics += threshold_problems(
                kind.name, actions, existing, thresholds, force, losing_data=lossy
            )
    diagnostics += _reference_problems(declared, drafts, live, desired)
    ordered, touches, order_problems = _order(drafts, live)
    diagnostics += order_problems
    if targets:
        known = {*desired.objects, *(obj.address for objects in live.objects.values() for obj in objects)}
        ordered, target_problems = _select_targets(ordered, targets, known)
        diagnostics += target_problems
    return Plan(
        site=live.site,
        changes=ordered,
        unmanaged=tuple(sorted(unmanaged)),
        protected=tuple(sorted(protected)),
        diagnostics=tuple(_sorted_diagnostics(diagnostics)),
        kinds=tuple(name for name in live.objects),
        fingerprints=live.fingerprints(),
        touches={change.key: touches[change.key] for change in ordered},
    )


def _through_renames(
    kind: ResourceKind, live_objects: Sequence[LiveObject], drafts: Sequence[_Draft]
) -> Sequence[LiveObject]:
    """The live objects as the plan leaves the objects they name: a reference to an object the plan renames
    reads as its new name, so that a project on a renamed scheme is no change (kinds plan in registry order,
    so what they name is planned first)."""
    new_names = {
        old: str(draft.after["name"])
        for draft in drafts
        if draft.action is Action.RENAME and draft.after is not None
        for old in draft.releases
    }
    if not kind.refers_to or not new_names:
        return live_objects
    renamed = []
    for obj in live_objects:
        if obj.unreadable is not None:  # what it names is not known
            renamed.append(obj)
            continue
        essence = dict(obj.essence)
        for ref in kind.references(obj.essence):
            new_name = new_names.get(ref.identity)
            if new_name is not None:
                essence[ref.path[0]] = new_name
        renamed.append(replace(obj, essence=essence) if essence != obj.essence else obj)
    return renamed


def _plan_kind(
    kind: ResourceKind,
    desired_objects: list[DesiredObject],
    live_objects: Sequence[LiveObject],
    state: DesiredState,
) -> tuple[list[_Draft], list[str], list[str], list[Diagnostic]]:
    live_by_identity: dict[Identity, LiveObject] = {}
    twins: list[LiveObject] = []
    for obj in live_objects:
        if live_by_identity.setdefault(obj.identity, obj) is not obj:
            twins.append(obj)  # the site allows it for some kinds (products); the first one is matched
    matches, diagnostics, undecidable = _match(desired_objects, live_by_identity)
    diagnostics += kind.review(desired_objects, live_objects)
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
    protected = Protection(state.protected)
    for wanted in desired_objects:
        current = matches.get(wanted.identity)
        if current is None:
            cannot_create = kind.missing(wanted)
            if cannot_create is not None:
                diagnostics.append(cannot_create)
            else:
                drafts.append(_draft(kind, Action.CREATE, wanted, None))
            continue
        matched_live.add(id(current))
        if wanted.identity in undecidable:
            continue
        if current.unreadable is not None:
            diagnostics.append(
                error(
                    "plan.unreadable", current.unreadable, source=wanted.source, address=str(wanted.address)
                )
            )
            continue
        diagnostics += kind.notes(wanted, current)
        diffs = diff_essences(current.essence, wanted.essence, kind.set_fields)  # the one diff of the pair
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
            drafts.append(_draft(kind, Action.REPLACE, wanted, current, diffs))
        elif current.identity != wanted.identity:
            drafts.append(_draft(kind, Action.RENAME, wanted, current, diffs))
        elif diffs:
            drafts.append(_draft(kind, Action.UPDATE, wanted, current, diffs))
    diagnostics += [
        warning(
            "plan.loses_data",
            f"this update {draft.loses_data}; like a delete, it needs apply --allow-delete, and "
            "settings.thresholds count it as one",
            source=draft.source,
            address=str(draft.address),
        )
        for draft in drafts
        if draft.loses_data is not None
    ]
    unmanaged: list[str] = []
    kept: list[str] = []
    for obj in live_objects:
        if id(obj) in matched_live or obj.unreadable is not None:
            continue
        if kind.name not in state.prune:
            unmanaged.append(str(obj.address))
        elif protected.covers(obj.address):
            kept.append(str(obj.address))
        else:
            drafts.append(_draft(kind, Action.DELETE, None, obj))
    return drafts, unmanaged, kept, diagnostics


def _match(
    desired_objects: list[DesiredObject], live_by_identity: Mapping[Identity, LiveObject]
) -> tuple[dict[Identity, LiveObject], list[Diagnostic], set[Identity]]:
    """Which live object each desired object becomes (MANIFEST.md, "Identity and addresses").

    An object whose name is live keeps it, unless that live object is the earlier name of an object
    that must be renamed (a rename chain, whose new names are free). When an object's name and one of
    its earlier names are both live, the site alone cannot tell a rename still to do from one already
    done (a swap or rotation looks the same either way), so that is an error, never a guess: such
    objects come back as undecidable and get no change.
    """
    renaming = _needing_rename(desired_objects, live_by_identity)
    matches: dict[Identity, LiveObject] = {}
    taken: set[Identity] = set()
    diagnostics: list[Diagnostic] = []
    undecidable: set[Identity] = set()

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
    in_place = {
        wanted.identity: wanted
        for wanted in desired_objects
        if wanted.identity in matches and matches[wanted.identity].identity == wanted.identity
    }
    cyclic = _on_rename_cycles(in_place)
    for identity, wanted in in_place.items():
        for old in wanted.renamed_from:
            # An earlier name that no other object keeps, or one that goes round a cycle (a swap, a
            # rotation): the site looks the same before and after such a rename.
            if old in live_by_identity and (old not in taken or identity in cyclic):
                diagnostics.append(_both_names_live(wanted, matches[identity], live_by_identity[old]))
                undecidable.add(identity)
    return matches, diagnostics, undecidable


def _on_rename_cycles(in_place: Mapping[Identity, DesiredObject]) -> set[Identity]:
    """The objects, each on its own live name, whose renamedFrom leads back to themselves through
    other such objects. A completed rename chain ends in an object that names no earlier live one."""
    earlier = {
        identity: [old for old in wanted.renamed_from if old in in_place]
        for identity, wanted in in_place.items()
    }
    cyclic: set[Identity] = set()
    for start, names in earlier.items():
        seen: set[Identity] = set()
        stack = list(names)
        while stack:
            node = stack.pop()
            if node == start:
                cyclic.add(start)
                break
            if node not in seen:
                seen.add(node)
                stack.extend(earlier[node])
    return cyclic


def _both_names_live(wanted: DesiredObject, current: LiveObject, earlier: LiveObject) -> Diagnostic:
    earlier_name = earlier.essence["name"]
    return error(
        "plan.rename_conflict",
        f"{wanted.address} has an earlier name {earlier_name!r} in renamedFrom, and both are live: "
        f"{current.address} (id {current.server_id}) and {earlier.address} (id {earlier.server_id}); "
        "the site cannot tell a rename still to do from one already done, so nothing is planned for it; "
        f"go there in two steps: first rename {earlier_name!r} to a name that is free on the site "
        "(or delete it, or drop it from renamedFrom) and apply; then rename it to the name you want",
        source=wanted.source,
        address=str(wanted.address),
    )


def _needing_rename(
    desired_objects: list[DesiredObject], live_by_identity: Mapping[Identity, LiveObject]
) -> set[Identity]:
    """The desired objects that take their live object from an earlier name: those whose name is not
    live, and, along a rename chain, those whose live name such an object takes away."""
    renaming = {obj.identity for obj in desired_objects if obj.identity not in live_by_identity}
    while True:
        claimed = {old for obj in desired_objects if obj.identity in renaming for old in obj.renamed_from}
        freed = {
            obj.identity
            for obj in desired_objects
            if obj.identity not in renaming and obj.identity in claimed
        }
        if not freed:
            return renaming
        renaming |= freed


def _draft(
    kind: ResourceKind,
    action: Action,
    wanted: DesiredObject | None,
    current: LiveObject | None,
    diffs: tuple[FieldDiff, ...] = (),
) -> _Draft:
    if wanted is not None:
        address = wanted.address
    else:
        assert current is not None
        address = current.address
    before = dict(current.essence) if current else None
    after = {**(current.essence if current else {}), **wanted.essence} if wanted else None
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
        draft.touches.add(str(current.identity))
        if action in (Action.DELETE, Action.RENAME, Action.REPLACE) and (
            not wanted or wanted.identity != current.identity
        ):
            draft.releases.add(current.identity)
    if wanted is not None:
        draft.touches.add(str(wanted.identity))
        if current is None or current.identity != wanted.identity:
            draft.claims.add(wanted.identity)
    if action is Action.REPLACE:
        assert before is not None and after is not None
        draft.reason = kind.replace_reason(before, after)
    elif action is Action.RENAME and current is not None:
        draft.reason = f"renamed from {current.essence['name']!r}"
    if action in (Action.UPDATE, Action.RENAME) and before is not None and after is not None:
        draft.loses_data = kind.loses_data(before, after)
        if draft.loses_data is not None:
            draft.reason = f"{draft.reason}; {draft.loses_data}" if draft.reason else draft.loses_data
    return draft


# --- ordering ----------------------------------------------------------------------------------------


def _order(
    drafts: list[_Draft], live: LiveState
) -> tuple[tuple[Change, ...], dict[str, tuple[str, ...]], list[Diagnostic]]:
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
            loses_data=d.loses_data is not None,
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
    for key, waits_for in _reference_edges(drafts).items():
        edges[key] |= waits_for
    releasers: dict[Identity, list[_Draft]] = defaultdict(list)
    for draft in drafts:
        for identity in draft.releases:
            releasers[identity].append(draft)
    for draft in drafts:
        for identity in draft.claims:
            for releaser in releasers[identity]:
                if releaser is not draft:
                    edges[draft.key].add(releaser.key)
    for kind in KINDS:
        capacity = kind.capacity
        if capacity is None:
            continue
        present: dict[str, int] = defaultdict(int)
        for obj in live.of(kind.name):
            present[obj.identity.scope] += 1
        by_namespace: dict[str, list[_Draft]] = defaultdict(list)
        for draft in drafts:
            if draft.kind is kind:
                by_namespace[draft.address.scope].append(draft)
        for namespace, group in by_namespace.items():
            creates = [d for d in group if d.action is Action.CREATE]
            deletes = [d for d in group if d.action is Action.DELETE]
            if present[namespace] + len(creates) > capacity:
                for create in creates:
                    edges[create.key].update(d.key for d in deletes)
    return edges


def _references(draft: _Draft, essence: dict[str, Any] | None) -> set[Identity]:
    return {ref.identity for ref in draft.kind.references(essence)} if essence else set()


def _reference_edges(drafts: list[_Draft]) -> dict[str, set[str]]:
    """A change that comes to name an object waits for the change that creates or renames it into
    that name; the delete of an object waits for the changes that stop naming it (MANIFEST.md,
    "Projects and exposure": a scheme is created before projects move to it and deleted after)."""
    claimers: dict[Identity, list[_Draft]] = defaultdict(list)
    deleters: dict[Identity, list[_Draft]] = defaultdict(list)
    for draft in drafts:
        for identity in draft.claims:
            claimers[identity].append(draft)
        if draft.action is Action.DELETE:
            for identity in draft.releases:
                deleters[identity].append(draft)
    edges: dict[str, set[str]] = defaultdict(set)
    for draft in drafts:
        named_after, named_before = _references(draft, draft.after), _references(draft, draft.before)
        for target in named_after - named_before:
            edges[draft.key].update(c.key for c in claimers[target] if c is not draft)
        for target in named_before - named_after:
            for deleter in deleters[target]:
                edges[deleter.key].add(draft.key)
    return edges


def _reference_problems(
    declared: Mapping[str, list[DesiredObject]],
    drafts: list[_Draft],
    live: LiveState,
    state: DesiredState,
) -> list[Diagnostic]:
    """A reference must name an object the manifests declare or the site has and the plan keeps."""
    # Names the plan takes away: a delete's, or a rename's earlier name.
    deleted = {identity for d in drafts for identity in d.releases - d.claims}
    known = {obj.identity for objects in declared.values() for obj in objects}
    problems: list[Diagnostic] = []
    for kind in KINDS:
        for wanted in declared.get(kind.name, ()):
            for ref in kind.references(wanted.essence):
                if ref.identity.kind not in live.objects or ref.identity in known:
                    continue  # not read (--target): the site checks it when the change is applied
                problem = _reference_problem(ref, live, deleted, known)
                if problem:
                    problems.append(
                        error(
                            "plan.unknown_reference",
                            problem,
                            source=state.locate(wanted.address, *ref.path),
                            address=str(wanted.address),
                        )
                    )
    return problems


def _reference_problem(
    ref: Reference,
    live: LiveState,
    deleted: set[Identity],
    declared: set[Identity],
) -> str | None:
    name, kind = ref.identity.name, ref.identity.kind
    live_names = {obj.identity.name for obj in live.of(kind)}
    if name not in live_names:
        names = live_names | {identity.name for identity in declared if identity.kind == kind}
        near = difflib.get_close_matches(name, sorted(names), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        return f"no {ref.what} named {name!r} on the site or in the manifests{hint}"
    if ref.identity in deleted:
        return f"this plan deletes or renames the {ref.what} {name!r}, but this still names it"
    return None


def _select_targets(
    changes: tuple[Change, ...], targets: Sequence[Target], known: set[Address]
) -> tuple[tuple[Change, ...], list[Diagnostic]]:
    """The targeted changes and what they depend on; a target that names nothing known is an error."""
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
    return tuple(c for c in changes if c.key in keep), problems


def _nearest_target(target: Target, known: set[Address]) -> str:
    """`; did you mean '...'?` with the closest address of the target's kind (or team, for a team's roles)."""
    of_kind = [address for address in known if address.kind == target.kind]
    candidates = {str(address) for address in of_kind}
    candidates |= {f"{a.kind}/{a.scope}" for a in of_kind if target.address is None and a.scope}
    near = difflib.get_close_matches(target.text, sorted(candidates), n=1)
    return f"; did you mean {near[0]!r}?" if near else ""


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


def kinds_to_read(desired: DesiredState) -> frozenset[str]:
    """The kinds a plan reads (MANIFEST.md, "Kinds the manifests name"): those the manifests name, the
    kinds their objects refer to (a project's scheme), and those settings.policies judge."""
    named = desired.named_kinds
    return named.union(*(get_kind(name).refers_to for name in named), kinds_judged(desired.settings.policies))


def kinds_for(names: Iterable[str] | None) -> tuple[ResourceKind, ...]:
    """The kinds to read: all of them, or the named ones in registry order."""
    if names is None:
        return KINDS
    chosen = set(names)
    return tuple(kind for kind in KINDS if kind.name in chosen)
