"""The plans keep every name text: the escaping helpers, then a plan full of hostile names in markdown and
in the text plan (which the Action's log shows too)."""

from __future__ import annotations

from markdown_it import MarkdownIt

from reconciler.render.access import diff_text
from reconciler.render.markdown import code, fenced, visible
from reconciler.render.plan import change_lines, render_markdown, render_text
from tests.unit.hostile_markdown import HOSTILE_NAMES, assert_names_stay_text, hostile_plan

_PARSER = MarkdownIt("commonmark").enable("table")


def test_visible_writes_line_breaks_and_invisible_characters_as_escapes() -> None:
    assert visible("plain ✓ ünïcødé 😀") == "plain ✓ ünïcødé 😀"
    assert visible("a\nb\rc\td\x07e\x85f") == "a\\nb\\rc\\td\\u0007e\\u0085f"
    assert visible("x\u202ey\u200bz\u2028w\U000e0041") == "x\\u202ey\\u200bz\\u2028w\\U000e0041"


def test_code_spans_hold_any_backticks_literally() -> None:
    for name in (*HOSTILE_NAMES, " ", "  two  ", "` `"):
        [paragraph] = [t for t in _PARSER.parse(code(name)) if t.type == "inline"]
        children = paragraph.children or []
        assert [child.type for child in children] == ["code_inline"], name
        assert children[0].content == visible(name) or not name.strip(), name


def test_a_pipe_in_a_table_cell_stays_in_its_cell() -> None:
    table = f"| a | b |\n|---|---|\n| {code('x | y', in_table=True)} | z |\n"
    cells = [t.content for t in _PARSER.parse(table) if t.type == "inline"]
    assert cells == ["a", "b", "`x | y`", "z"]


def test_no_line_of_a_fenced_block_can_close_it() -> None:
    for name in HOSTILE_NAMES:
        block = "\n".join(fenced([f"+ {name}", name, "```", "  ```"], "diff"))
        fences = [t for t in _PARSER.parse(block) if t.type == "fence"]
        assert len(fences) == 1 and fences[0].info == "diff", name


def test_the_markdown_plan_shows_hostile_names_only_as_text() -> None:
    assert_names_stay_text(render_markdown(hostile_plan()), headings=1)


def test_the_text_plan_keeps_each_name_on_its_own_line() -> None:
    plan = hostile_plan()
    text = render_text(plan, color=False, width=10_000)
    change_rows = sum(len(change_lines(change)) for change in plan.changes)
    policy_rows = 1 + len(plan.policy) + 1
    access_rows = len(diff_text(plan.access)) + 1
    expected = (
        policy_rows + access_rows + change_rows + (2 + len(plan.unmanaged)) + (1 + len(plan.diagnostics)) + 2
    )
    assert len(text.splitlines()) == expected
    assert not any(char in text for char in "\r\x07\x1b\u202e\u2028")
