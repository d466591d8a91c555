"""Field-level differences between two essences. The only module that uses deepdiff.

The diff is scoped to the desired essence: a live field the manifests do not mention never creates a
change. Fields a kind declares as sets are compared without order (one add or remove per item);
ordered lists are shown as one change of the whole list, which reads better than index shuffles.
"""

from __future__ import annotations

from typing import Any

from deepdiff import DeepDiff

from reconciler.kinds.kind import Essence, FieldDiff

_OPS = {
    "values_changed": "change",
    "type_changes": "change",
    "iterable_item_added": "add",
    "iterable_item_removed": "remove",
    "dictionary_item_added": "add",
    "dictionary_item_removed": "remove",
}


def scope_to_desired(live: Essence, desired: Essence) -> Essence:
    return {key: live[key] for key in desired if key in live}


def diff_essences(live: Essence, desired: Essence, set_fields: frozenset[str]) -> tuple[FieldDiff, ...]:
    before = scope_to_desired(live, desired)
    if before == desired:
        return ()
    if _flat(before) and _flat(desired):
        return _flat_diff(before, desired, set_fields)
    return _deep_diff(before, desired, set_fields)


def _deep_diff(before: Essence, desired: Essence, set_fields: frozenset[str]) -> tuple[FieldDiff, ...]:
    tree = DeepDiff(
        before,
        desired,
        view="tree",
        ignore_order_func=lambda level: _top(level.path(output_format="list")) in set_fields,
    )
    diffs: dict[tuple[Any, ...], FieldDiff] = {}
    for report, levels in tree.items():
        op = _OPS.get(report)
        if op is None:
            continue
        for level in levels:
            path = tuple(level.path(output_format="list"))
            field = path[0]
            if field in set_fields:
                if op in ("change", "remove"):
                    diffs[(field, "remove", repr(level.t1))] = FieldDiff("remove", (field,), level.t1, None)
                if op in ("change", "add"):
                    diffs[(field, "add", repr(level.t2))] = FieldDiff("add", (field,), None, level.t2)
            elif len(path) > 1 or op != "change":
                # Inside an ordered list or a new/removed key: report the field as a whole.
                diffs[(field,)] = _whole(field, before, desired)
            else:
                diffs[(field,)] = FieldDiff("change", (field,), level.t1, level.t2)
    return tuple(sorted(diffs.values(), key=_order))


_SCALARS = (str, int, float, bool, type(None))


def _flat(essence: Essence) -> bool:
    """Whether every field is a scalar or a list of scalars, as in every kind's essence today."""
    return all(
        isinstance(value, _SCALARS)
        or (type(value) is list and all(isinstance(item, _SCALARS) for item in value))
        for value in essence.values()
    )


def _flat_diff(before: Essence, desired: Essence, set_fields: frozenset[str]) -> tuple[FieldDiff, ...]:
    """What deepdiff reports for flat essences, without it: deepdiff costs about a millisecond a pair,
    most of a plan's CPU when many objects differ."""
    diffs: dict[tuple[Any, ...], FieldDiff] = {}
    for field, new in desired.items():
        if field not in before:
            diffs[(field,)] = FieldDiff("add", (field,), None, new)
            continue
        old = before[field]
        if old == new and type(old) is type(new):
            continue
        if field in set_fields and type(old) is list and type(new) is list:
            old_items, new_items = set(old), set(new)
            for item in old:
                if item not in new_items:
                    diffs[(field, "remove", repr(item))] = FieldDiff("remove", (field,), item, None)
            for item in new:
                if item not in old_items:
                    diffs[(field, "add", repr(item))] = FieldDiff("add", (field,), None, item)
        elif field in set_fields:  # a type change: deepdiff's change, as one removal and one addition
            diffs[(field, "remove", repr(old))] = FieldDiff("remove", (field,), old, None)
            diffs[(field, "add", repr(new))] = FieldDiff("add", (field,), None, new)
        else:
            diffs[(field,)] = FieldDiff("change", (field,), old, new)
    return tuple(sorted(diffs.values(), key=_order))


def _top(path: list[Any]) -> Any:
    return path[0] if path else None


def _whole(field: str, before: Essence, desired: Essence) -> FieldDiff:
    if field not in before:
        return FieldDiff("add", (field,), None, desired[field])
    return FieldDiff("change", (field,), before[field], desired.get(field))


def _order(diff: FieldDiff) -> tuple[bool, str, int, str]:
    """The name first, then fields alphabetically; in a field removals before additions."""
    rank = {"change": 0, "remove": 1, "add": 2}[diff.op]
    field = str(diff.path[0])
    return (field != "name", field, rank, repr(diff.old if diff.op == "remove" else diff.new))
