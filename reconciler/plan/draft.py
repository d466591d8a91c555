"""Drafts: the changes before they are ordered. `new_draft` decides what a change frees and takes, what it
touches and why it is done (build.py makes drafts, order.py orders them into the plan's changes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.address import Address
from reconciler.errors import SourceSpan
from reconciler.kinds.kind import (
    Action,
    DesiredObject,
    FieldDiff,
    Identity,
    LiveObject,
    ResourceKind,
    WriteData,
)


@dataclass
class Draft:
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


def new_draft(
    kind: ResourceKind,
    action: Action,
    wanted: DesiredObject | None,
    current: LiveObject | None,
    diffs: tuple[FieldDiff, ...] = (),
) -> Draft:
    if wanted is not None:
        address = wanted.address
    else:
        assert current is not None
        address = current.address
    before = dict(current.essence) if current else None
    after = {**(current.essence if current else {}), **wanted.essence} if wanted else None
    draft = Draft(
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
