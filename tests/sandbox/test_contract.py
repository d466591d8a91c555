"""Every kind of answer the sandbox gives, per operation, validated against the official documents.

`Api` checks each answer as it arrives (see conftest.py); these tests drive every implemented operation
through its success and each error the sandbox produces, then assert that all of them were seen.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.sandbox.app import SandboxSite

from .conftest import BASIC, BEARER, SCOPED, Api, Contract, q

SRE_TEAM = "2f1e4b6a-9c3d-4e5f-8a7b-6c5d4e3f2a10"
CUSTOMER_ID = "5b10ac8d82e05b22cc7d4ef5"
# The set-value operationIds are not regular: organizations, customer, entitlement.
VALUE_OPS = {"organization": "organizations", "customer": "customer", "entitlement": "entitlement"}


@pytest.fixture
def site(demo_seed: dict[str, Any]) -> SandboxSite:
    """The demo site plus a customer, so the customer operations have something to act on."""
    return SandboxSite(seed={**demo_seed, "customers": [{"name": "Jane Doe", "id": CUSTOMER_ID}]})


EXPECTED: dict[str, set[tuple[str, int]]] = {
    "jira": {
        ("getAllPermissionSchemes", 200),
        ("getAllPermissionSchemes", 401),
        ("createPermissionScheme", 201),
        ("createPermissionScheme", 400),
        ("getPermissionScheme", 200),
        ("getPermissionScheme", 404),
        ("updatePermissionScheme", 200),
        ("updatePermissionScheme", 400),
        ("updatePermissionScheme", 404),
        ("deletePermissionScheme", 204),
        ("deletePermissionScheme", 404),
        ("getPermissionSchemeGrants", 200),
        ("getPermissionSchemeGrants", 404),
        ("createPermissionGrant", 201),
        ("createPermissionGrant", 400),
        ("createPermissionGrant", 404),
        ("getPermissionSchemeGrant", 200),
        ("getPermissionSchemeGrant", 404),
        ("deletePermissionSchemeEntity", 204),
        ("deletePermissionSchemeEntity", 400),
        ("getAllPermissions", 200),
        ("getAllPermissions", 401),
        ("bulkGetGroups", 200),
        ("bulkGetGroups", 400),
        ("getAllProjectRoles", 200),
        ("createProjectRole", 200),
        ("createProjectRole", 400),
        ("createProjectRole", 409),
        ("getCurrentUser", 200),
        ("getCurrentUser", 401),
        ("getAllApplicationRoles", 200),
        ("getAllApplicationRoles", 401),
        ("getFields", 200),
        ("getFields", 401),
        ("bulkGetUsers", 200),
        ("bulkGetUsers", 400),
        ("bulkGetUsers", 401),
    },
    "csm": {
        *(
            (op, status)
            for kind, plural in VALUE_OPS.items()
            for op, status in [
                (f"get-all-{kind}-details", 200),
                (f"create-{kind}-detail", 200),
                (f"create-{kind}-detail", 400),
                (f"update-field-for-{kind}s", 200),
                (f"update-field-for-{kind}s", 400),
                (f"update-field-for-{kind}s", 404),
                (f"delete-{kind}-detail", 204),
                (f"delete-{kind}-detail", 404),
                (f"get-{kind}", 200),
                (f"get-{kind}", 404),
                (f"update-field-value-for-{plural}", 200),
                (f"update-field-value-for-{plural}", 400),
                (f"update-field-value-for-{plural}", 404),
            ]
        ),
        ("get-organization-entitlements", 200),
        ("get-organization-entitlements", 404),
        ("create-organization-entitlement", 200),
        ("create-organization-entitlement", 400),
        ("get-customer-entitlements", 200),
        ("create-customer-entitlement", 200),
        ("delete-entitlement", 204),
        ("delete-entitlement", 404),
        ("get-products", 200),
        ("get-products", 400),
        ("get-products", 401),
        ("create-product", 200),
        ("create-product", 400),
        ("get-product", 200),
        ("get-product", 404),
        ("update-product", 200),
        ("update-product", 400),
        ("update-product", 404),
        ("delete-product", 204),
        ("delete-product", 404),
    },
    "ops": {
        ("getRoles", 200),
        ("getRoles", 400),
        ("getRoles", 401),
        ("createCustomRole", 200),
        ("createCustomRole", 400),
        ("createCustomRole", 409),
        ("getCustomUserRole", 200),
        ("getCustomUserRole", 404),
        ("getCustomUserRole", 422),
        ("updateCustomUserRole", 200),
        ("updateCustomUserRole", 400),
        ("updateCustomUserRole", 404),
        ("updateCustomUserRole", 409),
        ("updateCustomUserRole", 422),
        ("deleteCustomUserRole", 204),
        ("deleteCustomUserRole", 404),
        ("deleteCustomUserRole", 422),
        ("assignCustomRole", 200),
        ("assignCustomRole", 400),
        ("assignCustomRole", 404),
        ("assignCustomRole", 422),
        ("getTeams", 200),
        ("listTeamRoles", 200),
        ("createTeamRole", 200),
        ("createTeamRole", 400),
        ("createTeamRole", 404),
        ("createTeamRole", 409),
        ("getTeamRole", 200),
        ("getTeamRole", 404),
        ("updateTeamRole", 200),
        ("updateTeamRole", 400),
        ("updateTeamRole", 404),
        ("updateTeamRole", 409),
        ("deleteTeamRole", 204),
        ("deleteTeamRole", 404),
    },
}


def _seen(contract: Contract, family: str) -> set[tuple[str, int]]:
    return {(op, status) for fam, op, status in contract.seen if fam == family}


def test_jira_answers_match_the_document(api: Api) -> None:
    contract = api.contract
    j = api.jira
    assert api.get(j("/permissionscheme")).status == 200
    assert api.get(j("/permissionscheme"), auth="Basic bm9ib2R5Om5vcGU=").status == 401
    grant = {"holder": {"type": "group", "parameter": "jira-administrators"}, "permission": "EDIT_ISSUES"}
    created = api.post(j("/permissionscheme"), {"name": "Contract", "permissions": [grant]})
    assert created.status == 201
    scheme = created.json["id"]
    assert api.post(j("/permissionscheme"), {"name": "contract"}).status == 400
    assert api.get(j(f"/permissionscheme/{scheme}?expand=all")).status == 200
    assert api.get(j("/permissionscheme/999")).status == 404
    assert api.put(j(f"/permissionscheme/{scheme}"), {"name": "Contract 2"}).status == 200
    assert api.put(j(f"/permissionscheme/{scheme}"), {"name": ""}).status == 400
    assert api.put(j("/permissionscheme/999"), {"name": "x"}).status == 404
    assert api.get(j(f"/permissionscheme/{scheme}/permission")).status == 200
    assert api.get(j("/permissionscheme/999/permission")).status == 404
    added = api.post(j(f"/permissionscheme/{scheme}/permission"), {**grant, "permission": "BROWSE_PROJECTS"})
    assert added.status == 201
    assert api.post(j(f"/permissionscheme/{scheme}/permission"), grant).status == 400
    assert api.post(j("/permissionscheme/999/permission"), grant).status == 404
    grant_id = added.json["id"]
    assert api.get(j(f"/permissionscheme/{scheme}/permission/{grant_id}")).status == 200
    assert api.get(j(f"/permissionscheme/{scheme}/permission/1")).status == 404
    assert api.delete(j(f"/permissionscheme/{scheme}/permission/{grant_id}")).status == 204
    assert api.delete(j(f"/permissionscheme/{scheme}/permission/{grant_id}")).status == 400
    assert api.delete(j(f"/permissionscheme/{scheme}")).status == 204
    assert api.delete(j(f"/permissionscheme/{scheme}")).status == 404
    assert api.get(j("/permissions"), auth=None).status == 200
    assert api.get(j("/permissions"), auth="Bearer wrong").status == 401
    assert api.get(j("/group/bulk?groupName=jira-administrators")).status == 200
    assert api.get(j("/group/bulk?startAt=x")).status == 400
    assert api.get(j("/role")).status == 200
    assert api.post(j("/role"), {"name": "Testers"}).status == 200
    assert api.post(j("/role"), {"name": " Testers"}).status == 400
    assert api.post(j("/role"), {"name": "testers"}).status == 409
    assert api.get(api.jira_gateway("/myself"), auth=BEARER).status == 200
    assert api.get(j("/myself"), auth=BEARER).status == 401  # the site URL refuses OAuth tokens
    assert api.get(j("/myself"), auth=None).status == 401
    assert api.get(j("/applicationrole")).status == 200
    assert api.get(j("/applicationrole"), auth=None).status == 401
    assert api.get(j("/field")).status == 200
    assert api.get(j("/field"), auth="Bearer wrong").status == 401
    assert api.get(j(f"/user/bulk?accountId={CUSTOMER_ID}&accountId=nobody&maxResults=1")).status == 200
    assert api.get(j("/user/bulk")).status == 400
    assert api.get(j(f"/user/bulk?accountId={CUSTOMER_ID}"), auth=None).status == 401
    assert _seen(contract, "jira") >= EXPECTED["jira"]


def test_csm_answers_match_the_document(api: Api) -> None:
    contract = api.contract
    c = api.csm
    product = api.post(c("/product"), {"name": "Contract product"}).json["id"]
    holders = {
        "organization": "1",
        "customer": CUSTOMER_ID,
        "entitlement": api.post(c(f"/customer/{CUSTOMER_ID}/entitlement"), {"productId": product}).json["id"],
    }
    for kind, holder in holders.items():
        select = {"name": "Colour", "type": {"name": "SELECT", "options": ["Red"]}}
        assert api.get(c(f"/{kind}/details")).status == 200
        assert api.post(c(f"/{kind}/details"), select).status == 200
        assert api.post(c(f"/{kind}/details"), {"name": "Key", "type": {"name": "TEXT"}}).status == 400
        assert (
            api.put(c(f"/{kind}/details/Colour"), {"name": "Color", "options": ["Red", "Blue"]}).status == 200
        )
        assert api.put(c(f"/{kind}/details/Color"), {"name": "a.b"}).status == 400
        assert api.put(c(f"/{kind}/details/Nope"), {"name": "Other"}).status == 404
        assert api.put(c(f"/{kind}/{holder}/details?fieldName=Color"), {"values": ["Blue"]}).status == 200
        assert api.put(c(f"/{kind}/{holder}/details?fieldName=Color"), {"values": ["Green"]}).status == 400
        assert api.put(c(f"/{kind}/nope/details?fieldName=Color"), {"values": []}).status == 404
        assert api.get(c(f"/{kind}/{holder}")).status == 200
        assert api.get(c(f"/{kind}/nope")).status == 404
        assert api.delete(c(f"/{kind}/details/{q('Color')}")).status == 204
        assert api.delete(c(f"/{kind}/details/Color")).status == 404
    assert api.get(c("/organization/1/entitlement")).status == 200
    assert api.get(c("/organization/999/entitlement")).status == 404
    assert api.post(c("/organization/1/entitlement"), {"productId": product}).status == 200
    assert api.post(c("/organization/1/entitlement"), {"productId": "nope"}).status == 400
    assert api.get(c(f"/customer/{CUSTOMER_ID}/entitlement?product={product}")).status == 200
    assert api.get(c("/product?limit=2")).status == 200
    assert api.get(c("/product?limit=x")).status == 400
    assert api.get(c("/product"), auth=None).status == 401
    assert api.post(c("/product"), {"name": "x" * 201}).status == 400
    assert api.get(c(f"/product/{product}")).status == 200
    assert api.get(c("/product/nope")).status == 404
    assert api.put(c(f"/product/{product}"), {"name": "Renamed"}).status == 200
    assert api.put(c(f"/product/{product}"), {"name": 5}).status == 400
    assert api.put(c("/product/nope"), {"name": "x"}).status == 404
    assert api.delete(c(f"/entitlement/{holders['entitlement']}")).status == 204
    assert api.delete(c(f"/entitlement/{holders['entitlement']}")).status == 404
    assert api.delete(c(f"/product/{product}")).status == 204
    assert api.delete(c(f"/product/{product}")).status == 404
    assert _seen(contract, "csm") >= EXPECTED["csm"]


def test_ops_answers_match_the_document(api: Api) -> None:
    contract = api.contract
    o = api.ops
    assert api.get(o("/roles")).status == 200
    assert api.get(o("/roles?size=0")).status == 400
    assert api.get(o("/roles"), auth=None).status == 401
    created = api.post(o("/roles"), {"name": "Contract", "grantedRights": ["alert-create"]})
    assert created.status == 200
    role = created.json["data"]["id"]
    conflicting = {"name": "Bad", "grantedRights": ["alert-close"], "disallowedRights": ["alert-close"]}
    assert api.post(o("/roles"), conflicting).status == 400
    assert api.post(o("/roles"), {"name": "contract"}).status == 409
    assert api.get(o(f"/roles/{role}")).status == 200
    assert api.get(o("/roles/Contract?identifierType=name")).status == 200
    assert api.get(o("/roles/nope")).status == 404
    assert api.get(o("/roles/admin?identifierType=name")).status == 422
    assert api.put(o(f"/roles/{role}"), {"name": "Contract 2"}).status == 200
    assert api.put(o(f"/roles/{role}"), {"grantedRights": ["x"], "disallowedRights": ["x"]}).status == 400
    assert api.put(o(f"/roles/{role}"), {"name": "FinanceRole"}).status == 409
    assert api.put(o("/roles/nope"), {"name": "x"}).status == 404
    assert api.put(o("/roles/user"), {"name": "x"}).status == 422
    assert api.post(o("/roles/assign"), {"accountId": "abc", "roleId": role}).status == 200
    assert api.post(o("/roles/assign"), {"accountId": "abc"}).status == 400
    assert api.post(o("/roles/assign"), {"accountId": "abc", "roleId": "nope"}).status == 404
    assert api.post(o("/roles/assign"), {"accountId": "abc", "roleId": "observer"}).status == 422
    assert api.delete(o(f"/roles/{role}")).status == 204
    assert api.delete(o(f"/roles/{role}")).status == 404
    assert api.delete(o("/roles/stakeholder")).status == 422
    assert api.get(o("/teams")).status == 200
    assert api.get(o(f"/teams/{SRE_TEAM}/roles")).status == 200
    rights = [{"right": "edit-schedules", "granted": True}]
    made = api.post(o(f"/teams/{SRE_TEAM}/roles"), {"name": "responder", "rights": rights})
    assert made.status == 200
    team_role = made.json["id"]
    assert (
        api.post(
            o(f"/teams/{SRE_TEAM}/roles"), {"name": "x", "rights": [{"right": "fly", "granted": True}]}
        ).status
        == 400
    )
    assert api.post(o("/teams/nope/roles"), {"name": "x"}).status == 404
    assert api.post(o(f"/teams/{SRE_TEAM}/roles"), {"name": "On-Call"}).status == 409
    assert api.get(o(f"/teams/{SRE_TEAM}/roles/{team_role}")).status == 200
    assert api.get(o(f"/teams/{SRE_TEAM}/roles/nope")).status == 404
    assert api.patch(o(f"/teams/{SRE_TEAM}/roles/{team_role}"), {"name": "responders"}).status == 200
    assert (
        api.patch(
            o(f"/teams/{SRE_TEAM}/roles/{team_role}"), {"rights": [{"right": "x", "granted": 1}]}
        ).status
        == 400
    )
    assert api.patch(o(f"/teams/{SRE_TEAM}/roles/nope"), {"name": "y"}).status == 404
    assert api.patch(o(f"/teams/{SRE_TEAM}/roles/{team_role}"), {"name": "on-call"}).status == 409
    assert api.delete(o(f"/teams/{SRE_TEAM}/roles/{team_role}")).status == 204
    assert api.delete(o(f"/teams/{SRE_TEAM}/roles/{team_role}")).status == 404
    assert _seen(contract, "ops") >= EXPECTED["ops"]


def test_unknown_routes_and_methods_answer_in_the_family_style(api: Api) -> None:
    assert api.get("/rest/api/3/nothing").json["errorMessages"]
    assert api.get(api.csm("/nothing")).json["errors"] == ["NOT_FOUND"]
    assert api.patch(api.ops("/roles"), {}).status == 405
    assert api.get(api.ops("/nothing")).json["errors"][0]["code"] == "NOT_FOUND"


def test_wrong_cloud_id_is_404(api: Api) -> None:
    other = "00000000-0000-0000-0000-000000000000"
    assert api.get(f"/jsm/ops/api/{other}/v1/roles").status == 404
    assert api.get(f"/jsm/csm/cloudid/{other}/api/v1/product").status == 404


def test_tenant_info_needs_no_credentials(api: Api) -> None:
    answer = api.get("/_edge/tenant_info", auth=None)
    assert answer.json == {"cloudId": api.site.cloud_id}


# --- the API gateway, the experimental opt-in, and DELETE of a missing object ------------------------


@pytest.mark.parametrize("auth", [BEARER, SCOPED, BASIC])
def test_jira_answers_through_the_gateway(api: Api, auth: str) -> None:
    """OAuth and scoped tokens reach Jira only at JSM_API_BASE/ex/jira/{cloudId}/rest/api/3 (CLI.md)."""
    g = api.jira_gateway
    listed = api.get(g("/permissionscheme?expand=all"), auth=auth)
    assert listed.status == 200
    created = api.post(g("/permissionscheme"), {"name": "Through the gateway"}, auth=auth)
    assert created.status == 201
    scheme = created.json["id"]
    assert created.json["self"].endswith(g(f"/permissionscheme/{scheme}"))  # links stay on the gateway
    grant = {"holder": {"type": "anyone"}, "permission": "BROWSE_PROJECTS"}
    assert api.post(g(f"/permissionscheme/{scheme}/permission"), grant, auth=auth).status == 201
    assert api.put(g(f"/permissionscheme/{scheme}"), {"name": "Renamed"}, auth=auth).status == 200
    assert api.get(g("/role"), auth=auth).status == 200
    assert api.get(g("/permissions"), auth=auth).status == 200
    assert api.get(g("/group/bulk?groupName=jira-administrators"), auth=auth).status == 200
    assert api.get(g("/myself"), auth=auth).status == 200
    assert api.delete(g(f"/permissionscheme/{scheme}"), auth=auth).status == 204
    assert api.get(g("/myself"), auth="Bearer wrong").status == 401
    assert {"getAllPermissionSchemes", "createPermissionScheme", "deletePermissionScheme"} <= {
        op for family, op, _ in api.contract.seen if family == "jira"
    }


@pytest.mark.parametrize("auth", [BEARER, SCOPED])
def test_the_site_url_answers_401_to_oauth_and_scoped_tokens(api: Api, auth: str) -> None:
    for path in ("/myself", "/role", "/permissionscheme"):
        answer = api.get(api.jira(path), auth=auth)
        assert answer.status == 401
        assert answer.json["errorMessages"] == ["Client must be authenticated to access this resource."]
    # The gateway families take both, and the classic token still works at the site URL.
    assert api.get(api.csm("/product"), auth=auth).status == 200
    assert api.get(api.ops("/teams"), auth=auth).status == 200
    assert api.get(api.jira("/myself"), auth=BASIC).status == 200


def test_a_wrong_cloud_id_at_the_jira_gateway_is_404(api: Api) -> None:
    other = "00000000-0000-0000-0000-000000000000"
    answer = api.get(f"/ex/jira/{other}/rest/api/3/myself", auth=BEARER)
    assert answer.status == 404
    assert answer.json["errorMessages"]


def test_custom_role_operations_need_the_experimental_opt_in(api: Api) -> None:
    """The Ops custom user role page marks every operation experimental; the CSM document says an
    experimental method answers 412 without `X-ExperimentalApi: opt-in`."""
    o = api.ops
    role = api.post(o("/roles"), {"name": "Opted in"}).json["data"]["id"]
    before = api.site.snapshot()
    none: dict[str, str] = {}
    assert api.get(o("/roles"), headers=none).status == 412
    assert api.post(o("/roles"), {"name": "Refused"}, headers=none).status == 412
    assert api.get(o(f"/roles/{role}"), headers=none).status == 412
    assert api.put(o(f"/roles/{role}"), {"name": "Refused"}, headers=none).status == 412
    assert api.post(o("/roles/assign"), {"accountId": "abc", "roleId": role}, headers=none).status == 412
    refused = api.delete(o(f"/roles/{role}"), headers=none)
    assert refused.status == 412
    assert "X-ExperimentalApi: opt-in" in refused.json["errors"][0]["title"]
    assert api.site.snapshot() == before  # refused before any change
    # Nothing else is marked experimental in these documents.
    assert api.get(o(f"/teams/{SRE_TEAM}/roles"), headers=none).status == 200
    assert api.get(api.csm("/product"), headers=none).status == 200
    assert api.get(api.jira("/role"), headers=none).status == 200
    assert {("ops", "deleteCustomUserRole", 412), ("ops", "getRoles", 412)} <= api.contract.seen


def test_a_repeated_delete_can_answer_400_as_the_documents_allow(api: Api) -> None:
    """Field, product and team-role DELETEs declare no 404; with the knob a missing one answers 400."""
    api.site.knobs.delete_missing_status = 400
    c, o = api.csm, api.ops
    assert api.post(c("/organization/details"), {"name": "Twice", "type": {"name": "TEXT"}}).status == 200
    assert api.delete(c("/organization/details/Twice")).status == 204
    assert api.delete(c("/organization/details/Twice")).status == 400
    product = api.post(c("/product"), {"name": "Twice"}).json["id"]
    assert api.delete(c(f"/product/{product}")).status == 204
    assert api.delete(c(f"/product/{product}")).status == 400
    team_role = api.post(o(f"/teams/{SRE_TEAM}/roles"), {"name": "twice"}).json["id"]
    assert api.delete(o(f"/teams/{SRE_TEAM}/roles/{team_role}")).status == 204
    assert api.delete(o(f"/teams/{SRE_TEAM}/roles/{team_role}")).status == 400
    # Operations whose documents declare 404 keep it.
    assert api.get(c(f"/product/{product}")).status == 404
    assert {
        ("csm", "delete-organization-detail", 400),
        ("csm", "delete-product", 400),
        ("ops", "deleteTeamRole", 400),
    } <= api.contract.seen


PROJECT_OPERATIONS = {
    ("searchProjects", 200),
    ("searchProjects", 404),
    ("getAssignedPermissionScheme", 200),
    ("getAssignedPermissionScheme", 404),
    ("assignPermissionScheme", 200),
    ("assignPermissionScheme", 404),
}


def test_project_answers_match_the_document(api: Api) -> None:
    j = api.jira
    first = api.get(j("/project/search?maxResults=2"))
    assert first.status == 200
    assert (first.json["startAt"], first.json["maxResults"], first.json["total"]) == (0, 2, 4)
    assert first.json["isLast"] is False and "startAt=2" in first.json["nextPage"]
    assert [p["key"] for p in first.json["values"]] == ["ENG", "HR"]  # orderBy defaults to key
    last = api.get(j("/project/search?startAt=2&maxResults=2")).json
    assert last["isLast"] is True and "nextPage" not in last
    assert [p["key"] for p in last["values"]] == ["IT", "SD"]
    # "If a value greater than 100 is provided, the maxResults parameter will default to 100."
    assert api.get(j("/project/search?maxResults=500")).json["maxResults"] == 100
    assert [p["key"] for p in api.get(j("/project/search?keys=SD&keys=HR")).json["values"]] == ["HR", "SD"]
    assert [p["key"] for p in api.get(j("/project/search?query=help")).json["values"]] == ["HR"]
    # "404 Returned if no projects matching the search criteria are found."
    assert api.get(j("/project/search?keys=NOPE")).status == 404

    scheme = api.get(j("/project/SD/permissionscheme"))
    assert scheme.status == 200 and scheme.json["name"] == "CS scheme" and "permissions" not in scheme.json
    assert "permissions" in api.get(j("/project/SD/permissionscheme?expand=permissions")).json
    assert api.get(j("/project/NOPE/permissionscheme")).status == 404
    default = api.get(j("/project/HR/permissionscheme")).json["id"]
    moved = api.put(j("/project/SD/permissionscheme"), {"id": default})
    assert moved.status == 200 and moved.json["id"] == default
    assert api.get(j("/project/SD/permissionscheme")).json["id"] == default
    # "404 Returned if the project or permission scheme is not found."
    assert api.put(j("/project/SD/permissionscheme"), {"id": 999}).status == 404
    assert api.put(j("/project/NOPE/permissionscheme"), {"id": default}).status == 404
    assert _seen(api.contract, "jira") >= PROJECT_OPERATIONS


def test_deleting_a_scheme_in_use_is_not_refused(api: Api) -> None:
    """DELETE /permissionscheme/{id} documents 204, 401, 403 and 404 only: no refusal for a scheme in use.
    The projects on it fall back to the site's first scheme (the tool itself refuses such a plan)."""
    j = api.jira
    cs_scheme = api.get(j("/project/SD/permissionscheme")).json["id"]
    assert api.delete(j(f"/permissionscheme/{cs_scheme}")).status == 204
    fallback = api.get(j("/project/SD/permissionscheme")).json
    assert fallback["name"] == "Default permission scheme"
    assert api.get(j("/project/IT/permissionscheme")).json["id"] == fallback["id"]


