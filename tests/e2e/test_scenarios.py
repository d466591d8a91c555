"""Plan and apply every kind and action against the served sandbox; every scenario ends converged."""

from __future__ import annotations

from typing import Any

from reconciler.registry import KINDS
from reconciler.render.plan import render_text
from reconciler.safety import looks_applied
from reconciler.sandbox.app import Knobs
from tests.e2e.conftest import Harness, assert_no_changes, summary

ALL_KINDS = """
detailFields:
  organization:
    - {name: Region, type: SELECT, options: [AU, EU, US]}
    - {name: Account manager, type: EMAIL}
  customer:
    - {name: Tier, type: SELECT, options: [Gold, Silver]}
  entitlement:
    - {name: Contract end, type: DATE}
products:
  - name: Acme Widget
  - name: Acme Gadget
customRoles:
  - name: FinanceRole
    grantedRights: [alert-action, alert-create]
    disallowedRights: [alert-delete]
teamRoles:
  - team: Platform SRE
    roles:
      - {name: responder, granted: [access-reports, edit-schedules]}
  - team: 8c1b7c2e-6a0d-4f4e-9c55-2d4f0b8e1a10
    roles:
      - {name: triage, granted: [access-reports]}
permissionSchemes:
  - name: Customer service scheme
    description: Used by all customer service projects
    grants:
      ADMINISTER_PROJECTS: [projectRole:Administrators]
      BROWSE_PROJECTS: [projectRole:Service Desk Team, sd.customer.portal.only, applicationRole]
      CREATE_ISSUES: [group:jira-servicemanagement-users, reporter]
      EDIT_ISSUES: [{type: group, value: 6f0a8a2e-3b1c-4d7e-9a55-1c2d3e4f5a60}]
      ASSIGNABLE_USER: [user:5b10ac8d82e05b22cc7d4ef5, userCustomField:customfield_10050]
      TRANSITION_ISSUES: [groupCustomField:customfield_10051, applicationRole:jira-servicedesk]
      VIEW_VOTERS_AND_WATCHERS: [anyone, assignee, projectLead]
      com.example.timesheets__LOG_TIME: [projectRole:Developers]
"""


def test_create_every_kind_then_nothing_left(harness: Harness) -> None:
    harness.write(ALL_KINDS)
    plan = harness.plan()
    assert plan.counts["create"] == 10
    assert {c.action.value for c in plan.changes} == {"create"}
    harness.converge()
    snapshot = harness.site.snapshot()
    assert sorted(f["name"] for f in snapshot["detail_fields"]["organization"]) == [
        "Account manager",
        "Region",
    ]
    assert sorted(p["name"] for p in snapshot["products"]) == ["Acme Gadget", "Acme Widget"]
    scheme = snapshot["permission_schemes"][0]
    assert len(scheme["grants"]) == 15
    # A new scheme is created with its grants in one request.
    assert harness.writes().count(("POST", "/rest/api/3/permissionscheme")) == 1


SEEDED: dict[str, Any] = {
    "detailFields": {
        "organization": [{"name": "Region", "type": "SELECT", "options": ["AU", "EU"]}],
        "customer": [{"name": "Tier", "type": "SELECT", "options": ["Gold", "Silver", "Bronze"]}],
    },
    "products": [{"name": "Acme Widget"}],
    "customRoles": [{"name": "FinanceRole", "grantedRights": ["alert-action"], "disallowedRights": []}],
    "permissionSchemes": [
        {
            "name": "Customer service scheme",
            "description": "Old words",
            "grants": [
                {"permission": "ADMINISTER_PROJECTS", "type": "projectRole", "holder": "Administrators"},
                {"permission": "EDIT_ISSUES", "type": "group", "holder": "jira-servicemanagement-users"},
            ],
        }
    ],
}


