"""The access state: who can do what where, as the site has it and as a plan leaves it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from reconciler.access import (
    Access,
    AccessDiff,
    AccessState,
    Grant,
    GrantHolder,
    Member,
    Memberships,
    ReportRow,
    RoleActors,
    access_changes,
    accounts,
    live_access,
    planned_access,
    report_rows,
    rows,
    select,
    to_expand,
)
from reconciler.live import holders_to_check, read_live_state
from reconciler.plan.build import build_plan
from reconciler.plan.model import AccessChange, Plan
from reconciler.registry import KINDS
from tests.e2e.conftest import assessed
from tests.inprocess import InProcessSite, in_process_client

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


def _assessed(site: InProcessSite) -> Plan:
    """The plan as the CLI makes it: built, then assessed (exposure, access diff) with the map if needed."""
    desired = site.desired()
    with in_process_client(site.site) as client:
        holders, declared = holders_to_check(KINDS, desired), frozenset(desired.objects)
        live = read_live_state(client, KINDS, site="sandbox", holders=holders, declared=declared)
        return assessed(build_plan(desired, live, KINDS), desired, live, client)


def _searches(site: InProcessSite) -> int:
    return sum(call.path.endswith("/project/search") for call in site.site.calls)


def test_a_plan_that_changes_a_live_schemes_grants_lists_the_access_of_every_project_on_it(
    site_factory: Callable[..., InProcessSite],
) -> None:
    site = seeded(site_factory)
    site.write(
        """
        permissionSchemes:
          - name: Old scheme
            grants:
              BROWSE_PROJECTS: [projectRole:Developers, group:service-desk-agents]
        """
    )
    plan = _assessed(site)
    # AA uses the scheme and no manifest declares it: the map was read to find it.
    assert _searches(site) > 0
    assert holders(list(plan.access.added)) == {
        ("AA", "BROWSE_PROJECTS", "group:service-desk-agents", "Old scheme")
    }
    assert holders(list(plan.access.removed)) == {
        ("AA", "ADMINISTER_PROJECTS", "group:jira-administrators", "Old scheme")
    }


def test_a_move_alone_lists_its_access_without_reading_the_map(
    site_factory: Callable[..., InProcessSite],
) -> None:
    site = seeded(site_factory)
    site.write("projects:\n  - key: BB\n    permissionScheme: Old scheme\n")
    plan = _assessed(site)
    assert _searches(site) == 0
    assert holders(list(plan.access.added)) == {
        ("BB", "ADMINISTER_PROJECTS", "group:jira-administrators", "Old scheme"),
        ("BB", "BROWSE_PROJECTS", "projectRole:Developers", "Old scheme"),
    }
    assert holders(list(plan.access.removed)) == {("BB", "BROWSE_PROJECTS", "anyone", "Spare scheme")}


def test_the_access_diff_groups_by_holder_and_round_trips_through_json() -> None:
    agents = GrantHolder("group", "g1", "group:agents")
    anyone = GrantHolder("anyone", None, "anyone")
    diff = AccessDiff(
        added=(
            Access("SD", "BROWSE_PROJECTS", agents, "S"),
            Access("IT", "BROWSE_PROJECTS", agents, "S"),
            Access("IT", "ADMINISTER_PROJECTS", agents, "T"),
        ),
        removed=(Access("IT", "BROWSE_PROJECTS", anyone, "S"),),
    )
    assert diff.by_holder() == [
        ("anyone", [AccessChange("-", "BROWSE_PROJECTS", "S", ("IT",))]),
        (
            "group:agents",
            [
                AccessChange("+", "ADMINISTER_PROJECTS", "T", ("IT",)),
                AccessChange("+", "BROWSE_PROJECTS", "S", ("IT", "SD")),
            ],
        ),
    ]
    again = AccessDiff.from_json(json.loads(json.dumps(diff.to_json())))
    # A saved plan keeps each holder's label and type; the id is only needed to expand it to accounts.
    assert again.by_holder() == diff.by_holder()
    assert {row.holder.type for row in again.added} == {"group"} and not AccessDiff()


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("group:jira-administrators", GrantHolder("group", None, "group:jira-administrators")),
        ("{type: group, value: g-1}", GrantHolder("group", "g-1", "{type: group, value: g-1}")),
        ("anyone", GrantHolder("anyone", None, "anyone")),
    ],
)
def test_a_holder_is_known_again_from_its_label(label: str, expected: GrantHolder) -> None:
    assert GrantHolder.from_label(label) == expected


def test_select_filters_and_names_the_nearest_key_for_one_that_matches_nothing() -> None:
    admins = GrantHolder("group", "g1", "group:admins")
    found = [Access("SD", "ADMINISTER_PROJECTS", admins, "S"), Access("IT", "BROWSE_PROJECTS", admins, "S")]
    known = {"SD", "IT", "HR"}
    assert select(found, [], [], known=known) == found
    assert select(found, ["SD", "HR"], [], known=known) == found[:1]
    assert select(found, [], ["BROWSE_PROJECTS"], known=known) == found[1:]
    assert select(found, ["HR"], ["DELETE_ISSUES"], known=known) == []  # a real permission nobody has
    with pytest.raises(ValueError, match=r"--project 'SDD' matches no project .* \(did you mean 'SD'\?\)"):
        select(found, ["SDD"], [], known=known)
    with pytest.raises(
        ValueError, match=r"--permission 'BROWSE_PROJECT' .* \(did you mean 'BROWSE_PROJECTS'\?\)"
    ):
        select(found, [], ["BROWSE_PROJECT"], known=known)


def test_accounts_come_through_groups_roles_and_the_groups_in_roles() -> None:
    mia, ana = Member("mia", "Mia Krystof"), Member("ana", "Ana Silva")
    memberships = Memberships(
        groups={("groupId", "g1"): (ana, mia), ("groupname", "old-team"): (mia,)},
        roles={("SD", "10100"): RoleActors(users=(mia,), groups=((("groupname", "old-team"), "old-team"),))},
        users={"mia": "Mia Krystof"},
    )

    def reached(holder: GrantHolder, project: str = "SD") -> list[tuple[str, str]] | None:
        found = accounts(Access(project, "BROWSE_PROJECTS", holder, "S"), memberships)
        return None if found is None else [(a.account_id, a.via) for a in found]

    assert reached(GrantHolder("group", "g1", "group:agents")) == [
        ("ana", "group:agents"),
        ("mia", "group:agents"),
    ]
    team = GrantHolder("projectRole", "10100", "projectRole:Team")
    assert reached(team) == [("mia", "projectRole:Team"), ("mia", "projectRole:Team > group:old-team")]
    assert reached(GrantHolder("user", "mia", "user:mia")) == [("mia", "user:mia")]
    assert reached(GrantHolder("user", "gone", "user:gone")) == []  # inactive, or unknown to /user/bulk
    for holder in ("anyone", "reporter", "applicationRole", "sd.customer.portal.only"):
        assert reached(GrantHolder(holder, None, holder)) is None
    assert reached(GrantHolder("userCustomField", "cf", "userCustomField:cf")) is None
    # The report keeps a grant whose group has nobody in it, with no account.
    empty = Memberships(groups={("groupId", "g2"): ()}, roles={}, users={})
    lonely = Access("SD", "BROWSE_PROJECTS", GrantHolder("group", "g2", "group:empty"), "S")
    assert list(report_rows([lonely], {"SD": "Service Desk"}, empty)) == [ReportRow(lonely, "Service Desk")]
    assert to_expand(
        [lonely, Access("SD", "X", team, "S"), Access("SD", "X", GrantHolder("user", "u", "user:u"), "S")]
    ) == (
        {"g2"},
        {("SD", "10100")},
        {"u"},
    )


def test_the_plan_json_carries_the_access_diff_under_its_checksum_and_not_in_its_digest(
    site_factory: Callable[..., InProcessSite],
) -> None:
    site = seeded(site_factory)
    site.write("projects:\n  - key: BB\n    permissionScheme: Old scheme\n")
    plan = _assessed(site)
    saved = json.loads(json.dumps(plan.to_json()))
    assert saved["access"]["removed"] == [
        {"project": "BB", "permission": "BROWSE_PROJECTS", "holder": "anyone", "scheme": "Spare scheme"}
    ]
    again = Plan.from_json(saved, KINDS)
    assert again.access.by_holder() == plan.access.by_holder() and again.checksum == plan.checksum
    # What a reviewer signs off is the changes and exposure (CLI.md): the access diff follows from them.
    assert replace(plan, access=AccessDiff()).changes_digest == plan.changes_digest
    saved["access"]["removed"] = []
    with pytest.raises(ValueError, match="checksum"):
        Plan.from_json(saved, KINDS)


def test_a_bare_application_role_sorts_beside_one_with_a_key() -> None:
    anyone_logged_in = Grant("BROWSE_PROJECTS", GrantHolder("applicationRole", None, "applicationRole"))
    software = Grant(
        "BROWSE_PROJECTS", GrantHolder("applicationRole", "jira-software", "applicationRole:jira-software")
    )
    state = AccessState({"S": frozenset({software, anyone_logged_in})}, {"P": "S"})
    assert [row.holder.label for row in rows(state)] == ["applicationRole", "applicationRole:jira-software"]