def test_project_search_honours_max_results_zero_status_and_action(api: Api) -> None:
    """maxResults=0 gives the total alone; `status` (live by default) and `action` (view by default: edit
    needs Administer Projects) filter as the document says, with Knobs.project_access for a partly
    privileged caller."""
    j = api.jira
    api.site.knobs.project_access = {"HR": "browse", "IT": "none"}
    counted = api.get(j("/project/search?maxResults=0")).json
    assert (counted["total"], counted["values"], counted["isLast"]) == (3, [], True)
    assert "nextPage" not in counted
    viewed = [p["key"] for p in api.get(j("/project/search")).json["values"]]
    assert viewed == [p["key"] for p in api.get(j("/project/search?action=browse")).json["values"]]
    assert viewed == ["ENG", "HR", "SD"]  # IT is hidden from this caller
    edited = api.get(j("/project/search?action=edit&status=live")).json
    assert [p["key"] for p in edited["values"]] == ["ENG", "SD"] and edited["total"] == 2
    assert "action=edit" in edited["self"]
    assert api.get(j("/project/search?status=archived")).status == 404  # the sandbox archives nothing
    assert api.get(j("/project/search?action=fly")).status == 400
    assert api.get(j("/project/search?status=gone")).status == 400
    # Browse Projects alone: the scheme is the project's configuration (403); a hidden project is a 404.
    refused = api.get(j("/project/HR/permissionscheme"))
    assert refused.status == 403 and "HR" in refused.json["errorMessages"][0]
    default = api.get(j("/project/ENG/permissionscheme")).json["id"]
    assert api.put(j("/project/HR/permissionscheme"), {"id": default}).status == 403
    assert api.get(j("/project/IT/permissionscheme")).status == 404
    assert _seen(api.contract, "jira") >= {
        ("searchProjects", 200),
        ("searchProjects", 400),
        ("getAssignedPermissionScheme", 403),
        ("getAssignedPermissionScheme", 404),
        ("assignPermissionScheme", 403),
    }


def test_a_project_role_is_read_by_its_id(api: Api) -> None:
    """GET /role/{id}, where each role's `self` points."""
    listed = api.get(api.jira("/role")).json
    role = api.get(api.jira(f"/role/{listed[0]['id']}"))
    assert role.status == 200
    assert role.json["name"] == listed[0]["name"] and role.json["actors"] == []
    assert role.json["self"] == listed[0]["self"]
    assert api.get(api.jira("/role/999999")).status == 404
    assert {("getProjectRoleById", 200), ("getProjectRoleById", 404)} <= _seen(api.contract, "jira")
