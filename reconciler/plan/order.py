"""Ordering the drafts into the plan's changes, so that the APIs accept them in turn.

A change that takes a name waits for the change that frees it; a change that comes to name an object of
another kind (a project's scheme) waits for the change that creates it, and a delete waits for the changes
that stop naming it; in a scope that would pass its kind's capacity, deletes come first. Ties break by kind
(deletes in reverse), action and address, so the same input always gives the same plan.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Mapping, Sequence
from graphlib import CycleError, TopologicalSorter
from typing import Any

from reconciler.errors import Diagnostic, error
from reconciler.kinds.kind import (
    Action,
    Change,
    Identity,
    ResourceKind,
)
from reconciler.live import LiveState
from reconciler.plan.draft import Draft

ACTION_RANK = {Action.DELETE: 0, Action.RENAME: 1, Action.REPLACE: 2, Action.UPDATE: 3, Action.CREATE: 4}


def order_changes(
    drafts: list[Draft], live: LiveState, kinds: Sequence[ResourceKind]
) -> tuple[tuple[Change, ...], dict[str, tuple[str, ...]], list[Diagnostic]]:
    rank = {kind.name: index for index, kind in enumerate(kinds)}
    _assign_keys(drafts, rank)
    edges = _dependencies(drafts, live, kinds)
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
    ordered: list[Draft] = []
    while sorter.is_active():
        for key in sorter.get_ready():
            heapq.heappush(ready, (_sort_key(by_key[key], rank), key))
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


def _sort_key(draft: Draft, rank: Mapping[str, int]) -> tuple[Any, ...]:
    kind_index = rank[draft.kind.name]
    deleting = draft.action is Action.DELETE
    # Deletes first and in reverse kind order (referrers before what they refer to), then the rest.
    return (
        0 if deleting else 1,
        -kind_index if deleting else kind_index,
        ACTION_RANK[draft.action],
        str(draft.address),
    )


def _assign_keys(drafts: list[Draft], rank: Mapping[str, int]) -> None:
    seen: dict[str, int] = defaultdict(int)
    for draft in sorted(drafts, key=lambda draft: _sort_key(draft, rank)):
        base = str(draft.address)
        seen[base] += 1
        draft.key = base if seen[base] == 1 else f"{base}#{seen[base]}"


def _dependencies(drafts: list[Draft], live: LiveState, kinds: Sequence[ResourceKind]) -> dict[str, set[str]]:
    """key -> keys of the changes that must finish first."""
    edges: dict[str, set[str]] = {d.key: set() for d in drafts}
    for key, waits_for in _reference_edges(drafts).items():
        edges[key] |= waits_for
    releasers: dict[Identity, list[Draft]] = defaultdict(list)
    for draft in drafts:
        for identity in draft.releases:
            releasers[identity].append(draft)
    for draft in drafts:
        for identity in draft.claims:
            for releaser in releasers[identity]:
                if releaser is not draft:
                    edges[draft.key].add(releaser.key)
    for kind in kinds:
        capacity = kind.capacity
        if capacity is None:
            continue
        present: dict[str, int] = defaultdict(int)
        for obj in live.of(kind.name):
            present[obj.identity.scope] += 1
        by_namespace: dict[str, list[Draft]] = defaultdict(list)
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


def _references(draft: Draft, essence: dict[str, Any] | None) -> set[Identity]:
    return {ref.identity for ref in draft.kind.references(essence)} if essence else set()


def _reference_edges(drafts: list[Draft]) -> dict[str, set[str]]:
    """A change that comes to name an object waits for the change that creates or renames it into
    that name; the delete of an object waits for the changes that stop naming it (MANIFEST.md,
    "Projects and exposure": a scheme is created before projects move to it and deleted after)."""
    claimers: dict[Identity, list[Draft]] = defaultdict(list)
    deleters: dict[Identity, list[Draft]] = defaultdict(list)
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
