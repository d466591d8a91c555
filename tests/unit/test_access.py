"""The access state: who can do what where, as the site has it and as a plan leaves it."""

from __future__ import annotations

from collections.abc import Callable

from reconciler.access import (
    Access,
    AccessState,
    Grant,
    GrantHolder,
    access_changes,
    live_access,
    planned_access,
    rows,
)
from tests.inprocess import InProcessSite

ADMINS_ID = "6f0a8a2e-3b1c-4d7e-9a55-1c2d3e4f5a60"
SCHEMES = [
    {
        "name": "Old scheme",
        "grants": [
            {"permission": "BROWSE_PROJECTS", "type": "projectRole", "holder": "Developers"},
            {"permission": "ADMINISTER_PROJECTS", "type": "group", "holder": "jira-administrators"},
        ],
    },
    {"name": "Spare scheme", "grants": [{"permission": "BROWSE_PROJECTS", "type": "anyone"}]},
]
PROJECTS = [
    {"key": "AA", "name": "Alpha", "permissionScheme": "Old scheme"},
    {"key": "BB", "name": "Beta", "permissionScheme": "Spare scheme"},
]
PROJECT_MAP = {"AA": "Old scheme", "BB": "Spare scheme"}


def seeded(site_factory: Callable[..., InProcessSite]) -> InProcessSite:
    return site_factory({"permissionSchemes": SCHEMES, "projects": PROJECTS})


def holders(found: list[Access]) -> set[tuple[str, str, str, str]]:
    return {(row.project, row.permission, row.holder.label, row.scheme) for row in found}


def test_the_live_state_grants_each_project_what_its_scheme_grants(
    site_factory: Callable[..., InProcessSite],
) -> None:
    site = seeded(site_factory)
    state = live_access(site.read(), PROJECT_MAP)
    assert holders(rows(state)) == {
        ("AA", "ADMINISTER_PROJECTS", "group:jira-administrators", "Old scheme"),
        ("AA", "BROWSE_PROJECTS", "projectRole:Developers", "Old scheme"),
        ("BB", "BROWSE_PROJECTS", "anyone", "Spare scheme"),
    }
    admins = next(row for row in rows(state) if row.holder.type == "group")
    assert admins.holder == GrantHolder("group", ADMINS_ID, "group:jira-administrators")


def test_the_planned_state_follows_grant_changes_renames_deletes_and_moves(
    site_factory: Callable[..., InProcessSite],
) -> None:
    site = seeded(site_factory)
    site.write(
        """
        settings:
          prune: [permissionSchemes]
        permissionSchemes:
          - name: New scheme
            renamedFrom: [Old scheme]
            grants:
              BROWSE_PROJECTS: [projectRole:Developers, group:service-desk-agents]
          - name: Created scheme
            grants:
              ADMINISTER_PROJECTS: [group:jira-administrators]
        projects:
          - key: BB
            permissionScheme: Created scheme
        """
    )
    live = site.read()
    plan = site.plan()
    assert not plan.has_errors
    before, after = live_access(live, PROJECT_MAP), planned_access(plan, live, PROJECT_MAP)
    assert set(after.schemes) == {"New scheme", "Created scheme"}
    assert after.projects == {"AA": "New scheme", "BB": "Created scheme"}
    added, removed = access_changes(before, after)
    assert holders(added) == {
        ("AA", "BROWSE_PROJECTS", "group:service-desk-agents", "New scheme"),
        ("BB", "ADMINISTER_PROJECTS", "group:jira-administrators", "Created scheme"),
    }
    assert holders(removed) == {
        ("AA", "ADMINISTER_PROJECTS", "group:jira-administrators", "Old scheme"),
        ("BB", "BROWSE_PROJECTS", "anyone", "Spare scheme"),
    }
    # A planned grant carries the id it is granted to, for expanding it to accounts.
    agents = next(row for row in added if row.holder.label == "group:service-desk-agents")
    assert agents.holder.value == "b7e4c1d2-8f3a-4b6c-9d0e-7a1b2c3d4e5f"
    # Once applied, the site reads as the plan said it would.
    site.converge()
    assert rows(live_access(site.read(), after.projects)) == rows(after)


def test_a_project_moved_to_a_scheme_granting_the_same_gains_and_loses_nothing() -> None:
    browse = Grant("BROWSE_PROJECTS", GrantHolder("anyone", None, "anyone"))
    before = AccessState({"A": frozenset({browse}), "B": frozenset({browse})}, {"P": "A"})
    after = AccessState(before.schemes, {"P": "B"})
    assert access_changes(before, after) == ([], [])
    assert rows(after) == [Access("P", "BROWSE_PROJECTS", browse.holder, "B")]
