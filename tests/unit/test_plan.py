"""build_plan, ordering, safety and the plan JSON round trip, against the sandbox app in-process."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.address import Address
from reconciler.kinds.kind import Action
from reconciler.plan.model import Plan
from reconciler.registry import KINDS
from tests.inprocess import InProcessSite

SEED: dict[str, Any] = {
    "detailFields": {"organization": [{"name": "Region", "type": "SELECT", "options": ["AU", "EU"]}]},
    "products": [{"name": "Widget"}, {"name": "Old gadget"}, {"name": "Spare"}],
    "customRoles": [{"name": "FinanceRole", "grantedRights": ["alert-action"], "disallowedRights": []}],
    "permissionSchemes": [
        {
            "name": "CS scheme",
            "description": "Old words",
            "grants": [
                {"permission": "ADMINISTER_PROJECTS", "type": "projectRole", "holder": "Administrators"}
            ],
        }
    ],
}

MANIFESTS = """
settings:
  prune: [products]
detailFields:
  organization:
    - {name: Region, type: SELECT, options: [AU, EU, US]}
    - {name: Tier, type: TEXT}
products:
  - name: Widget
  - name: Gadget
    renamedFrom: [Old gadget]
customRoles:
  - name: FinanceRole
    grantedRights: [alert-action, alert-create]
permissionSchemes:
  - name: Customer service scheme
    renamedFrom: [CS scheme]
    grants:
      ADMINISTER_PROJECTS: [projectRole:Administrators]
      BROWSE_PROJECTS: [group:jira-servicemanagement-users]