def test_update_every_kind_in_place(harness_factory: Any) -> None:
    seed = {**SEEDED}
    seed["teams"] = [
        {
            "name": "Platform SRE",
            "id": "2f1e4b6a-9c3d-4e5f-8a7b-6c5d4e3f2a10",
            "roles": [{"name": "responder"}],
        },
        {"name": "Customer Support", "id": "8c1b7c2e-6a0d-4f4e-9c55-2d4f0b8e1a10"},
    ]
    harness: Harness = harness_factory(seed)
    harness.write(
        """
        detailFields:
          organization:
            - {name: Region, type: SELECT, options: [AU, EU, US]}
          customer:
            - {name: Tier, type: SELECT, options: [Bronze, Silver, Gold]}
        products:
          - name: Acme Widget
        customRoles:
          - {name: FinanceRole, grantedRights: [alert-create, alert-action], disallowedRights: [alert-delete]}
        teamRoles:
          - team: Platform SRE
            roles:
              - {name: responder, granted: [edit-schedules]}
        permissionSchemes:
          - name: Customer service scheme
            description: Used by all customer service projects
            grants:
              ADMINISTER_PROJECTS: [projectRole:Administrators]
              EDIT_ISSUES: [group:jira-administrators]
        """
    )
    plan = harness.plan()
    assert summary(plan) == [
        ("update", "detailFields.customer/Tier"),
        ("update", "detailFields.organization/Region"),
        ("update", "customRoles/FinanceRole"),
        ("update", "teamRoles/Platform SRE/responder"),
        ("update", "permissionSchemes/Customer service scheme"),
    ]
    tier = plan.changes[0]
    assert [(d.op, d.path) for d in tier.diffs] == [("change", ("options",))], "options are ordered"
    harness.site.calls.clear()
    harness.converge()
    writes = harness.writes()
    assert (
        "PATCH",
        "/jsm/ops/api/5c1e0f4a-7b2d-4c8e-9f10-a1b2c3d4e5f6/v1/teams/"
        "2f1e4b6a-9c3d-4e5f-8a7b-6c5d4e3f2a10/roles/" + _team_role_id(harness),
    ) in writes
    # Grants change one by one: one DELETE and one POST, never a PUT that carries every grant.
    scheme_writes = [w for w in writes if "/permissionscheme" in w[1]]
    methods = sorted(method for method, _path in scheme_writes)
    assert methods == ["DELETE", "POST", "PUT"]
    assert (
        harness.site.snapshot()["permission_schemes"][0]["description"]
        == "Used by all customer service projects"
    )


def _team_role_id(harness: Harness) -> str:
    team = next(t for t in harness.site.snapshot()["teams"] if t["name"] == "Platform SRE")
    return str(team["roles"][0]["id"])


def test_grants_are_added_and_removed_one_by_one(harness_factory: Any) -> None:
    harness: Harness = harness_factory(SEEDED)
    harness.write(
        """
        permissionSchemes:
          - name: Customer service scheme
            grants:
              ADMINISTER_PROJECTS: [projectRole:Administrators]
              BROWSE_PROJECTS: [projectRole:Service Desk Team, sd.customer.portal.only]
              CREATE_ISSUES: [reporter]
        """
    )
    plan = harness.plan()
    (change,) = plan.changes
    assert [(d.op, d.old or d.new) for d in change.diffs] == [
        ("remove", "EDIT_ISSUES: group:jira-servicemanagement-users"),
        ("add", "BROWSE_PROJECTS: projectRole:Service Desk Team"),
        ("add", "BROWSE_PROJECTS: sd.customer.portal.only"),
        ("add", "CREATE_ISSUES: reporter"),
    ]
    scheme = harness.site.snapshot()["permission_schemes"][0]
    kept_grant = next(g["id"] for g in scheme["grants"] if g["permission"] == "ADMINISTER_PROJECTS")
    harness.site.calls.clear()
    harness.converge()
    grant_writes = [w for w in harness.writes() if "/permission" in w[1]]
    assert sorted(m for m, _ in grant_writes) == ["DELETE", "POST", "POST", "POST"]
    assert all(path.endswith("/permission") or "/permission/" in path for _, path in grant_writes)
    scheme = harness.site.snapshot()["permission_schemes"][0]
    assert kept_grant in [g["id"] for g in scheme["grants"]], "an unchanged grant keeps its id"
    assert scheme["description"] == "Old words", "a description the manifest leaves out is not managed"


