"""The access diff in the pull request comment: right after exposure, before the counts, and capped."""

from __future__ import annotations

from reconciler.access import Access, AccessDiff, GrantHolder
from reconciler.github.comment import COMMENT_BUDGET, MAX_LISTED, Report, render_report
from reconciler.plan.model import Plan


def test_the_comment_shows_who_gains_what_capped_with_a_count_of_the_rest() -> None:
    groups = [GrantHolder("group", f"g{n}", f"group:team-{n:03}") for n in range(40)]
    keys = [f"P{n:03}" for n in range(30)]
    added = tuple(
        Access(key, permission, holder, "Big scheme")
        for holder in groups
        for permission in ("ADMINISTER_PROJECTS", "BROWSE_PROJECTS")
        for key in keys
    )
    comment = render_report(
        Report(Plan("sandbox", (), access=AccessDiff(added=added))), budget=COMMENT_BUDGET
    )
    block = comment.split("```diff\n", 1)[1].split("\n```", 1)[0].splitlines()
    assert len(block) == MAX_LISTED + 1
    assert block[:3] == [
        "group:team-000",
        "+ ADMINISTER_PROJECTS in 30 projects: P000, P001, P002, P003, P004, P005, P006, P007, P008, P009 "
        "and 20 more (Big scheme)",
        "+ BROWSE_PROJECTS in 30 projects: P000, P001, P002, P003, P004, P005, P006, P007, P008, P009 "
        "and 20 more (Big scheme)",
    ]
    # 50 lines are 17 holders and 33 of their 80 changes: the other 47 are cut, and counted in changes and in
    # the rows (30 projects each) that the head counts.
    assert block[-1] == (
        "# … 47 more change(s), 1410 of the 2400 rows added and removed, not shown here: the plan JSON lists "
        "every one"
    )
    assert comment.index("<b>Access</b>") < comment.index("**No changes.")