"""


def actions(plan: Plan) -> list[tuple[str, str]]:
    return [(c.action.value, str(c.address)) for c in plan.changes]


def test_every_action_planned_in_order_then_applied_to_no_changes(site_factory: Any) -> None:
    site: InProcessSite = site_factory(SEED)
    site.write(MANIFESTS)
    plan = site.plan()
    assert actions(plan) == [
        ("delete", "products/Spare"),
        ("update", "detailFields.organization/Region"),
        ("create", "detailFields.organization/Tier"),
        ("rename", "products/Gadget"),
        ("update", "customRoles/FinanceRole"),
        ("rename", "permissionSchemes/Customer service scheme"),
    ]
    assert plan.counts == {"create": 1, "update": 2, "rename": 2, "replace": 0, "delete": 1}
    site.converge()


def test_a_rename_waits_for_the_delete_that_frees_its_name(site_factory: Any) -> None:
    site: InProcessSite = site_factory({"products": [{"name": "Old"}, {"name": "New"}]})
    site.write("settings: {prune: [products]}\nproducts:\n  - {name: Newer, renamedFrom: [New]}\n")
    site.write("products:\n  - {name: New, renamedFrom: [Old]}\n", name="more.yaml")
    plan = site.plan()
    by_address = {str(c.address): c for c in plan.changes}
    assert by_address["products/New"].depends_on == frozenset({"products/Newer"})
    assert [str(c.address) for c in plan.changes].index("products/Newer") < [
        str(c.address) for c in plan.changes
    ].index("products/New")
    site.converge()


def test_deletes_come_first_when_a_detail_field_entity_would_pass_its_cap(site_factory: Any) -> None:
    live = [{"name": f"Field {n:02}", "type": "TEXT"} for n in range(50)]
    site: InProcessSite = site_factory({"detailFields": {"customer": live}})
    wanted = "".join(f"    - {{name: Field {n:02}, type: TEXT}}\n" for n in range(1, 50))
    new = "    - {name: New, type: TEXT}\n"
    site.write(f"settings: {{prune: [detailFields]}}\ndetailFields:\n  customer:\n{wanted}{new}")
    plan = site.plan()
    create = next(c for c in plan.changes if c.action is Action.CREATE)
    assert create.depends_on == frozenset({"detailFields.customer/Field 00"})
    site.converge()


def test_the_plan_json_round_trips_and_keeps_its_checksum(site_factory: Any) -> None:
    site: InProcessSite = site_factory(SEED)
    site.write(MANIFESTS)
    plan = site.plan()
    saved = json.loads(json.dumps(plan.to_json()))
    again = Plan.from_json(saved, KINDS)
    assert again == plan
    assert again.to_json() == plan.to_json()


def test_an_edited_plan_file_is_refused(site_factory: Any) -> None:
    site: InProcessSite = site_factory(SEED)
    site.write(MANIFESTS)
    saved = site.plan().to_json()
    saved["changes"][0]["action"] = "update"
    with pytest.raises(ValueError, match="checksum"):
        Plan.from_json(saved, KINDS)


def test_a_protected_object_is_never_deleted(site_factory: Any) -> None:
    site: InProcessSite = site_factory(SEED)
    site.write("settings:\n  prune: [products]\n  protect: [products/Spare]\nproducts:\n  - name: Widget\n")
    plan = site.plan()
    assert actions(plan) == [("delete", "products/Old gadget")]
    assert plan.protected == ("products/Spare",)


def test_a_threshold_refuses_the_plan_unless_forced(site_factory: Any) -> None:
    products = [{"name": f"P{n}"} for n in range(10)]
    site: InProcessSite = site_factory({"products": products})
    site.write(
        "settings:\n  prune: [products]\n  thresholds: {maxDeletePercent: 30}\nproducts:\n  - name: P0\n"
    )
    refused = site.plan()
    assert refused.has_errors
    assert [d.code for d in refused.diagnostics] == ["plan.threshold"]
    forced = site.plan(force=True)
    assert not forced.has_errors
    assert forced.counts["delete"] == 9


def test_targets_keep_only_their_changes_and_what_those_wait_for(site_factory: Any) -> None:
    site: InProcessSite = site_factory(SEED)
    site.write(MANIFESTS)
    plan = site.plan(targets=["products/Gadget"])
    assert actions(plan) == [("rename", "products/Gadget")]
    assert site.apply(plan).ok
    [(method, path)] = site.writes()
    assert method == "PUT" and "/api/v1/product/" in path
    assert [str(c.address) for c in site.plan().changes if c.kind == "products"] == ["products/Spare"]


def test_a_target_brings_the_create_it_waits_for(site_factory: Any) -> None:
    """projects/SD moves onto a scheme the plan creates: the target takes the create along, first."""
    site: InProcessSite = site_factory(
        {
            "permissionSchemes": [{"name": "CS scheme", "grants": []}],
            "projects": [{"key": "SD", "name": "Service Desk", "permissionScheme": "CS scheme"}],
        }
    )
    site.write(
        "permissionSchemes:\n  - {name: SD scheme, grants: {}}\n"
        "projects:\n  - {key: SD, permissionScheme: SD scheme}\n"
        "products:\n  - name: Not targeted\n"
    )
    plan = site.plan(targets=["projects/SD"])
    assert actions(plan) == [("create", "permissionSchemes/SD scheme"), ("update", "projects/SD")]
    assert plan.changes[1].depends_on == {"permissionSchemes/SD scheme"}
    assert site.apply(plan).ok
    assert actions(site.plan()) == [("create", "products/Not targeted")]


@pytest.mark.parametrize(
    ("target", "selected"),
    [
        ("permissionSchemes/CS scheme", ("rename", "permissionSchemes/Customer service scheme")),
        ("products/Old gadget", ("rename", "products/Gadget")),
    ],
)
def test_a_target_naming_the_live_name_of_a_rename_selects_the_rename(
    site_factory: Any, target: str, selected: tuple[str, str]
) -> None:
    site: InProcessSite = site_factory(SEED)
    site.write(MANIFESTS)
    plan = site.plan(targets=[target])
    assert actions(plan) == [selected]
    assert site.apply(plan).ok
    assert selected not in actions(site.plan())
    site.converge()


def test_a_target_naming_the_live_name_of_a_replace_selects_the_replace(site_factory: Any) -> None:
    site: InProcessSite = site_factory(
        {"detailFields": {"organization": [{"name": "AM email", "type": "TEXT"}]}}
    )
    site.write(
        "detailFields:\n  organization:\n"
        "    - {name: Account manager, type: EMAIL, renamedFrom: [AM email]}\n"
        "    - {name: Tier, type: TEXT}\n"
    )
    plan = site.plan(targets=["detailFields.organization/AM email"])
    assert actions(plan) == [("replace", "detailFields.organization/Account manager")]
    assert site.apply(plan).ok
    assert actions(site.plan()) == [("create", "detailFields.organization/Tier")]
    site.converge()


def test_a_target_shows_no_warning_about_a_change_it_leaves_out(site_factory: Any) -> None:
    site: InProcessSite = site_factory(SEED)
    site.write(MANIFESTS.replace("options: [AU, EU, US]", "options: [EU, US]"))
    assert [d.code for d in site.plan().diagnostics] == ["plan.loses_data"]
    assert site.plan(targets=["products/Gadget"]).diagnostics == ()
    region = site.plan(targets=["detailFields.organization/Region"])
    assert [(d.code, d.address) for d in region.diagnostics] == [
        ("plan.loses_data", "detailFields.organization/Region")
    ]


TEAMS_SEED: dict[str, Any] = {
    "teams": [
        {
            "name": "Platform SRE",
            "id": "2f1e4b6a-9c3d-4e5f-8a7b-6c5d4e3f2a10",
            "roles": [{"name": "responder", "granted": ["access-reports"]}],
        },
        {"name": "Customer Support", "id": "8c1b7c2e-6a0d-4f4e-9c55-2d4f0b8e1a10"},
    ]
}
TEAMS_MANIFEST = """
teamRoles:
  - team: Platform SRE
    roles:
      - {name: responder, granted: [access-reports, edit-schedules]}
  - team: 8c1b7c2e-6a0d-4f4e-9c55-2d4f0b8e1a10
    roles:
      - {name: lead, granted: [edit-team-roles]}
