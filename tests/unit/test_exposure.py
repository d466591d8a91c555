"""Exposure on its own: which grants expose, and which plans need every project's scheme."""

from __future__ import annotations

import pytest

from reconciler.address import Address
from reconciler.exposure import is_exposing, needs_project_map
from reconciler.kinds.kind import Action, Change
from reconciler.plan.model import Exposure, Plan


@pytest.mark.parametrize(
    ("grant", "exposing"),
    [
        ("BROWSE_PROJECTS: anyone", True),
        ("BROWSE_PROJECTS: applicationRole", True),
        ("CREATE_ISSUES: applicationRole:jira-servicedesk", True),
        ("BROWSE_PROJECTS: group:anyone", False),
        ("BROWSE_PROJECTS: projectRole:Service Desk Team", False),
        ("BROWSE_PROJECTS: sd.customer.portal.only", False),
        ("com.example.app__anyone: reporter", False),
    ],
)
def test_only_anyone_and_application_roles_expose(grant: str, exposing: bool) -> None:
    assert is_exposing(grant) is exposing


def scheme_change(action: Action, before: list[str] | None, after: list[str] | None) -> Change:
    address = Address("permissionSchemes", "", "S")
    return Change(
        key=str(address),
        address=address,
        action=action,
        before=None if before is None else {"name": "S", "grants": before},
        after=None if after is None else {"name": "S", "grants": after},
    )


def test_only_exposure_changes_and_scheme_deletes_need_the_project_map() -> None:
    quiet = scheme_change(Action.UPDATE, ["A: reporter"], ["A: reporter", "B: assignee"])
    assert not needs_project_map(Plan(site="s", changes=(quiet,)))
    exposing = scheme_change(Action.UPDATE, ["A: reporter"], ["A: reporter", "B: anyone"])
    assert needs_project_map(Plan(site="s", changes=(exposing,)))
    assert needs_project_map(Plan(site="s", changes=(scheme_change(Action.DELETE, ["A: reporter"], None),)))
    assert not needs_project_map(Plan(site="s", changes=()))


def test_exposure_round_trips_through_json() -> None:
    item = Exposure("added", "S", "BROWSE_PROJECTS: anyone", ("AA", "BB"), "permissionSchemes/S")
    assert Exposure.from_json(item.to_json()) == item
    assert item.line() == "+ BROWSE_PROJECTS: anyone on S — projects AA, BB"
    moved = Exposure("removed", "S", "BROWSE_PROJECTS: anyone", ("AA",), "projects/AA")
    assert moved.line() == "- BROWSE_PROJECTS: anyone on S (by projects/AA) — projects AA"