def test_rename_keeps_ids_and_stored_detail_values(harness_factory: Any) -> None:
    seed = {
        **SEEDED,
        "detailFields": {"organization": [{"name": "AM email", "type": "EMAIL"}]},
        "organizations": [{"name": "Acme Corp", "id": "1", "details": {"AM email": ["am@acme.example"]}}],
        "teams": [
            {
                "name": "Platform SRE",
                "id": "2f1e4b6a-9c3d-4e5f-8a7b-6c5d4e3f2a10",
                "roles": [{"name": "on-call"}],
            },
        ],
    }
    harness: Harness = harness_factory(seed)
    before = harness.site.snapshot()
    harness.write(
        """
        detailFields:
          organization:
            - {name: Account manager, type: EMAIL, renamedFrom: [AM email]}
        products:
          - {name: Acme Gizmo, renamedFrom: [Acme Widget]}
        customRoles:
          - {name: Finance, renamedFrom: [FinanceRole], grantedRights: [alert-action]}
        teamRoles:
          - team: Platform SRE
            roles:
              - {name: responder, renamedFrom: [on-call]}
        permissionSchemes:
          - name: CS scheme
            renamedFrom: [Customer service scheme]
            description: Old words
            grants:
              ADMINISTER_PROJECTS: [projectRole:Administrators]
              EDIT_ISSUES: [group:jira-servicemanagement-users]
        """
    )
    plan = harness.plan()
    assert {c.action.value for c in plan.changes} == {"rename"}
    assert len(plan.changes) == 5
    harness.converge()
    after = harness.site.snapshot()
    assert harness.site.detail_values("organization", "1") == {"Account manager": ["am@acme.example"]}
    assert after["products"][0]["id"] == before["products"][0]["id"]
    assert after["custom_roles"][0]["id"] == before["custom_roles"][0]["id"]
    assert after["permission_schemes"][0]["id"] == before["permission_schemes"][0]["id"]
    assert [g["id"] for g in after["permission_schemes"][0]["grants"]] == [
        g["id"] for g in before["permission_schemes"][0]["grants"]
    ]


def test_a_name_the_site_has_in_another_case_is_a_warning_and_renamed_from_renames_it(
    harness_factory: Any,
) -> None:
    """The sandbox, like a site that keeps names unique without case, refuses the create: the plan says so
    before, and renamedFrom changes the case in place. Product names are not unique: no warning."""
    harness: Harness = harness_factory(SEEDED)
    scheme = """
        permissionSchemes:
          - name: customer service scheme
            RENAMED
            description: Old words
            grants:
              ADMINISTER_PROJECTS: [projectRole:Administrators]
              EDIT_ISSUES: [group:jira-servicemanagement-users]
        customRoles:
          - {name: financerole, grantedRights: [alert-action], disallowedRights: [] RENAMED_ROLE}
        products:
          - name: Acme Widget
          - name: acme widget
        """
    harness.write(scheme.replace("RENAMED_ROLE", "").replace("RENAMED", ""))
    plan = harness.plan()
    assert [(d.code, d.address) for d in plan.diagnostics] == [
        ("plan.name_case", "permissionSchemes/customer service scheme"),
        ("plan.name_case", "customRoles/financerole"),
    ]
    assert "write renamedFrom: [Customer service scheme]" in plan.diagnostics[0].message
    harness.write(
        scheme.replace("RENAMED_ROLE", ", renamedFrom: [FinanceRole]").replace(
            "RENAMED", "renamedFrom: [Customer service scheme]"
        )
    )
    plan = harness.plan()
    assert summary(plan) == [
        ("create", "products/acme widget"),
        ("rename", "customRoles/financerole"),
        ("rename", "permissionSchemes/customer service scheme"),
    ]
    assert not plan.diagnostics
    harness.converge()


