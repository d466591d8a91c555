"""Judging settings.policies: each rule form on a given end state, the positions of what breaks them, and
what a plan carries of them."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.access import AccessState, Grant, GrantHolder, live_access
from reconciler.address import Address
from reconciler.errors import Severity, SourceSpan
from reconciler.kinds.kind import Action, Change, LiveObject, Lookups, WriteData
from reconciler.kinds.rights import after_changes
from reconciler.live import LiveState
from reconciler.manifest.load import load_manifests
from reconciler.plan.model import Plan, Violation
from reconciler.policies import EndState, Role, judge, live_violations, rule_problems, violations
from reconciler.policy_rules import right_matches
from reconciler.registry import KINDS
from reconciler.state import DesiredState

LOOKUPS = Lookups(
    groups={"g-admins": "jira-admins", "g-dup-1": "twins", "g-dup-2": "twins", "g-agents": "agents"},
    project_roles={"10002": "Administrators", "10100": "Service Desk Team"},
    custom_fields={"customfield_10050": "Approvers"},
    teams={"team-1": "Platform SRE"},
)


def desired(tmp_path: Path, text: str) -> DesiredState:
    (tmp_path / "site.yaml").write_text("version: 1\n" + textwrap.dedent(text), encoding="utf-8")
    state, diagnostics = load_manifests([tmp_path / "site.yaml"], KINDS, environ={})
    assert not [d for d in diagnostics if d.severity is Severity.ERROR], [d.format() for d in diagnostics]
    return state


def rules(tmp_path: Path, *lines: str) -> DesiredState:
    """A manifest set with only these rules (YAML, one rule per argument)."""
    body = "".join(f"    - {textwrap.indent(line, '      ').lstrip()}\n" for line in lines)
    return desired(tmp_path, f"settings:\n  policies:\n{body}")


def grant(permission: str, holder_type: str, value: str | None = None, label: str | None = None) -> Grant:
    shown = label or (f"{holder_type}:{value}" if value else holder_type)
    return Grant(permission, GrantHolder(holder_type, value, shown))


def state(
    schemes: Mapping[str, Sequence[Grant]],
    projects: Mapping[str, str] | None = None,
    roles: Mapping[str, Sequence[Role]] | None = None,
) -> EndState:
    access = AccessState({name: frozenset(grants) for name, grants in schemes.items()}, projects or {})
    return EndState(access, roles or {})


def broken(found: list[Violation]) -> list[tuple[str, str, str | None, tuple[str, ...]]]:
    return [(v.rule, v.object, v.grant or v.right, v.projects) for v in found]


ANYONE = grant("BROWSE_PROJECTS", "anyone")
REPORTER = grant("BROWSE_PROJECTS", "reporter")
CREATE_ANYONE = grant("CREATE_ISSUES", "anyone")


def test_deny_names_a_permission_and_a_holder(tmp_path: Path) -> None:
    state_ = state({"S": [ANYONE, REPORTER, CREATE_ANYONE]}, {"SD": "S"})
    found = violations(
        rules(tmp_path, "name: R\ndeny: {permission: BROWSE_PROJECTS, holder: anyone}"), state_, LOOKUPS
    )
    assert broken(found) == [("R", "permissionSchemes/S", "BROWSE_PROJECTS: anyone", ("SD",))]
    assert found[0].level == "error"


def test_a_star_is_every_permission(tmp_path: Path) -> None:
    state_ = state({"S": [ANYONE, REPORTER, CREATE_ANYONE]})
    found = violations(rules(tmp_path, "name: R\ndeny: {permission: '*', holder: anyone}"), state_, LOOKUPS)
    assert [v.grant for v in found] == ["BROWSE_PROJECTS: anyone", "CREATE_ISSUES: anyone"]


def test_a_type_alone_is_every_holder_of_that_type(tmp_path: Path) -> None:
    grants = [
        grant("EDIT_ISSUES", "group", "g-admins", "group:jira-admins"),
        grant("EDIT_ISSUES", "group", "g-dup-1", "{type: group, value: g-dup-1}"),
        grant("EDIT_ISSUES", "applicationRole"),
        grant("EDIT_ISSUES", "applicationRole", "jira-software"),
        grant("EDIT_ISSUES", "projectRole", "10002", "projectRole:Administrators"),
    ]
    groups = rules(tmp_path, "name: R\ndeny: {permission: EDIT_ISSUES, holder: group}")
    assert len(violations(groups, state({"S": grants}), LOOKUPS)) == 2
    roles = rules(tmp_path, "name: R\ndeny: {permission: EDIT_ISSUES, holder: applicationRole}")
    assert [v.grant for v in violations(roles, state({"S": grants}), LOOKUPS)] == [
        "EDIT_ISSUES: applicationRole",
        "EDIT_ISSUES: applicationRole:jira-software",
    ]
    one_role = rules(
        tmp_path, "name: R\ndeny: {permission: EDIT_ISSUES, holder: 'applicationRole:jira-software'}"
    )
    assert [v.grant for v in violations(one_role, state({"S": grants}), LOOKUPS)] == [
        "EDIT_ISSUES: applicationRole:jira-software"
    ]


@pytest.mark.parametrize(
    ("holder", "expected"),
    [
        ("group:jira-admins", ["group:jira-admins"]),
        ("group:twins", ["{type: group, value: g-dup-1}", "{type: group, value: g-dup-2}"]),
        ("{type: group, value: g-dup-2}", ["{type: group, value: g-dup-2}"]),
        ("group:nobody", []),
        ("projectRole:Administrators", ["projectRole:Administrators"]),
        ("projectRole:10002", ["projectRole:Administrators"]),
        ("userCustomField:Approvers", ["userCustomField:customfield_10050"]),
        ("userCustomField:customfield_10050", ["userCustomField:customfield_10050"]),
        ("user:abc", ["user:abc"]),
        ("user:xyz", []),
    ],
)
def test_names_resolve_as_the_grants_do(tmp_path: Path, holder: str, expected: list[str]) -> None:
    """A group or project role by name (every group of that name) or id, a field by id or exact name."""
    grants = [
        grant("EDIT_ISSUES", "group", "g-admins", "group:jira-admins"),
        grant("EDIT_ISSUES", "group", "g-dup-1", "{type: group, value: g-dup-1}"),
        grant("EDIT_ISSUES", "group", "g-dup-2", "{type: group, value: g-dup-2}"),
        grant("EDIT_ISSUES", "projectRole", "10002", "projectRole:Administrators"),
        grant("EDIT_ISSUES", "userCustomField", "customfield_10050"),
        grant("EDIT_ISSUES", "user", "abc"),
    ]
    rule = rules(tmp_path, f"name: R\ndeny: {{permission: EDIT_ISSUES, holder: {holder}}}")
    found = violations(rule, state({"S": grants}), LOOKUPS)
    assert [v.grant for v in found] == [f"EDIT_ISSUES: {label}" for label in expected]


def test_a_holder_known_by_its_label_alone_is_matched_by_it(tmp_path: Path) -> None:
    """A grant of a plan saved without its holder's body has no id: its label still names it."""
    labelled = grant("EDIT_ISSUES", "group", None, "group:old-group")
    rule = rules(tmp_path, "name: R\ndeny: {permission: EDIT_ISSUES, holder: 'group:old-group'}")
    assert len(violations(rule, state({"S": [labelled]}), LOOKUPS)) == 1