"""


@pytest.mark.parametrize(
    ("target", "selected"),
    [
        (
            "teamRoles/Customer Support/lead",
            ("create", "teamRoles/8c1b7c2e-6a0d-4f4e-9c55-2d4f0b8e1a10/lead"),
        ),
        ("teamRoles/Customer Support", ("create", "teamRoles/8c1b7c2e-6a0d-4f4e-9c55-2d4f0b8e1a10/lead")),
        (
            "teamRoles/2f1e4b6a-9c3d-4e5f-8a7b-6c5d4e3f2a10/responder",
            ("update", "teamRoles/Platform SRE/responder"),
        ),
    ],
)
def test_a_target_names_a_team_by_name_or_by_id(
    site_factory: Any, target: str, selected: tuple[str, str]
) -> None:
    """A manifest writes a team by name or by id, and a target may write it the other way (MANIFEST.md)."""
    site: InProcessSite = site_factory(TEAMS_SEED)
    site.write(TEAMS_MANIFEST)
    plan = site.plan(targets=[target])
    assert not plan.has_errors, [d.format() for d in plan.diagnostics]
    assert actions(plan) == [selected]
    assert site.apply(plan).ok
    assert len(site.plan().changes) == 1
    site.converge()


def test_a_team_misspelt_in_a_target_gets_the_nearest_address_with_the_team_by_name(
    site_factory: Any,
) -> None:
    site: InProcessSite = site_factory(TEAMS_SEED)
    site.write(TEAMS_MANIFEST)
    [problem] = site.plan(targets=["teamRoles/Customer Suport/lead"]).diagnostics
    assert problem.code == "plan.target"
    assert problem.message.endswith("did you mean 'teamRoles/Customer Support/lead'?")


def test_a_project_on_a_scheme_renamed_in_the_same_plan_is_no_change(site_factory: Any) -> None:
    site: InProcessSite = site_factory(
        {
            "permissionSchemes": [{"name": "CS scheme", "grants": []}],
            "projects": [{"key": "SD", "name": "Service Desk", "permissionScheme": "CS scheme"}],
        }
    )
    site.write(
        "permissionSchemes:\n  - {name: Customer service scheme, renamedFrom: [CS scheme]}\n"
        "projects:\n  - {key: SD, permissionScheme: Customer service scheme}\n"
    )
    assert actions(site.plan()) == [("rename", "permissionSchemes/Customer service scheme")]
    site.converge()


def test_every_identity_a_plan_records_is_an_address_that_round_trips(site_factory: Any) -> None:
    site: InProcessSite = site_factory(SEED)
    site.write(MANIFESTS)
    plan = site.plan()
    recorded = {*plan.fingerprints, *(key for keys in plan.touches.values() for key in keys)}
    assert recorded
    for text in recorded:
        assert str(Address.parse(text)) == text
    for change in plan.changes:
        assert Address.parse(str(change.address)) == change.address