def test_type_change_is_a_destructive_replace_that_erases_values(harness_factory: Any) -> None:
    harness: Harness = harness_factory(
        {
            "detailFields": {"organization": [{"name": "Support level", "type": "TEXT"}]},
            "organizations": [{"name": "Acme Corp", "id": "1", "details": {"Support level": ["gold"]}}],
        }
    )
    harness.write(
        """
        detailFields:
          organization:
            - {name: Support level, type: SELECT, options: [Business hours, 24x7]}
        """
    )
    plan = harness.plan()
    (change,) = plan.changes
    assert change.action.value == "replace" and change.destructive
    assert "erased" in (change.reason or "")
    harness.converge()
    assert harness.site.detail_values("organization", "1") == {}


def test_prune_deletes_only_listed_kinds_and_never_protected(harness_factory: Any) -> None:
    harness: Harness = harness_factory(
        {
            "products": [{"name": "Keep"}, {"name": "Legacy"}, {"name": "Guarded"}],
            "customRoles": [{"name": "Old role"}],
            "detailFields": {"organization": [{"name": "Old field", "type": "TEXT"}]},
        }
    )
    harness.write(
        """
        settings:
          prune: [products, detailFields]
          protect: [products/Guarded, detailFields.organization/old FIELD]
        products:
          - name: Keep
        customRoles: []  # named, not pruned: its live roles are listed as not managed
        """
    )
    plan = harness.plan()
    assert summary(plan) == [("delete", "products/Legacy")]
    assert plan.unmanaged == ("customRoles/Old role",)
    assert plan.protected == ("detailFields.organization/Old field", "products/Guarded")
    text = render_text(plan)
    assert "Not managed (on the site but in no manifest; list the kind in settings.prune" in text
    protected_hint = text.index("kept because settings.protect lists them")
    assert text.index("products/Guarded") > protected_hint > text.index("customRoles/Old role")
    harness.converge()
    assert sorted(p["name"] for p in harness.site.snapshot()["products"]) == ["Guarded", "Keep"]


def test_protected_object_is_never_replaced(harness_factory: Any) -> None:
    harness: Harness = harness_factory({"detailFields": {"customer": [{"name": "Tier", "type": "TEXT"}]}})
    harness.write(
        """
        settings:
          protect: [detailFields.customer/Tier]
        detailFields:
          customer:
            - {name: Tier, type: SELECT, options: [Gold]}
        """
    )
    plan = harness.plan()
    assert plan.changes == ()
    assert [d.code for d in plan.diagnostics] == ["plan.protected"]
    assert plan.has_errors


def test_thresholds_refuse_large_deletes_unless_forced(harness_factory: Any) -> None:
    products = [{"name": f"Product {i:02}"} for i in range(12)]
    harness: Harness = harness_factory({"products": products})
    kept = "\n".join(f"  - name: Product {i:02}" for i in range(8))
    harness.write(
        f"""
settings:
  prune: [products]
  thresholds: {{maxDeletePercent: 30, maxUpdatePercent: 30, minExisting: 10}}
products:
{kept}
"""
    )
    plan = harness.plan()
    assert [d.code for d in plan.diagnostics] == ["plan.threshold"]
    assert plan.has_errors and "4 of 12" in plan.diagnostics[0].message
    forced = harness.plan(force=True)
    assert not forced.has_errors and forced.counts["delete"] == 4
    harness.apply(forced)
    assert_no_changes(harness.plan())