def test_only_forbids_every_other_holder_of_the_permission(tmp_path: Path) -> None:
    grants = [
        grant("ADMINISTER_PROJECTS", "group", "g-admins", "group:jira-admins"),
        grant("ADMINISTER_PROJECTS", "projectRole", "10002", "projectRole:Administrators"),
        grant("ADMINISTER_PROJECTS", "group", "g-agents", "group:agents"),
        grant("ADMINISTER_PROJECTS", "reporter"),
        grant("BROWSE_PROJECTS", "group", "g-agents", "group:agents"),
    ]
    rule = rules(
        tmp_path,
        "name: Admins\nonly: {permission: ADMINISTER_PROJECTS, holders: [group:jira-admins, projectRole]}",
    )
    found = violations(rule, state({"S": grants}), LOOKUPS)
    assert [v.grant for v in found] == ["ADMINISTER_PROJECTS: group:agents", "ADMINISTER_PROJECTS: reporter"]


def test_projects_limit_a_rule_to_the_schemes_they_use(tmp_path: Path) -> None:
    end = state(
        {"Public": [ANYONE], "Shared": [ANYONE], "Unused": [ANYONE]},
        {"IT": "Public", "SD": "Shared", "HR": "Shared"},
    )
    rule = rules(tmp_path, "name: R\ndeny: {permission: '*', holder: anyone}\nprojects: [SD, NOPE]")
    assert broken(violations(rule, end, LOOKUPS)) == [
        ("R", "permissionSchemes/Shared", "BROWSE_PROJECTS: anyone", ("SD",))
    ]
    unscoped = rules(tmp_path, "name: R\ndeny: {permission: '*', holder: anyone}")
    assert broken(violations(unscoped, end, LOOKUPS)) == [
        ("R", "permissionSchemes/Public", "BROWSE_PROJECTS: anyone", ("IT",)),
        ("R", "permissionSchemes/Shared", "BROWSE_PROJECTS: anyone", ("HR", "SD")),
        ("R", "permissionSchemes/Unused", "BROWSE_PROJECTS: anyone", ()),
    ]


