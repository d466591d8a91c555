"""The documented rules of each API family, as the sandbox enforces them (answers also contract-checked)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.catalogue import TEAM_ROLE_RIGHTS

from .conftest import BASIC, BEARER, SCOPED, Api, q

SRE_TEAM = "2f1e4b6a-9c3d-4e5f-8a7b-6c5d4e3f2a10"
ACME = "1"


# ---- authentication -------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [BASIC, BEARER, SCOPED])
def test_basic_and_bearer_credentials_are_accepted(api: Api, auth: str) -> None:
    # Jira takes OAuth and scoped tokens only through the gateway (CLI.md, URL layout).
    jira = api.jira if auth == BASIC else api.jira_gateway
    assert api.get(jira("/myself"), auth=auth).status == 200
    assert api.get(api.csm("/product"), auth=auth).status == 200
    assert api.get(api.ops("/teams"), auth=auth).status == 200


@pytest.mark.parametrize("auth", [None, "Bearer nope", "Basic bm9ib2R5Om5vcGU=", "Basic !!!", "Token x"])
def test_other_credentials_get_the_family_401(api: Api, auth: str | None) -> None:
    jira = api.get(api.jira("/role"), auth=auth)
    assert (jira.status, jira.json["errorMessages"]) == (
        401,
        ["Client must be authenticated to access this resource."],
    )
    csm = api.get(api.csm("/product"), auth=auth)
    assert (csm.status, csm.json["statusCode"], csm.json["errors"]) == (401, 401, ["UNAUTHORIZED"])
    ops = api.get(api.ops("/roles"), auth=auth)
    assert (ops.status, ops.json["code"]) == (401, 401)


@pytest.mark.parametrize("raw", [b"{", b"[]", b'"x"', b"\xff\xfe", b""])
def test_malformed_bodies_are_400_in_each_family(api: Api, raw: bytes) -> None:
    jira = api.post(api.jira("/permissionscheme"), raw=raw)
    assert jira.status == 400 and jira.json["errorMessages"]
    csm = api.post(api.csm("/product"), raw=raw)
    assert csm.status == 400 and csm.json["statusCode"] == 400
    ops = api.post(api.ops("/roles"), raw=raw)
    assert ops.status == 400 and ops.json["errors"][0]["title"]


def test_wrong_types_are_400_naming_the_field(api: Api) -> None:
    answer = api.post(api.jira("/permissionscheme"), {"name": 7})
    assert answer.status == 400 and "name" in answer.json["errors"]
    assert api.post(api.csm("/product"), {"name": ["x"]}).status == 400
    assert api.post(api.ops("/roles"), {"name": "x", "grantedRights": "alert-create"}).status == 400


# ---- CSM detail fields ----------------------------------------------------------------------------


def _create_field(
    api: Api, name: str, type_name: str = "TEXT", options: list[str] | None = None, kind: str = "organization"
) -> int:
    field_type: dict[str, object] = {"name": type_name}
    if options is not None:
        field_type["options"] = options
    return api.post(api.csm(f"/{kind}/details"), {"name": name, "type": field_type}).status


@pytest.mark.parametrize("name", ["x", "y" * 256, "a?b", "a:b", "a;b", "a.b", "a=b", "a\u201cb"])
def test_detail_field_names_must_be_valid(api: Api, name: str) -> None:
    assert _create_field(api, name) == 400


@pytest.mark.parametrize("name", ["Name", "KEY", "created", "uPdAtEd", "label"])
def test_reserved_detail_field_names_are_refused_in_any_case(api: Api, name: str) -> None:
    assert _create_field(api, name) == 400


def test_detail_field_name_lengths_2_and_255_are_fine(api: Api) -> None:
    assert _create_field(api, "ab") == 200
    assert _create_field(api, "z" * 255) == 200


def test_detail_field_names_are_unique_case_insensitively(api: Api) -> None:
    assert _create_field(api, "REGION") == 400
    assert _create_field(api, "Region", kind="customer") == 200  # per entity
    rename = api.put(api.csm(f"/organization/details/{q('AM email')}"), {"name": "region"})
    assert rename.status == 400


def test_at_most_50_detail_fields_per_entity(api: Api) -> None:
    existing = len(api.get(api.csm("/organization/details")).json["results"])
    for number in range(50 - existing):
        assert _create_field(api, f"Field {number}") == 200
    refused = api.post(api.csm("/organization/details"), {"name": "One more", "type": {"name": "TEXT"}})
    assert refused.status == 400 and "50" in refused.json["errorMessage"]
    assert _create_field(api, "Still fine", kind="entitlement") == 200


def test_options_only_for_select_types_and_never_with_a_comma(api: Api) -> None:
    assert _create_field(api, "Plain", "TEXT", ["a"]) == 400
    assert _create_field(api, "Choice", "SELECT", ["a,b"]) == 400
    assert _create_field(api, "Choice", "MULTISELECT", ["x" * 256]) == 400
    assert _create_field(api, "Choice", "MULTISELECT", ["a", "b"]) == 200
    assert _create_field(api, "Kind", "COLOUR") == 400
    edit = api.put(api.csm(f"/organization/details/{q('AM email')}"), {"name": "AM email", "options": ["x"]})
    assert edit.status == 400


def test_field_list_shape_and_positions(api: Api) -> None:
    results = api.get(api.csm("/organization/details")).json["results"]
    assert results == [
        {"name": "AM email", "type": {"name": "EMAIL"}, "configuration": {"position": 1}},
        {
            "name": "Region",
            "type": {"name": "SELECT", "options": ["AU", "EU"]},
            "configuration": {"position": 2},
        },
    ]


def test_rename_keeps_values_and_delete_erases_them(api: Api) -> None:
    site = api.site
    assert site.detail_values("organization", ACME) == {"AM email": ["am@acme.example"], "Region": ["EU"]}
    renamed = api.put(
        api.csm("/organization/details/Region"), {"name": "Sales region", "options": ["AU", "EU", "US"]}
    )
    assert renamed.json == {"name": "Sales region", "type": {"name": "SELECT", "options": ["AU", "EU", "US"]}}
    assert site.detail_values("organization", ACME)["Sales region"] == ["EU"]
    details = api.get(api.csm(f"/organization/{ACME}")).json["details"]
    assert {d["name"]: d["values"] for d in details} == {
        "AM email": ["am@acme.example"],
        "Sales region": ["EU"],
    }
    assert api.delete(api.csm(f"/organization/details/{q('Sales region')}")).status == 204
    assert site.detail_values("organization", ACME) == {"AM email": ["am@acme.example"]}
    # A new field with the old name starts empty: values went with the deleted field.
    assert _create_field(api, "Sales region", "SELECT", ["EU"]) == 200
    assert "Sales region" not in site.detail_values("organization", ACME)


def test_setting_values(api: Api) -> None:
    path = api.csm(f"/organization/{ACME}/details?fieldName=Region")
    assert api.put(path, {"values": ["AU", "EU"]}).status == 400  # single-valued
    assert api.put(path, {"values": ["Mars"]}).status == 400  # not an option
    answer = api.put(path, {"values": ["AU"]})
    assert answer.json["values"] == ["AU"] and answer.json["name"] == "Region"
    assert api.put(path, {"values": [""]}).json["values"] == []
    assert "Region" not in api.site.detail_values("organization", ACME)
    assert api.put(api.csm(f"/organization/{ACME}/details?fieldName=Nope"), {"values": []}).status == 404
    assert api.put(api.csm(f"/organization/{ACME}/details"), {"values": []}).status == 400
    assert _create_field(api, "Tags", "MULTISELECT", ["a", "b"]) == 200
    assert (
        api.put(api.csm(f"/organization/{ACME}/details?fieldName=Tags"), {"values": ["a", "b"]}).status == 200
    )
    long_value = api.put(
        api.csm(f"/organization/{ACME}/details?fieldName={q('AM email')}"), {"values": ["x" * 256]}
    )
    assert long_value.status == 400


def test_field_names_with_a_slash_are_addressable(api: Api) -> None:
    assert _create_field(api, "In/Out") == 200
    assert api.put(api.csm(f"/organization/details/{q('In/Out')}"), {"name": "Out/In"}).status == 200
    assert api.delete(api.csm(f"/organization/details/{q('Out/In')}")).status == 204


# ---- CSM products and entitlements ----------------------------------------------------------------


def test_product_names_are_at_most_200_characters(api: Api) -> None:
    created = api.post(api.csm("/product"), {"name": "p" * 200})
    assert created.status == 200 and created.json["name"] == "p" * 200
    assert api.post(api.csm("/product"), {"name": "p" * 201}).status == 400
    assert api.post(api.csm("/product"), {"name": " "}).status == 400
    assert api.put(api.csm(f"/product/{created.json['id']}"), {"name": "q" * 201}).status == 400


def _walk_products(api: Api, limit: str) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(api.csm(f"/product{query}")).json
        pages.append([p["name"] for p in body["results"]])
        cursor = body.get("nextPageCursor")
        if cursor is None:
            assert body["hasNextPage"] is False
            return pages


def test_products_paginate_by_cursor(api: Api) -> None:
    for number in range(4):
        api.post(api.csm("/product"), {"name": f"P{number}"})
    assert _walk_products(api, "3") == [
        ["Gadget", "Acme Widget", "Legacy Widget"],
        ["P0", "P1", "P2"],
        ["P3"],
    ]
    assert len(_walk_products(api, "0")[0]) == 7  # out of range means 100
    assert len(_walk_products(api, "101")[0]) == 7
    assert api.get(api.csm("/product?cursor=bogus")).status == 400


def test_product_cursor_survives_deletions(api: Api) -> None:
    first = api.get(api.csm("/product?limit=1")).json
    products = api.get(api.csm("/product")).json["results"]
    api.delete(api.csm(f"/product/{products[0]['id']}"))
    second = api.get(api.csm(f"/product?limit=1&cursor={first['nextPageCursor']}")).json
    assert second["results"] == [products[1]]


def test_deleting_a_product_deletes_its_entitlements(api: Api) -> None:
    product = api.post(api.csm("/product"), {"name": "Gizmo"}).json
    entitlement = api.post(api.csm(f"/organization/{ACME}/entitlement"), {"productId": product["id"]}).json
    assert entitlement["product"] == product
    assert entitlement["entitledEntity"] == {"id": ACME, "type": "ORGANIZATION"}
    assert api.get(api.csm(f"/organization/{ACME}/entitlement")).json == [entitlement]
    api.put(
        api.csm(f"/entitlement/{entitlement['id']}/details?fieldName={q('Support level')}"),
        {"values": ["24x7"]},
    )
    assert api.site.detail_values("entitlement", entitlement["id"]) == {"Support level": ["24x7"]}
    assert api.delete(api.csm(f"/product/{product['id']}")).status == 204
    assert api.get(api.csm(f"/entitlement/{entitlement['id']}")).status == 404
    assert api.get(api.csm(f"/organization/{ACME}/entitlement")).json == []


# ---- Ops custom user roles ------------------------------------------------------------------------


def test_custom_role_create_get_update(api: Api) -> None:
    created = api.post(
        api.ops("/roles"), {"name": "Pager", "grantedRights": ["alert-create", "alert-action"]}
    )
    assert created.status == 200
    assert created.json["message"] == "Created" and created.json["data"]["name"] == "Pager"
    role_id = created.json["data"]["id"]
    got = api.get(api.ops(f"/roles/{role_id}")).json
    assert got == {
        "id": role_id,
        "name": "Pager",
        "extendedRole": "user",
        "grantedRights": ["alert-action", "alert-create"],
        "disallowedRights": [],
    }
    # extendedRole is not part of the update body: it cannot change.
    updated = api.put(
        api.ops("/roles/Pager?identifierType=name"),
        {"extendedRole": "observer", "disallowedRights": ["alert-delete"]},
    )
    assert updated.json == {"message": "Updated", "data": {"id": role_id, "name": "Pager"}}
    got = api.get(api.ops(f"/roles/{role_id}?identifierType=id")).json
    assert got["extendedRole"] == "user" and got["disallowedRights"] == ["alert-delete"]
    assert got["grantedRights"] == ["alert-action", "alert-create"]  # omitted: kept


def test_seeded_extended_role_is_returned(api: Api) -> None:
    got = api.get(api.ops("/roles/FinanceRole?identifierType=name")).json
    assert got["extendedRole"] == "user" and got["grantedRights"] == ["alert-action"]


def test_custom_role_rights_outside_the_list_are_kept_and_conflicts_refused(api: Api) -> None:
    """As the official PUT example: it sends the right "asdasdad" and the answer is 200 "Updated"."""
    made = api.post(api.ops("/roles"), {"name": "R", "grantedRights": ["alert-create", "asdasdad"]})
    assert made.status == 200
    role_id = made.json["data"]["id"]
    body = {"name": "R", "grantedRights": ["asdasdad"], "disallowedRights": ["future-right"]}
    assert api.put(api.ops(f"/roles/{role_id}"), body).status == 200
    got = api.get(api.ops(f"/roles/{role_id}")).json
    assert got["grantedRights"] == ["asdasdad"] and got["disallowedRights"] == ["future-right"]
    assert api.delete(api.ops(f"/roles/{role_id}")).status == 204
    both = {"name": "R", "grantedRights": ["alert-create"], "disallowedRights": ["alert-create"]}
    assert api.post(api.ops("/roles"), both).status == 400
    assert api.post(api.ops("/roles"), {"name": "user"}).status == 400


@pytest.mark.parametrize("role", ["user", "observer", "stakeholder", "admin"])
def test_built_in_roles_are_422(api: Api, role: str) -> None:
    for kind in ("id", "name"):
        path = api.ops(f"/roles/{role}?identifierType={kind}")
        assert api.get(path).status == 422
        assert api.put(path, {"name": "x"}).status == 422
        assert api.delete(path).status == 422


def test_identifier_type_must_be_id_or_name(api: Api) -> None:
    assert api.get(api.ops("/roles/FinanceRole?identifierType=label")).status == 422
    assert api.get(api.ops("/roles/FinanceRole")).status == 404  # id is the default


def test_custom_roles_paginate_with_relative_links(api: Api) -> None:
    for number in range(23):
        api.post(api.ops("/roles"), {"name": f"Role {number:02}"})
    first = api.get(api.ops("/roles")).json
    assert len(first["values"]) == 20 and first["_expands"] == []
    assert first["links"] == {
        "first": "/v1/roles?offset=0&size=20",
        "last": "/v1/roles?offset=20&size=20",
        "next": "/v1/roles?offset=20&size=20",
    }
    second = api.get(api.ops("/roles?offset=20&size=20")).json
    # The last page's `next` is its own address, `last`, as in the document's example.
    assert len(second["values"]) == 5 and second["links"]["next"] == second["links"]["last"]
    names = [v["name"] for v in first["values"] + second["values"]]
    assert names[:2] == ["FinanceRole", "Old role"] and len(set(names)) == 25
    assert api.get(api.ops("/roles?size=101")).status == 400
    assert api.get(api.ops("/roles?offset=-1")).status == 400
    assert len(api.get(api.ops("/roles?size=100")).json["values"]) == 25


# ---- Ops teams and team roles ---------------------------------------------------------------------


def test_teams_are_listed(api: Api) -> None:
    teams = api.get(api.ops("/teams")).json["platformTeams"]
    assert {t["teamName"]: t["teamId"] for t in teams} == {
        "Platform SRE": SRE_TEAM,
        "Customer Support": "8c1b7c2e-6a0d-4f4e-9c55-2d4f0b8e1a10",
    }


def test_team_roles_always_carry_all_17_rights(api: Api) -> None:
    rights = [{"right": "edit-schedules", "granted": True}, {"right": "access-reports", "granted": False}]
    created = api.post(api.ops(f"/teams/{SRE_TEAM}/roles"), {"name": "scheduler", "rights": rights}).json
    assert [r["right"] for r in created["rights"]] == list(TEAM_ROLE_RIGHTS) == sorted(TEAM_ROLE_RIGHTS)
    assert {r["right"] for r in created["rights"] if r["granted"]} == {"edit-schedules"}
    patched = api.patch(
        api.ops(f"/teams/{SRE_TEAM}/roles/{created['id']}"),
        {"rights": [{"right": "delete-schedules", "granted": True}]},
    ).json
    assert {r["right"] for r in patched["rights"] if r["granted"]} == {"edit-schedules", "delete-schedules"}
    assert patched["name"] == "scheduler"
    listed = api.get(api.ops(f"/teams/{SRE_TEAM}/roles")).json
    assert [r["name"] for r in listed] == ["on-call", "scheduler"]
    assert all(len(r["rights"]) == 17 for r in listed)


def test_team_role_list_of_an_unknown_team_is_empty(api: Api) -> None:
    assert api.get(api.ops("/teams/nope/roles")).json == []


# ---- Jira permission schemes ----------------------------------------------------------------------


def _scheme(api: Api, name: str) -> dict[str, Any]:
    schemes = api.get(api.jira("/permissionscheme?expand=permissions")).json["permissionSchemes"]
    found: dict[str, Any] = next(s for s in schemes if s["name"] == name)
    return found


def test_scheme_list_has_grants_only_with_expand(api: Api) -> None:
    plain = api.get(api.jira("/permissionscheme")).json["permissionSchemes"]
    assert [s["name"] for s in plain] == ["Default permission scheme", "CS scheme"]
    assert all("permissions" not in s for s in plain)
    scheme = _scheme(api, "CS scheme")
    assert scheme["description"] == "Old"
    holders = {(g["permission"], g["holder"]["type"], g["holder"]["value"]) for g in scheme["permissions"]}
    assert holders == {
        ("ADMINISTER_PROJECTS", "projectRole", "10002"),
        ("BROWSE_PROJECTS", "projectRole", "10100"),
        ("EDIT_ISSUES", "group", "6f0a8a2e-3b1c-4d7e-9a55-1c2d3e4f5a60"),
    }


def test_group_holders_accept_name_or_id_and_return_both(api: Api) -> None:
    scheme = api.post(api.jira("/permissionscheme"), {"name": "Groups"}).json["id"]
    path = api.jira(f"/permissionscheme/{scheme}/permission")
    by_name = api.post(
        path, {"permission": "EDIT_ISSUES", "holder": {"type": "group", "parameter": "service-desk-agents"}}
    )
    expected = {
        "type": "group",
        "parameter": "service-desk-agents",
        "value": "b7e4c1d2-8f3a-4b6c-9d0e-7a1b2c3d4e5f",
        "expand": "group",
    }
    assert by_name.json["holder"] == expected
    by_id = api.post(
        path, {"permission": "LINK_ISSUES", "holder": {"type": "group", "value": expected["value"]}}
    )
    assert by_id.json["holder"] == expected
    mismatch = {"type": "group", "parameter": "jira-administrators", "value": expected["value"]}
    assert api.post(path, {"permission": "ADD_COMMENTS", "holder": mismatch}).status == 400
    assert (
        api.post(
            path, {"permission": "ADD_COMMENTS", "holder": {"type": "group", "parameter": "ghosts"}}
        ).status
        == 400
    )
    assert (
        api.post(
            path, {"permission": "ADD_COMMENTS", "holder": {"type": "projectRole", "value": "424242"}}
        ).status
        == 400
    )
    assert api.post(path, {"permission": "ADD_COMMENTS", "holder": {"type": "wizard"}}).status == 400
    assert (
        api.post(
            path, {"permission": "ADD_COMMENTS", "holder": {"type": "reporter", "parameter": "x"}}
        ).status
        == 400
    )
    assert api.post(path, {"permission": "ADD_COMMENTS", "holder": {"type": "group"}}).status == 400


def test_permission_keys_must_be_project_permissions(api: Api) -> None:
    scheme = api.post(api.jira("/permissionscheme"), {"name": "Keys"}).json["id"]
    path = api.jira(f"/permissionscheme/{scheme}/permission")
    anyone = {"type": "anyone"}
    assert api.post(path, {"permission": "com.example.timesheets__LOG_TIME", "holder": anyone}).status == 201
    assert api.post(path, {"permission": "ADMINISTER", "holder": anyone}).status == 400  # a global one
    assert api.post(path, {"permission": "FLY", "holder": anyone}).status == 400
    assert api.post(path + "?expand=bogus", {"permission": "EDIT_ISSUES", "holder": anyone}).status == 400


def test_duplicate_grants_are_400_and_unknown_grant_delete_is_400(api: Api) -> None:
    scheme = _scheme(api, "CS scheme")
    path = api.jira(f"/permissionscheme/{scheme['id']}/permission")
    duplicate = {"permission": "BROWSE_PROJECTS", "holder": {"type": "projectRole", "parameter": "10100"}}
    assert api.post(path, duplicate).status == 400
    twice = [duplicate, duplicate]
    assert api.post(api.jira("/permissionscheme"), {"name": "Twice", "permissions": twice}).status == 400
    assert api.delete(f"{path}/123456").status == 400


def test_put_with_permissions_replaces_every_grant(api: Api) -> None:
    scheme = _scheme(api, "CS scheme")
    old_ids = {g["id"] for g in scheme["permissions"]}
    path = api.jira(f"/permissionscheme/{scheme['id']}")
    kept = api.put(path, {"name": "CS scheme", "description": "New"}).json
    assert {g["id"] for g in kept["permissions"]} == old_ids and kept["description"] == "New"
    same = {"permission": "BROWSE_PROJECTS", "holder": {"type": "projectRole", "parameter": "10100"}}
    replaced = api.put(path, {"name": "CS scheme", "permissions": [same]}).json
    assert [g["permission"] for g in replaced["permissions"]] == ["BROWSE_PROJECTS"]
    assert not {g["id"] for g in replaced["permissions"]} & old_ids  # new grant ids
    assert api.put(path, {"name": "CS scheme", "permissions": []}).json["permissions"] == []


def test_scheme_names_are_unique(api: Api) -> None:
    assert api.post(api.jira("/permissionscheme"), {"name": "cs SCHEME"}).status == 400
    default_id = _scheme(api, "Default permission scheme")["id"]
    assert api.put(api.jira(f"/permissionscheme/{default_id}"), {"name": "CS scheme"}).status == 400
    assert (
        api.put(api.jira(f"/permissionscheme/{default_id}"), {"name": "Default permission scheme"}).status
        == 200
    )


def test_failed_write_changes_nothing(api: Api) -> None:
    before = api.site.snapshot()
    bad = [
        {"permission": "EDIT_ISSUES", "holder": {"type": "anyone"}},
        {"permission": "FLY", "holder": {"type": "anyone"}},
    ]
    assert api.post(api.jira("/permissionscheme"), {"name": "Half", "permissions": bad}).status == 400
    assert api.site.snapshot() == before


# ---- Jira lookups ---------------------------------------------------------------------------------


def test_permissions_list_has_builtin_global_and_app_keys(api: Api) -> None:
    permissions = api.get(api.jira("/permissions")).json["permissions"]
    assert permissions["BROWSE_PROJECTS"]["type"] == "PROJECT"
    assert permissions["ADMINISTER"]["type"] == "GLOBAL"
    app = permissions["com.example.timesheets__LOG_TIME"]
    assert app == {
        "key": "com.example.timesheets__LOG_TIME",
        "name": "Log time",
        "type": "PROJECT",
        "description": app["description"],
    }


def test_group_bulk_pages_and_filters(api: Api) -> None:
    first = api.get(api.jira("/group/bulk?maxResults=2")).json
    assert (first["total"], first["isLast"], len(first["values"])) == (3, False, 2)
    assert "startAt=2" in first["nextPage"]
    last = api.get(api.jira("/group/bulk?maxResults=2&startAt=2")).json
    assert last["isLast"] and "nextPage" not in last
    filtered = api.get(
        api.jira("/group/bulk?groupName=jira-administrators&groupId=b7e4c1d2-8f3a-4b6c-9d0e-7a1b2c3d4e5f")
    ).json
    assert {v["name"] for v in filtered["values"]} == {"jira-administrators", "service-desk-agents"}
    assert api.get(api.jira("/group/bulk?maxResults=0")).status == 400


def test_project_roles(api: Api) -> None:
    roles = api.get(api.jira("/role")).json
    assert {r["name"]: r["id"] for r in roles} == {
        "Developers": 10001,
        "Administrators": 10002,
        "Service Desk Team": 10100,
        "Service Desk Customers": 10101,
    }
    created = api.post(api.jira("/role"), {"name": "Approvers", "description": "Sign off"})
    assert created.status == 200 and created.json["name"] == "Approvers"
    assert api.post(api.jira("/role"), {"name": "APPROVERS"}).status == 409
    assert api.post(api.jira("/role"), {"description": "no name"}).status == 400


# ---- holders the site checks: application roles, custom fields, users ----------------------------


def test_application_roles_and_fields_list_what_the_seed_has(api: Api) -> None:
    roles = api.get(api.jira("/applicationrole")).json
    assert [role["key"] for role in roles] == ["jira-servicedesk", "jira-software"]
    fields = api.get(api.jira("/field")).json
    custom = {field["id"]: field["name"] for field in fields if field["custom"]}
    assert custom == {"customfield_10050": "Approvers", "customfield_10051": "Request participant groups"}
    assert {field["id"] for field in fields if not field["custom"]} == {"summary", "description"}


def test_bulk_users_pages_the_known_ones_and_takes_any_number_of_ids(api: Api) -> None:
    known = "5b10ac8d82e05b22cc7d4ef5"
    page = api.get(api.jira(f"/user/bulk?accountId=nobody&accountId={known}")).json
    assert [user["accountId"] for user in page["values"]] == [known]
    assert page["isLast"] and page["total"] == 1 and page["maxResults"] == 10
    ids = "&".join(f"accountId=a{i}" for i in range(129))  # `maxLength: 128` is an id's length, not a count
    assert api.get(api.jira(f"/user/bulk?{ids}")).status == 200


@pytest.mark.parametrize(
    ("holder", "allowed"),
    [
        ({"type": "applicationRole", "parameter": "jira-software"}, True),
        ({"type": "applicationRole", "parameter": "jira-nope"}, False),
        ({"type": "applicationRole"}, True),
        ({"type": "user", "parameter": "5b10ac8d82e05b22cc7d4ef5"}, True),
        ({"type": "user", "parameter": "nobody"}, False),
        ({"type": "userCustomField", "value": "customfield_10050"}, True),
        ({"type": "groupCustomField", "value": "customfield_99999"}, False),
    ],
)
def test_grants_to_holders_the_site_lacks_are_refused(
    api: Api, holder: dict[str, str], allowed: bool
) -> None:
    scheme = api.post(api.jira("/permissionscheme"), {"name": "Holders"}).json["id"]
    grant = {"holder": holder, "permission": "BROWSE_PROJECTS"}
    answer = api.post(api.jira(f"/permissionscheme/{scheme}/permission"), grant)
    assert answer.status == (201 if allowed else 400)