def test_a_swap_is_an_error_that_names_both_live_objects(harness_factory: Any) -> None:
    """MANIFEST.md: when an object's name and its earlier name are both live, the site cannot tell a
    rename still to do from one already done, so a swap plans nothing and is an error for each object."""
    harness: Harness = harness_factory(
        {
            "customRoles": [
                {"name": "Alpha", "grantedRights": ["alert-action"]},
                {"name": "Beta", "grantedRights": ["alert-create"]},
            ],
            "detailFields": {
                "organization": [{"name": "Left", "type": "TEXT"}, {"name": "Right", "type": "URL"}]
            },
        }
    )
    harness.write(
        """
        customRoles:
          - {name: Alpha, renamedFrom: [Beta], grantedRights: [alert-create]}
          - {name: Beta, renamedFrom: [Alpha], grantedRights: [alert-action]}
        detailFields:
          organization:
            - {name: Left, type: URL, renamedFrom: [Right]}
            - {name: Right, type: TEXT, renamedFrom: [Left]}
        """
    )
    plan = harness.plan()
    assert plan.changes == (), "nothing is planned for objects whose rename cannot be decided"
    assert [(d.code, d.address) for d in plan.diagnostics] == [
        ("plan.rename_conflict", "customRoles/Alpha"),
        ("plan.rename_conflict", "customRoles/Beta"),
        ("plan.rename_conflict", "detailFields.organization/Left"),
        ("plan.rename_conflict", "detailFields.organization/Right"),
    ]
    first = plan.diagnostics[0].message
    assert "customRoles/Alpha (id " in first and "customRoles/Beta (id " in first
    assert "two steps" in first and "free" in first


def test_rename_chain_and_reusing_a_freed_name(harness_factory: Any) -> None:
    harness: Harness = harness_factory({"products": [{"name": "One"}, {"name": "Two"}]})
    ids = {p["name"]: p["id"] for p in harness.site.snapshot()["products"]}
    harness.write(
        """
        products:
          - {name: Three, renamedFrom: [Two]}
          - {name: Two, renamedFrom: [One]}
          - {name: One}
        """
    )
    plan = harness.plan()
    assert summary(plan) == [
        ("rename", "products/Three"),
        ("rename", "products/Two"),
        ("create", "products/One"),
    ]
    create = plan.changes[2]
    assert create.depends_on == {"products/Two"}, "the create waits for the rename that frees its name"
    harness.converge(parallelism=8)
    names = {p["name"]: p["id"] for p in harness.site.snapshot()["products"]}
    assert names["Three"] == ids["Two"] and names["Two"] == ids["One"]


def test_rename_with_both_names_live_is_an_error(harness_factory: Any) -> None:
    harness: Harness = harness_factory({"products": [{"name": "Old"}, {"name": "New"}]})
    harness.write("products:\n  - {name: New, renamedFrom: [Old]}\n")
    plan = harness.plan()
    assert [d.code for d in plan.diagnostics] == ["plan.rename_conflict"]
    assert plan.diagnostics[0].source is not None and plan.diagnostics[0].source.line == 3


def test_fifty_field_limit_deletes_before_creates(harness_factory: Any) -> None:
    fields = [{"name": f"Field {i:02}", "type": "TEXT"} for i in range(50)]
    harness: Harness = harness_factory({"detailFields": {"customer": fields}})
    kept = "\n".join(f"      - {{name: Field {i:02}, type: TEXT}}" for i in range(5, 50))
    new = "\n".join(f"      - {{name: New {i:02}, type: DATE}}" for i in range(5))
    harness.write(f"settings:\n  prune: [detailFields]\ndetailFields:\n  customer:\n{kept}\n{new}\n")
    plan = harness.plan()
    deletes = {c.key for c in plan.changes if c.action.value == "delete"}
    creates = [c for c in plan.changes if c.action.value == "create"]
    assert len(deletes) == 5 and len(creates) == 5
    assert all(c.depends_on == deletes for c in creates)
    harness.converge(parallelism=10)
    assert len(harness.site.snapshot()["detail_fields"]["customer"]) == 50