@pytest.mark.parametrize(
    ("pattern", "right", "matches"),
    [
        ("*-delete", "alert-delete", True),
        ("*-delete", "alert-delete-note", False),
        ("*delete*", "alert-delete-note", True),
        ("delete-*", "delete-schedules", True),
        ("alert-delete", "alert-delete", True),
        ("alert-delete", "alert-deleted", False),
        ("alert.delete", "alert-delete", False),
        ("*", "anything", True),
    ],
)
def test_a_right_pattern_has_star_for_a_wildcard(pattern: str, right: str, matches: bool) -> None:
    assert right_matches(pattern, right) is matches


def role(kind: str, name: str, scope: str = "", **essence: list[str]) -> Role:
    return ((Address(kind, scope, name),), {"name": name, **essence})


def test_deny_on_rights_judges_granted_rights_only(tmp_path: Path) -> None:
    roles = {
        "customRoles": [
            role("customRoles", "Ops", grantedRights=["alert-delete", "alert-action"], disallowedRights=[]),
            role("customRoles", "Safe", grantedRights=["alert-action"], disallowedRights=["incident-delete"]),
        ],
        "teamRoles": [
            role("teamRoles", "on-call", "Platform SRE", granted=["delete-schedules", "edit-schedules"])
        ],
    }
    desired_ = rules(
        tmp_path,
        "name: Custom\ndeny: {customRoleRight: '*-delete'}",
        "name: Team\ndeny: {teamRoleRight: 'delete-*'}\nlevel: warning",
    )
    found = violations(desired_, state({}, roles=roles), LOOKUPS)
    assert [(v.rule, v.level, v.object, v.right, v.source) for v in found] == [
        ("Custom", "error", "customRoles/Ops", "alert-delete", None),
        ("Team", "warning", "teamRoles/Platform SRE/on-call", "delete-schedules", None),
    ]


POSITIONED = """\
settings:
  policies:
    - name: No anonymous browsing
      deny: {permission: BROWSE_PROJECTS, holder: anyone}
    - name: No deletes
      deny: {teamRoleRight: "delete-*"}
    - name: No custom deletes
      deny: {customRoleRight: "*-delete"}
permissionSchemes:
  - name: Declared
    grants:
      BROWSE_PROJECTS: [reporter, anyone]
customRoles:
  - name: Ops
    grantedRights: [alert-action, alert-delete]
teamRoles:
  - team: team-1
    roles:
      - name: on-call
        granted: [edit-schedules, delete-schedules]
"""


