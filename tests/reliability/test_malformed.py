"""Answers that are not what the API documents — not JSON, cut short, wrong types, missing fields — reach
the user as one clear error naming the endpoint, exit code 1, never a traceback. A front (WSGI middleware)
between the CLI and the sandbox corrupts the chosen answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import Ledger, Mutation, Ran, Served, plan_keys, site_env, write_world
from tests.reliability.world import World, duplicates, make_world


def not_json(_body: bytes) -> bytes:
    return b"<html><body>Service temporarily unavailable</body></html>"


def truncated(body: bytes) -> bytes:
    return body[: len(body) // 2]


def edit(change: Callable[[Any], Any]) -> Mutation:
    def mutate(body: bytes) -> bytes:
        return json.dumps(change(json.loads(body))).encode()

    return mutate


def put(key: str, value: Any) -> Mutation:
    return edit(lambda data: {**data, key: value})


def each(key: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> Mutation:
    return edit(lambda data: {**data, key: [change(item) for item in data[key]]})


def without(field: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda item: {k: v for k, v in item.items() if k != field}


def setting(field: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda item: {**item, field: value}


@dataclass(frozen=True)
class Bad:
    id: str
    method: str
    path: str  # regex on the request path
    mutation: Mutation
    endpoint: str  # what the error must name
    command: str = "plan"
    # Holders and projects the plan reads only when the manifests name them (with_checked_reads).
    checked_reads: bool = False


CSM, OPS, JIRA = "/jsm/csm/.../api/v1", "/jsm/ops/.../v1", "/rest/api/3"
TEAM_ROLES = r"/teams/[^/]+/roles$"
BAD = [
    Bad("tenant-info-not-json", "GET", r"/_edge/tenant_info$", not_json, "/_edge/tenant_info"),
    Bad(
        "tenant-info-cloud-id-number", "GET", r"/_edge/tenant_info$", put("cloudId", 42), "/_edge/tenant_info"
    ),
    Bad("products-not-json", "GET", r"/product$", not_json, f"GET {CSM}/product"),
    Bad("products-cut-short", "GET", r"/product$", truncated, f"GET {CSM}/product"),
    Bad("products-results-a-string", "GET", r"/product$", put("results", "none"), f"GET {CSM}/product"),
    Bad("products-without-name", "GET", r"/product$", each("results", without("name")), f"GET {CSM}/product"),
    Bad(
        "products-name-a-number",
        "GET",
        r"/product$",
        each("results", setting("name", 7)),
        f"GET {CSM}/product",
    ),
    Bad("products-without-id", "GET", r"/product$", each("results", without("id")), f"GET {CSM}/product"),
    Bad("products-cursor-a-list", "GET", r"/product$", put("nextPageCursor", ["x"]), f"GET {CSM}/product"),
    Bad(
        "detail-fields-without-type",
        "GET",
        r"/organization/details$",
        each("results", without("type")),
        f"GET {CSM}/organization/details",
    ),
    Bad(
        "detail-fields-type-a-string",
        "GET",
        r"/customer/details$",
        each("results", setting("type", "TEXT")),
        f"GET {CSM}/customer/details",
    ),
    Bad(
        "custom-roles-values-missing", "GET", r"/v1/roles$", edit(lambda d: {"links": {}}), f"GET {OPS}/roles"
    ),
    Bad(
        "custom-role-rights-a-string",
        "GET",
        r"/v1/roles/[^/]+$",
        put("grantedRights", "alert-action"),
        f"GET {OPS}/roles/",
    ),
    Bad("teams-an-object", "GET", r"/v1/teams$", put("platformTeams", {"a": 1}), f"GET {OPS}/teams"),
    Bad(
        "team-roles-without-rights",
        "GET",
        TEAM_ROLES,
        edit(lambda roles: [without("rights")(r) for r in roles]),
        f"GET {OPS}/teams/",
    ),
    Bad(
        "team-roles-rights-null",
        "GET",
        TEAM_ROLES,
        edit(lambda roles: [setting("rights", None)(r) for r in roles]),
        f"GET {OPS}/teams/",
    ),
    Bad(
        "team-roles-an-object", "GET", TEAM_ROLES, edit(lambda roles: {"values": roles}), f"GET {OPS}/teams/"
    ),
    Bad(
        "schemes-missing",
        "GET",
        r"/permissionscheme$",
        edit(lambda d: {"schemes": d["permissionSchemes"]}),
        f"GET {JIRA}/permissionscheme",
    ),
    Bad(
        "scheme-grants-without-holder",
        "GET",
        r"/permissionscheme$",
        each(
            "permissionSchemes",
            lambda s: {**s, "permissions": [without("holder")(g) for g in s.get("permissions", [])]},
        ),
        f"GET {JIRA}/permissionscheme",
    ),
    Bad(
        "groups-without-id",
        "GET",
        r"/group/bulk$",
        each("values", without("groupId")),
        f"GET {JIRA}/group/bulk",
    ),
    Bad(
        "project-roles-an-object",
        "GET",
        r"/rest/api/3/role$",
        edit(lambda d: {"roles": d}),
        f"GET {JIRA}/role",
    ),
    Bad(
        "permissions-a-list",
        "GET",
        r"/rest/api/3/permissions$",
        edit(list),
        f"GET {JIRA}/permissions",
    ),
    Bad(
        "application-roles-an-object",
        "GET",
        r"/rest/api/3/applicationrole$",
        edit(lambda roles: {"roles": roles}),
        f"GET {JIRA}/applicationrole",
        checked_reads=True,
    ),
    Bad(
        "custom-fields-without-id",
        "GET",
        r"/rest/api/3/field$",
        edit(lambda fields: [without("id")(f) for f in fields]),
        f"GET {JIRA}/field",
        checked_reads=True,
    ),
    Bad(
        "users-values-a-string",
        "GET",
        r"/rest/api/3/user/bulk$",
        put("values", "none"),
        f"GET {JIRA}/user/bulk",
        checked_reads=True,
    ),
    Bad(
        "project-scheme-without-name",
        "GET",
        r"/project/[^/]+/permissionscheme$",
        edit(without("name")),
        f"GET {JIRA}/project/",
        checked_reads=True,
    ),
    # Answers to writes. Where the tool reads the answer, the change fails naming the endpoint and the
    # others finish; where it needs nothing from it (the id of a create), the apply completes. Either
    # way the next apply converges without a duplicate.
    Bad("create-product-not-json", "POST", r"/product$", not_json, f"POST {CSM}/product", "apply"),
    Bad(
        "create-product-without-id", "POST", r"/product$", edit(without("id")), f"POST {CSM}/product", "apply"
    ),
    Bad("create-role-a-list", "POST", r"/v1/roles$", edit(lambda d: [d]), f"POST {OPS}/roles", "apply"),
    Bad(
        "create-scheme-cut-short",
        "POST",
        r"/permissionscheme$",
        truncated,
        f"POST {JIRA}/permissionscheme",
        "apply",
    ),
    Bad(
        "create-team-role-name-a-number",
        "POST",
        TEAM_ROLES,
        edit(setting("name", 5)),
        f"POST {OPS}/teams/",
        "apply",
    ),
]


def with_checked_reads(world: World) -> World:
    """The world, plus a project and grants to holders the site checks (an application role by key, a
    custom field, a user), so that the plan reads /applicationrole, /field, /user/bulk and the project's
    scheme."""
    seed = {
        **world.seed,
        "projects": [{"key": "SD", "name": "Service desk", "permissionScheme": "Service scheme 0"}],
    }
    scheme, *others = world.manifest["permissionSchemes"]
    holders = [
        "applicationRole:jira-servicedesk",
        "userCustomField:customfield_10050",
        "user:5b10ac8d82e05b22cc7d4ef5",
    ]
    checked = {**scheme, "grants": {**scheme["grants"], "RESOLVE_ISSUES": holders}}
    manifest = {
        **world.manifest,
        "permissionSchemes": [checked, *others],
        "projects": [{"key": "SD", "permissionScheme": "Service scheme 0"}],
    }
    return World(seed, manifest)


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_a_malformed_answer_is_a_clear_error_naming_the_endpoint(
    bad: Bad,
    serve: Callable[[dict[str, Any]], Served],
    run_cli: Callable[..., Ran],
    tmp_path: Path,
    ledger: Ledger,
) -> None:
    world = with_checked_reads(make_world(5)) if bad.checked_reads else make_world(5)
    served = serve(world.seed)
    manifests = write_world(world, tmp_path / "m")
    served.front.tamper = [(bad.method, bad.path, bad.mutation)]
    env = site_env(served.front_url)
    if bad.command == "plan":
        ran = run_cli(env, "plan", str(manifests))
    else:
        ran = run_cli(
            env, "apply", "--auto-approve", "--allow-delete", "--journal", str(tmp_path / "j"), str(manifests)
        )
    assert served.front.tampered, "the front corrupted nothing: the case proves nothing"
    ran.assert_clean()
    if bad.command == "plan" or ran.code != 0:
        assert ran.code == 1, ran.output
        assert bad.endpoint in ran.stderr, ran.stderr
    if bad.command == "apply":
        assert ran.code == 0 or "Apply incomplete" in ran.stderr
        # The write may have landed: the next plan and apply sort it out, without duplicates.
        served.front.tamper = []
        again = run_cli(
            env, "apply", "--auto-approve", "--allow-delete", "--journal", str(tmp_path / "j"), str(manifests)
        )
        assert again.code == 0, again.output
        assert plan_keys(run_cli, env, manifests) == []
        assert duplicates(served.site.snapshot()) == []
    ledger.record(
        "malformed",
        order="4",
        fault="malformed answers: not JSON, cut short, wrong types, missing fields "
        f"({len(BAD)} kinds of answer)",
        faults_injected=len(served.front.tampered),
        first_apply_completed=int(ran.code == 0),
        first_apply_failed_cleanly=int(ran.code == 1),
        converged=int(bad.command == "apply"),
        duplicates=0,
    )
