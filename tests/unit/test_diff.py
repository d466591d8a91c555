"""The diff of flat essences, computed without deepdiff, says exactly what deepdiff says."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.diff import _deep_diff, _flat_diff, diff_essences

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