def test_a_violation_is_at_its_grant_or_right_in_the_manifests_or_live(tmp_path: Path) -> None:
    """A team role the manifest names by team id, and the site by team name, is found all the same."""
    end = state(
        {"Declared": [REPORTER, ANYONE], "Live only": [ANYONE]},
        roles={
            "customRoles": [role("customRoles", "Ops", grantedRights=["alert-delete"])],
            "teamRoles": [
                (
                    (
                        Address("teamRoles", "Platform SRE", "on-call"),
                        Address("teamRoles", "team-1", "on-call"),
                    ),
                    {"name": "on-call", "granted": ["delete-schedules"]},
                )
            ],
        },
    )
    found = violations(desired(tmp_path, POSITIONED), end, LOOKUPS)
    file = str(tmp_path / "site.yaml")
    assert [(v.object, v.source) for v in found] == [
        ("permissionSchemes/Declared", SourceSpan(file, 13, 35)),
        ("permissionSchemes/Live only", None),
        ("teamRoles/Platform SRE/on-call", SourceSpan(file, 21, 35)),
        ("customRoles/Ops", SourceSpan(file, 16, 35)),
    ]
    assert found[1].line() == (
        "[error] No anonymous browsing: permissionSchemes/Live only grants BROWSE_PROJECTS: anyone — "
        "no project uses it — live, not in the manifests"
    )


def live_scheme(name: str, *grants: str) -> LiveObject:
    holders = {
        label: {"permission": label.partition(": ")[0], "holder": {"type": "anyone"}} for label in grants
    }
    return LiveObject(
        address=Address("permissionSchemes", "", name),
        identity=Address("permissionSchemes", "", name),
        essence={"name": name, "description": "", "grants": sorted(grants)},
        server_id=name,
        context={"grants": holders},
    )


def test_judge_makes_error_level_violations_plan_errors(tmp_path: Path) -> None:
    desired_ = rules(
        tmp_path,
        "name: Error rule\ndeny: {permission: BROWSE_PROJECTS, holder: anyone}",
        "name: Warning rule\ndeny: {permission: '*', holder: anyone}\nlevel: warning",
        "name: Scoped\ndeny: {permission: '*', holder: anyone}\nprojects: [NOPE]\nlevel: warning",
    )
    live = LiveState("s", LOOKUPS, {"permissionSchemes": (live_scheme("Public", "BROWSE_PROJECTS: anyone"),)})
    judged = judge(Plan(site="s", changes=()), desired_, live, {"IT": "Public"})
    assert [(v.rule, v.level) for v in judged.policy] == [
        ("Error rule", "error"),
        ("Warning rule", "warning"),
    ]
    assert [d.format() for d in judged.diagnostics] == [
        f"{tmp_path / 'site.yaml'}:11:17: warning[plan.policy_project]: the policy 'Scoped' names project(s) "
        "NOPE that the site does not "
        "have, or that the account does not administer: the rule judges no scheme for them",
        "error[plan.policy]: permissionSchemes/Public: grants BROWSE_PROJECTS: anyone (projects IT), but the "
        "policy 'Error rule' denies BROWSE_PROJECTS to anyone; the grant is live, not in the manifests",
    ]
    assert judged.has_errors
    no_rules = desired(tmp_path, "products: []\n")
    assert judge(Plan(site="s", changes=()), no_rules, live, {}) == Plan(site="s", changes=())


def test_judge_judges_the_site_as_the_plan_leaves_it(tmp_path: Path) -> None:
    """A grant the plan removes breaks nothing; a role right the plan adds does."""
    desired_ = rules(
        tmp_path,
        "name: Browse\ndeny: {permission: BROWSE_PROJECTS, holder: anyone}",
        "name: Delete\ndeny: {customRoleRight: '*-delete'}",
    )
    scheme = live_scheme("Public", "BROWSE_PROJECTS: anyone")
    custom = LiveObject(
        Address("customRoles", "", "Ops"),
        Address("customRoles", "", "Ops"),
        {"name": "Ops", "grantedRights": [], "disallowedRights": []},
        "r1",
    )
    live = LiveState("s", LOOKUPS, {"permissionSchemes": (scheme,), "customRoles": (custom,)})
    changes = (
        Change(
            "permissionSchemes/Public",
            scheme.address,
            Action.UPDATE,
            scheme.essence,
            {**scheme.essence, "grants": []},
            context=WriteData(server_id="Public"),
        ),
        Change(
            "customRoles/Ops",
            custom.address,
            Action.UPDATE,
            custom.essence,
            {**custom.essence, "grantedRights": ["alert-delete"]},
            context=WriteData(server_id="r1"),
        ),
    )
    judged = judge(Plan(site="s", changes=changes), desired_, live, {"IT": "Public"})
    assert [(v.rule, v.object, v.right) for v in judged.policy] == [
        ("Delete", "customRoles/Ops", "alert-delete")
    ]