def test_unknown_references_are_plan_errors_at_their_line(harness: Harness) -> None:
    harness.write(
        """
        teamRoles:
          - team: No such team
            roles:
              - {name: responder}
        permissionSchemes:
          - name: S
            grants:
              BROWSE_PROJECTS: [group:no-such-group, projectRole:Administrators]
              com.example.timesheets__LOG_TIMES: [reporter]
        """
    )
    plan = harness.plan()
    found = [(d.code, d.source.line if d.source else None) for d in plan.diagnostics]
    assert found == [
        ("plan.unknown_team", 4),
        ("plan.unknown_holder", 10),
        ("plan.unknown_permission", 11),
    ]
    assert "did you mean com.example.timesheets__LOG_TIME" in plan.diagnostics[2].message


def test_partial_failure_skips_dependents_and_replan_shows_the_rest(harness_factory: Any) -> None:
    harness: Harness = harness_factory({"products": [{"name": "One"}, {"name": "Two"}]})
    harness.write(
        """
        products:
          - {name: Three, renamedFrom: [Two]}
          - {name: Two, renamedFrom: [One]}
          - {name: Four}
        customRoles:
          - {name: Role A, grantedRights: [alert-action]}
        """
    )
    plan = harness.plan()
    # The first rename is refused: its dependent is skipped, independent changes finish.
    harness.site.knobs.error_every = 0
    products = harness.site.snapshot()["products"]
    two = next(p for p in products if p["name"] == "Two")
    harness.site.knobs.fail_on = {("PUT", f"/product/{two['id']}"): 400}
    result = harness.apply(plan, parallelism=1)
    assert [c.key for c, _ in result.failed] == ["products/Three"]
    assert "400" in result.failed[0][1].message
    assert [c.key for c in result.skipped] == ["products/Two"]
    assert sorted(c.key for c in result.applied) == ["customRoles/Role A", "products/Four"]
    harness.site.knobs.fail_on = {}
    remaining = harness.plan()
    assert summary(remaining) == [("rename", "products/Three"), ("rename", "products/Two")]
    harness.converge()


def test_retries_and_rate_limits_still_converge(harness_factory: Any) -> None:
    harness: Harness = harness_factory(SEEDED, Knobs(record_calls=True, rate_limit_every=3, retry_after_s=0))
    harness.write(ALL_KINDS)
    harness.converge()
    assert any(call.status == 429 for call in harness.site.calls)


def test_twin_products_on_the_site_are_reported_and_pruned(harness_factory: Any) -> None:
    harness: Harness = harness_factory({"products": [{"name": "Twin"}, {"name": "Twin"}]})
    harness.write("settings:\n  prune: [products]\nproducts:\n  - name: Twin\n")
    plan = harness.plan()
    assert [d.code for d in plan.diagnostics] == ["plan.duplicate_live"]
    assert summary(plan) == [("delete", "products/Twin")]
    harness.converge()
    assert [p["name"] for p in harness.site.snapshot()["products"]] == ["Twin"]


def test_a_plan_applied_already_is_recognised(harness_factory: Any) -> None:
    harness: Harness = harness_factory(
        {
            "products": [{"name": "Gadget"}, {"name": "Legacy"}],
            "customRoles": [{"name": "Alpha", "grantedRights": ["alert-action"]}, {"name": "Beta"}],
        }
    )
    harness.write(
        """
        settings:
          prune: [products]
        products:
          - {name: Acme Gadget, renamedFrom: [Gadget]}
          - name: New
        customRoles:
          - {name: Alpha, grantedRights: [alert-create]}
          - {name: Gamma, renamedFrom: [Beta], grantedRights: [alert-action]}
        """
    )
    plan = harness.plan()
    assert not looks_applied(plan, harness.read(), KINDS)
    assert harness.apply(harness.plan(targets=["products/New"])).ok
    assert not looks_applied(plan, harness.read(), KINDS)  # partly applied: not all of it took effect
    harness.converge()
    assert looks_applied(plan, harness.read(), KINDS)
