"""Rights checked against lists that are not the site's own (MANIFEST.md, "What the APIs can and cannot
change"): a right outside the tool's list is a warning with a did-you-mean; a right that a live role
holds is known; the site decides when the plan is applied, and a refused write points at the first such
right in the manifest. Custom roles and team roles share this."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from pydantic import Field

from reconciler.address import Address
from reconciler.errors import Diagnostic, SourceSpan, TerminalSiteError, warning
from reconciler.kinds.kind import Change, DesiredObject, Essence, LiveObject, WriteData, list_items
from reconciler.spec import did_you_mean
from reconciler.state import DesiredState
from reconciler.yamlsource import DataPath, PathSegment, SourceMap

UNLISTED_RIGHT = "unknown_right"
CONTEXT_KEY = "unlistedRights"
# A saved plan carries the positions as plain [file, line, column] lists.
Position = list[Any] | None


class RightsWrite(WriteData):
    """A role's write data: where the manifest names rights outside the tool's list, for a refusal."""

    unlisted_rights: dict[str, Position] = Field(default_factory=dict)


def unlisted_right_message(what: str, right: str, known: Collection[str], *, live_roles_read: bool) -> str:
    held = " and no role on the site holds it" if live_roles_read else ""
    return (
        f"{what} {right!r} is not in the list the tool knows{did_you_mean(right, known)}{held}; "
        "that list is not the site's own, so the site decides when the plan is applied (apply says so if "
        "the site drops it)"
    )


def offline_warnings(
    values: Any, what: str, known: Collection[str], at: tuple[SourceMap, DataPath], address: Address | None
) -> Iterator[Diagnostic]:
    """A warning for each right in a manifest list (`values`, at `at`) that is outside the tool's list."""
    source_map, path = at
    for position, right in list_items(values):
        if isinstance(right, str) and right and right not in known:
            yield warning(
                f"manifest.{UNLISTED_RIGHT}",
                unlisted_right_message(what, right, known, live_roles_read=False),
                source=source_map.locate((*path, position)),
                address=str(address) if address else None,
            )


def positions(
    state: DesiredState, address: Address, unlisted: Iterable[tuple[str, Sequence[PathSegment]]]
) -> dict[str, Position]:
    """right -> where the manifest first names it, for (right, path below the object) pairs."""
    found: dict[str, Position] = {}
    for right, path in unlisted:
        where = state.locate(address, *path)
        found.setdefault(right, [where.file, where.line, where.column] if where else None)
    return found


def review(
    desired: Sequence[DesiredObject], held: Collection[str], what: str, known: Collection[str]
) -> list[Diagnostic]:
    """Warnings for the rights outside the list that no live role holds: the site may not know them."""
    return [
        warning(
            f"plan.{UNLISTED_RIGHT}",
            unlisted_right_message(what, right, known, live_roles_read=True),
            source=SourceSpan(*position) if position else None,
            address=str(obj.address),
        )
        for obj in desired
        for right, position in obj.context.get(CONTEXT_KEY, {}).items()
        if right not in held
    ]


def dropped(
    change: Change, sent: Collection[str], kept: Collection[str], unlisted: Mapping[str, Position]
) -> list[Diagnostic]:
    """A warning when the site's answer lacks rights that the write sent: it took the write and left them
    out, as a site does with rights it does not know. The plan would otherwise show the same update after
    every apply, and say nothing more."""
    lost = sorted(set(sent) - set(kept))
    if not lost:
        return []
    names = ", ".join(repr(right) for right in lost)
    position = next((unlisted[right] for right in lost if unlisted.get(right)), None)
    return [
        warning(
            "apply.dropped",
            f"the site took the write but did not keep right(s) {names}: it does not seem to know them; "
            "remove them from the manifest (while they are there, every plan shows this update again)",
            source=SourceSpan(*position) if position else change.source,
            address=str(change.address),
        )
    ]


def refusal(exc: TerminalSiteError, unlisted: Mapping[str, Position]) -> TerminalSiteError:
    """A refused write that sent rights outside the list: those are the likely cause, so the error
    names them and points at the first of them in the manifest."""
    if exc.status not in (400, 422) or not unlisted:
        return exc
    position = next(iter(unlisted.values()))
    names = ", ".join(repr(name) for name in unlisted)
    return TerminalSiteError(
        f"{exc.message.rstrip('.')}; this role sends rights that are not in the list the tool knows "
        f"({names}), which the site may not know",
        endpoint=exc.endpoint,
        status=exc.status,
        detail=exc.detail,
        request_id=exc.request_id,
        source=SourceSpan(*position) if position else None,
    )


def after_changes(
    live: Sequence[LiveObject], changes: Sequence[Change]
) -> list[tuple[tuple[Address, ...], Essence]]:
    """The roles of one kind as its `changes` leave them, for rules on their rights: each with the addresses
    it goes by (the first is shown) and its essence. The live roles no change touches keep their address and
    also go by their identity, which a manifest may use (a team by its id); a changed role is at its
    change's address, as the change's `after` has it."""
    changed = {change.context.server_id for change in changes if change.context.server_id is not None}
    kept = [((obj.address, obj.identity), obj.essence) for obj in live if obj.server_id not in changed]
    planned = [((change.address,), change.after) for change in changes if change.after is not None]
    return [*kept, *planned]