def test_live_violations_judge_the_site_as_it_is(tmp_path: Path) -> None:
    """For `access --check`: no plan, the live schemes and roles as read."""
    desired_ = rules(
        tmp_path,
        "name: Browse\ndeny: {permission: BROWSE_PROJECTS, holder: anyone}",
        "name: Delete\ndeny: {customRoleRight: '*-delete'}\nlevel: warning",
    )
    address = Address("customRoles", "", "Ops")
    ops = LiveObject(address, address, {"name": "Ops", "grantedRights": ["alert-delete"]}, "r1")
    live = LiveState(
        "s",
        LOOKUPS,
        {"permissionSchemes": (live_scheme("Public", "BROWSE_PROJECTS: anyone"),), "customRoles": (ops,)},
    )
    assert [v.line() for v in live_violations(desired_, live, {"IT": "Public"})] == [
        "[error] Browse: permissionSchemes/Public grants BROWSE_PROJECTS: anyone — projects IT — live, not "
        "in the manifests",
        "[warning] Delete: customRoles/Ops grants the right alert-delete — live, not in the manifests",
    ]


def test_live_violations_are_placed_where_a_manifest_declares_the_object_under_its_new_name(
    tmp_path: Path,
) -> None:
    """`access --check` before the rename is applied: the site has the old names, the manifests the new
    ones with renamedFrom; the grant and the right are declared all the same."""
    desired_ = desired(
        tmp_path,
        """\
        customRoles:
          - {name: Finance2, renamedFrom: [FinanceRole], grantedRights: [alert-delete], disallowedRights: []}
        permissionSchemes:
          - {name: Support scheme, renamedFrom: [CS scheme], grants: {BROWSE_PROJECTS: [anyone]}}
        settings:
          policies:
            - {name: Browse, deny: {permission: BROWSE_PROJECTS, holder: anyone}}
            - {name: Delete, deny: {customRoleRight: '*-delete'}}
        """,
    )
    address = Address("customRoles", "", "FinanceRole")
    role_ = LiveObject(address, address, {"name": "FinanceRole", "grantedRights": ["alert-delete"]}, "r1")
    scheme = live_scheme("CS scheme", "BROWSE_PROJECTS: anyone")
    live = LiveState("s", LOOKUPS, {"permissionSchemes": (scheme,), "customRoles": (role_,)})
    file = str(tmp_path / "site.yaml")
    found = live_violations(desired_, live, {"SD": "CS scheme"})
    assert [(v.object, v.source) for v in found] == [
        ("permissionSchemes/CS scheme", SourceSpan(file, 5, 81)),
        ("customRoles/FinanceRole", SourceSpan(file, 3, 66)),
    ]


def test_a_rule_naming_what_the_site_lacks_cannot_judge_and_says_so_at_the_name(tmp_path: Path) -> None:
    """A name several groups share names them all; a type alone and `*` name nothing to check."""
    desired_ = rules(
        tmp_path,
        "name: Shared\ndeny: {permission: '*', holder: group:twins}",
        "name: Types\nonly: {permission: EDIT_ISSUES, holders: [group, projectRole, anyone]}",
        "name: By id\ndeny: {permission: EDIT_ISSUES, holder: {type: group, value: g-agents}}",
        "name: Typo\nonly: {permission: EDIT_ISSUE, holders: [group:agents, group:agent]}\n"
        "projects: [IT, NOPE]",
    )
    lookups = Lookups(groups=LOOKUPS.groups, permission_keys=frozenset({"EDIT_ISSUES", "BROWSE_PROJECTS"}))
    file = str(tmp_path / "site.yaml")
    found = rule_problems(desired_, lookups, AccessState({}, {"IT": "S"}))
    assert [(d.code, d.source) for d in found] == [
        ("plan.policy_unknown", SourceSpan(file, 11, 26)),
        ("plan.policy_unknown", SourceSpan(file, 11, 62)),
        ("plan.policy_project", SourceSpan(file, 12, 17)),
    ]
    lacks = "the policy 'Typo' names what the site does not have, and would judge nothing there"
    assert [d.message for d in found[:2]] == [
        f"{lacks}: the site has no permission 'EDIT_ISSUE' (did you mean 'EDIT_ISSUES'?)",
        f"{lacks}: no group named 'agent' on the site (GET /rest/api/3/group/bulk); did you mean 'agents'?",
    ]


