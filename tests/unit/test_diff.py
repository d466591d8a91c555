"""The field-level diff: scoped to what the manifests say, sets without order, ordered lists whole."""

from __future__ import annotations

from reconciler.diff import diff_essences
from reconciler.kinds.kind import FieldDiff

SETS = frozenset({"grants"})


def test_equal_essences_have_no_diff() -> None:
    assert diff_essences({"name": "A", "grants": ["x", "y"]}, {"name": "A", "grants": ["y", "x"]}, SETS) == ()


def test_a_live_field_the_manifest_leaves_out_is_not_a_change() -> None:
    assert diff_essences({"name": "A", "description": "live words"}, {"name": "A"}, SETS) == ()


def test_sets_change_item_by_item() -> None:
    diffs = diff_essences({"name": "A", "grants": ["x", "y"]}, {"name": "A", "grants": ["y", "z"]}, SETS)
    assert diffs == (
        FieldDiff("remove", ("grants",), "x", None),
        FieldDiff("add", ("grants",), None, "z"),
    )


def test_an_ordered_list_changes_as_a_whole() -> None:
    diffs = diff_essences({"options": ["AU", "EU"]}, {"options": ["EU", "AU"]}, SETS)
    assert diffs == (FieldDiff("change", ("options",), ["AU", "EU"], ["EU", "AU"]),)


def test_the_name_comes_first_then_fields_alphabetically() -> None:
    diffs = diff_essences(
        {"name": "A", "description": "old", "grants": []},
        {"name": "B", "description": "new", "grants": ["g"]},
        SETS,
    )
    assert [d.path[0] for d in diffs] == ["name", "description", "grants"]


def test_a_field_the_live_side_lacks_is_added() -> None:
    assert diff_essences({"name": "A"}, {"name": "A", "description": "new"}, SETS) == (
        FieldDiff("add", ("description",), None, "new"),
    )
