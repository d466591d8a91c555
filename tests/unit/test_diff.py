"""The field-level diff: scoped to what the manifests say, sets without order, ordered lists whole; the
diff of flat essences, computed without deepdiff, says exactly what deepdiff says."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.diff import _deep_diff, _flat_diff, diff_essences
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


WORDS = st.sampled_from(["a", "b", "c", "d", "Name", "x y"])
VALUES = st.one_of(
    WORDS,
    st.integers(-2, 2),
    st.none(),
    st.lists(WORDS, unique=True, max_size=4),
)
FIELDS = ["name", "grants", "granted", "description", "options", "type"]
SET_FIELDS = frozenset({"grants", "granted"})


@st.composite
def essences(draw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    # A live essence has every field of its kind; a desired one its name and the fields a manifest gives.
    live = {field: draw(VALUES) for field in FIELDS}
    given = draw(st.lists(st.sampled_from(FIELDS[1:]), unique=True))
    desired = {field: draw(VALUES) for field in ["name", *given]}
    # Often close to the live one, as in a real plan.
    for field in draw(st.lists(st.sampled_from(FIELDS), unique=True)):
        if field in live:
            desired[field] = live[field]
    return live, desired


@settings(max_examples=400, deadline=None)
@given(essences())
def test_flat_essences_diff_as_deepdiff_does(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    live, desired = pair
    before = {key: live[key] for key in desired if key in live}
    if before == desired:
        assert diff_essences(live, desired, SET_FIELDS) == ()
        return
    assert _flat_diff(before, desired, SET_FIELDS) == _deep_diff(before, desired, SET_FIELDS)


def test_a_set_field_reports_each_item_added_and_removed() -> None:
    live = {"name": "Role", "granted": ["a", "b", "c"]}
    desired = {"name": "Role", "granted": ["c", "d", "b"]}
    diffs = diff_essences(live, desired, SET_FIELDS)
    assert [(d.op, d.old, d.new) for d in diffs] == [("remove", "a", None), ("add", None, "d")]