def test_a_holder_a_live_grant_names_is_known_though_the_lookups_lack_it(tmp_path: Path) -> None:
    """An account that /user/bulk no longer answers for, and that a scheme still grants to: the rule that
    denies it judges (and finds the grant), and is not called one that names what the site lacks."""
    desired_ = rules(tmp_path, "name: Gone\ndeny: {permission: EDIT_ISSUES, holder: 'user:zzz-gone'}")
    label = "EDIT_ISSUES: user:zzz-gone"
    scheme = replace(
        live_scheme("Public"),
        essence={"name": "Public", "description": "", "grants": [label]},
        context={
            "grants": {label: {"permission": "EDIT_ISSUES", "holder": {"type": "user", "value": "zzz-gone"}}}
        },
    )
    live = LiveState("s", LOOKUPS, {"permissionSchemes": (scheme,)})
    assert rule_problems(desired_, LOOKUPS, live_access(live, {"IT": "Public"})) == []
    assert [v.grant for v in live_violations(desired_, live, {"IT": "Public"})] == [label]
    nothing_live = LiveState("s", LOOKUPS, {"permissionSchemes": ()})
    assert [d.code for d in rule_problems(desired_, LOOKUPS, live_access(nothing_live, {}))] == [
        "plan.policy_unknown"
    ]


def test_after_changes_applies_updates_renames_creates_and_deletes() -> None:
    def live_role(name: str, server_id: str) -> LiveObject:
        address = Address("customRoles", "", name)
        return LiveObject(address, address, {"name": name, "grantedRights": [name]}, server_id)

    kept, renamed, gone = live_role("Kept", "1"), live_role("Old", "2"), live_role("Gone", "3")
    new = Address("customRoles", "", "New")
    changes = [
        Change(
            "r",
            new,
            Action.RENAME,
            renamed.essence,
            {"name": "New", "grantedRights": ["x"]},
            context=WriteData(server_id="2"),
        ),
        Change("d", gone.address, Action.DELETE, gone.essence, None, context=WriteData(server_id="3")),
        Change(
            "c",
            Address("customRoles", "", "Made"),
            Action.CREATE,
            None,
            {"name": "Made", "grantedRights": []},
        ),
    ]
    after = after_changes([kept, renamed, gone], changes)
    assert [(str(addresses[0]), essence["grantedRights"]) for addresses, essence in after] == [
        ("customRoles/Kept", ["Kept"]),
        ("customRoles/New", ["x"]),
        ("customRoles/Made", []),
    ]


def test_violations_round_trip_through_a_saved_plan_and_its_checksum() -> None:
    on_grant = Violation("R", "error", "permissionSchemes/S", grant="B: anyone", projects=("IT",))
    on_right = Violation(
        "T", "warning", "customRoles/Ops", right="alert-delete", source=SourceSpan("a.yaml", 3, 7)
    )
    assert on_grant.to_json() == {
        "rule": "R",
        "level": "error",
        "object": "permissionSchemes/S",
        "grant": "B: anyone",
        "projects": ["IT"],
    }
    assert on_right.to_json() == {
        "rule": "T",
        "level": "warning",
        "object": "customRoles/Ops",
        "right": "alert-delete",
        "file": "a.yaml",
        "line": 3,
        "column": 7,
    }
    plan = Plan(site="s", changes=(), policy=(on_grant, on_right))
    data = plan.to_json()
    assert Plan.from_json(data, KINDS) == plan
    edited = {**data, "policy": [on_grant.to_json()]}
    with pytest.raises(ValueError, match="checksum"):
        Plan.from_json(edited, KINDS)
    assert plan.changes_digest == Plan(site="s", changes=()).changes_digest
