"""read_live_state against a seeded sandbox over HTTP: every kind, the lookups, stable fingerprints, small
pages and faults; and malformed answers stop the read with an error that names the endpoint."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.wrappers import Response

from reconciler.errors import TerminalSiteError
from reconciler.kinds.kind import CheckedHolders
from reconciler.live import USER_BATCH, LiveState, read_live_state
from reconciler.registry import KINDS
from reconciler.sandbox.app import Knobs, SandboxSite
from reconciler.site.api import Api
from reconciler.site.http import SiteClient
from tests.site.conftest import (
    BASIC,
    CLOUD_ID,
    FAST,
    N_GROUPS,
    N_PRODUCTS,
    N_ROLES,
    Served,
    many_seed,
    serve_wsgi,
)

KIND_NAMES = {kind.name for kind in KINDS}


def _summary(state: LiveState) -> dict[str, dict[str, tuple[str, str]]]:
    """kind -> address -> (server id, fingerprint)."""
    return {
        kind: {str(o.address): (o.server_id, o.fingerprint) for o in objects}
        for kind, objects in state.objects.items()
    }


def test_reads_every_kind_and_the_lookups(served: Served) -> None:
    client = served.client(cloud_id=None)
    progress: list[str] = []
    holders = CheckedHolders(permission_keys=True)  # as when a manifest declares a grant
    state = read_live_state(client, KINDS, site="sandbox", progress=progress.append, holders=holders)
    assert state.site == "sandbox"
    assert set(state.objects) == KIND_NAMES
    assert {str(o.address) for o in state.of("products")} >= {
        "products/Gadget",
        "products/Acme Widget",
        "products/Legacy Widget",
    }
    roles = {o.identity.name: o for o in state.of("customRoles")}
    assert set(roles) == {"FinanceRole", "Old role"}
    assert roles["FinanceRole"].essence["grantedRights"] == ["alert-action"]
    assert roles["FinanceRole"].context["extendedRole"] == "user"
    team_roles = state.of("teamRoles")
    assert any(o.identity.name == "on-call" for o in team_roles)
    fields = {(o.address.scope, o.identity.name) for o in state.of("detailFields")}
    assert ("organization", "region") in {(scope, name.casefold()) for scope, name in fields}
    schemes = {o.identity.name: o for o in state.of("permissionSchemes")}
    assert "EDIT_ISSUES: group:jira-administrators" in schemes["CS scheme"].essence["grants"]

    lookups = state.lookups
    assert set(lookups.teams.values()) == {"Platform SRE", "Customer Support"}
    assert "jira-administrators" in lookups.groups.values()
    assert lookups.project_roles["10002"] == "Administrators"
    assert "com.example.timesheets__LOG_TIME" in lookups.permission_keys
    assert "ADMINISTER" not in lookups.permission_keys  # a global permission cannot be granted in a scheme
    # Groups and project roles are read on demand, for the live grants' holders: no step of their own.
    assert {"teams", "permissions"} | KIND_NAMES == {message.removeprefix("read ") for message in progress}
    assert len(served.calls("GET", "/_edge/tenant_info")) == 1


def test_two_reads_give_the_same_objects_and_fingerprints(served: Served) -> None:
    client = served.client()
    first = read_live_state(client, KINDS, site="sandbox")
    second = read_live_state(client, KINDS, site="sandbox")
    assert _summary(first) == _summary(second)
    assert first.lookups == second.lookups
    assert all(o.fingerprint for objects in first.objects.values() for o in objects)


def test_a_change_on_the_site_changes_only_that_fingerprint(served: Served) -> None:
    client = served.client()
    before = _summary(read_live_state(client, KINDS, site="sandbox"))
    role_id = before["customRoles"]["customRoles/FinanceRole"][0]
    body = {"name": "FinanceRole", "grantedRights": ["alert-action", "alert-create"], "disallowedRights": []}
    client.request(Api.OPS, "PUT", f"/roles/{role_id}", params={"identifierType": "id"}, json_body=body)
    after = _summary(read_live_state(client, KINDS, site="sandbox"))
    changed = {
        (kind, address)
        for kind in before
        for address in before[kind].keys() | after[kind].keys()
        if before[kind].get(address) != after[kind].get(address)
    }
    assert changed == {("customRoles", "customRoles/FinanceRole")}


def test_small_pages_and_faults_read_everything_once(serve_site: Callable[..., Served]) -> None:
    calm = serve_site(seed=many_seed())
    expected = _summary(read_live_state(calm.client(), KINDS, site="sandbox"))
    stormy = serve_site(
        seed=many_seed(), max_page_size=3, error_every=7, rate_limit_every=11, retry_after_s=0
    )
    state = read_live_state(stormy.client(concurrency=3, max_retries=5), KINDS, site="sandbox")
    assert _summary(state) == expected
    assert len(state.of("products")) == N_PRODUCTS
    assert len(state.of("customRoles")) == N_ROLES
    assert len(state.lookups.groups) == N_GROUPS
    assert {c.status for c in stormy.site.calls} >= {200, 429, 503}


def test_only_the_lookups_the_kinds_need_are_read(served: Served) -> None:
    products = [kind for kind in KINDS if kind.name == "products"]
    state = read_live_state(served.client(), products, site="sandbox")
    assert set(state.objects) == {"products"}
    assert served.calls(contains="/group/bulk") == [] and served.calls(contains="/teams") == []


# --- malformed answers -----------------------------------------------------------------------------


CSM = f"/jsm/csm/cloudid/{CLOUD_ID}/api/v1"
OPS = f"/jsm/ops/api/{CLOUD_ID}/v1"


@pytest.fixture
def corrupted(demo_seed: dict[str, Any]) -> Iterator[Callable[[Callable[[str], Any | None]], SiteClient]]:
    """A sandbox site behind a filter that replaces the answer for some paths with a malformed one."""
    clients: list[SiteClient] = []
    servers: list[Any] = []

    def make(corrupt: Callable[[str], Any | None]) -> SiteClient:
        site = SandboxSite(seed=demo_seed, knobs=Knobs())

        def app(environ: Any, start_response: Any) -> Any:
            bad = corrupt(environ["PATH_INFO"]) if environ["REQUEST_METHOD"] == "GET" else None
            if bad is None:
                return site(environ, start_response)
            return Response(json.dumps(bad), 200, mimetype="application/json")(environ, start_response)

        server = serve_wsgi(app)
        url = server.__enter__()
        servers.append(server)
        client = SiteClient(url, url, BASIC, settings=FAST)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
    for server in servers:
        server.__exit__(None, None, None)


@pytest.mark.parametrize(
    ("path", "bad", "endpoint"),
    [
        (f"{OPS}/teams", [], "GET /jsm/ops/.../v1/teams"),
        (f"{OPS}/teams", {"platformTeams": [{"teamName": "x"}]}, "GET /jsm/ops/.../v1/teams"),
        ("/rest/api/3/role", [{"name": "no id"}], "GET /rest/api/3/role"),
        ("/rest/api/3/role", {"roles": []}, "GET /rest/api/3/role"),
        ("/rest/api/3/permissions", {"permissions": []}, "GET /rest/api/3/permissions"),
        ("/rest/api/3/group/bulk", {"values": [{"name": "x"}], "isLast": True}, "GET /rest/api/3/group/bulk"),
        (f"{CSM}/product", {"results": [{"id": "1"}]}, "GET /jsm/csm/.../api/v1/product"),
        (
            "/rest/api/3/permissionscheme",
            {"permissionSchemes": [{"id": 1}]},
            "GET /rest/api/3/permissionscheme",
        ),
        ("/rest/api/3/permissionscheme", {"schemes": []}, "GET /rest/api/3/permissionscheme"),
        (f"{OPS}/roles/", {"id": "x"}, "GET /jsm/ops/.../v1/roles"),
        # Each entity's detail fields are read in the worker task that fetched them, so the endpoint shows.
        (
            f"{CSM}/organization/details",
            {"results": [{"name": 3}]},
            "GET /jsm/csm/.../api/v1/organization/details",
        ),
    ],
)
def test_a_malformed_answer_is_an_error_naming_the_endpoint(
    corrupted: Callable[[Callable[[str], Any | None]], SiteClient], path: str, bad: Any, endpoint: str
) -> None:
    client = corrupted(lambda requested: bad if requested.startswith(path) else None)
    with pytest.raises(TerminalSiteError) as caught:
        read_live_state(client, KINDS, site="sandbox")
    message = str(caught.value)
    assert message.startswith(endpoint), message
    assert caught.value.endpoint.startswith(endpoint)
    assert "does not have the documented shape" in message


def test_holder_lookups_are_read_only_when_asked_and_users_in_batches(
    serve_site: Callable[..., Served],
) -> None:
    users = [{"accountId": f"user-{i:03}"} for i in range(200)]
    seed = {"users": users, "applicationRoles": [{"key": "jira-software"}]}
    seed["customFields"] = [{"id": "customfield_10050", "name": "Approvers"}]
    served = serve_site(seed)
    client = served.client()
    read_live_state(client, KINDS, site="sandbox")
    assert not {c.path.removeprefix("/rest/api/3") for c in served.site.calls} & {
        "/applicationrole",
        "/field",
        "/user/bulk",
    }
    served.site.calls.clear()
    asked = frozenset(f"user-{i:03}" for i in range(0, 400, 2))  # 200 ids, half of them on the site
    holders = CheckedHolders(application_roles=True, custom_fields=True, account_ids=asked)
    state = read_live_state(client, KINDS, site="sandbox", holders=holders)
    assert state.lookups.users == {f"user-{i:03}" for i in range(0, 200, 2)}
    assert state.lookups.application_roles == {"jira-software"}
    assert state.lookups.custom_fields == {"customfield_10050": "Approvers"}
    batches = served.calls("GET", "/user/bulk")
    assert len(batches) == 4 == -(-len(asked) // USER_BATCH)
    assert [batch.query.count("accountId=") for batch in batches] == [50] * 4
    assert len(served.calls("GET", "/applicationrole")) == len(served.calls("GET", "/field")) == 1


# --- what is read: only the lookups a grant needs (MANIFEST.md, "Kinds the manifests name") ----------

SCHEMES_ONLY = [kind for kind in KINDS if kind.name == "permissionSchemes"]


def _lookup_calls(served: Served) -> set[str]:
    ends = ("/group/bulk", "/role", "/permissions", "/applicationrole", "/field", "/user/bulk", "/v1/teams")
    return {end for end in ends for call in served.calls("GET") if call.path.endswith(end)}


def test_groups_project_roles_and_keys_are_read_only_when_a_grant_needs_them(
    serve_site: Callable[..., Served],
) -> None:
    seed = {
        "groups": [{"name": "jira-administrators"}],
        "projectRoles": [{"name": "Administrators", "id": 10002}],
        "permissionSchemes": [
            {"name": "Plain", "grants": [{"permission": "BROWSE_PROJECTS", "type": "reporter"}]}
        ],
    }
    served = serve_site(seed=seed)
    state = read_live_state(served.client(), SCHEMES_ONLY, site="sandbox")
    assert state.of("permissionSchemes")[0].essence["grants"] == ["BROWSE_PROJECTS: reporter"]
    assert _lookup_calls(served) == set()  # nothing live or declared names a group or a role
    assert state.lookups.groups == {} and state.lookups.project_roles == {}


def test_a_live_grant_to_a_group_reads_the_groups_to_name_it(serve_site: Callable[..., Served]) -> None:
    seed = {
        "groups": [{"name": "jira-administrators"}],
        "projectRoles": [{"name": "Administrators", "id": 10002}],
        "permissionSchemes": [
            {
                "name": "Named",
                "grants": [{"permission": "EDIT_ISSUES", "type": "group", "holder": "jira-administrators"}],
            }
        ],
    }
    served = serve_site(seed=seed)
    state = read_live_state(served.client(), SCHEMES_ONLY, site="sandbox")
    assert state.of("permissionSchemes")[0].essence["grants"] == ["EDIT_ISSUES: group:jira-administrators"]
    assert _lookup_calls(served) == {"/group/bulk"}
    assert list(state.lookups.groups.values()) == ["jira-administrators"]  # what the plan sees, read already
    # The manifests' grants ask for what they name, live grants or not.
    served.site.calls.clear()
    holders = CheckedHolders(project_roles=True, permission_keys=True)
    read_live_state(served.client(), SCHEMES_ONLY, site="sandbox", holders=holders)
    assert _lookup_calls(served) == {"/group/bulk", "/role", "/permissions"}


def test_a_user_batch_of_the_longest_account_ids_fits_a_request_line(
    serve_site: Callable[..., Served],
) -> None:
    """The documents give account ids up to 128 characters and no count per request: a batch is bounded so
    that its request line stays under the 8 KB servers and proxies commonly accept."""
    longest = [f"{n:03}-" + "a" * 124 for n in range(120)]
    served = serve_site({"users": [{"accountId": account} for account in longest]})
    holders = CheckedHolders(account_ids=frozenset(longest))
    state = read_live_state(served.client(), [], site="sandbox", holders=holders)
    assert state.lookups.users == set(longest)
    lines = [f"GET /rest/api/3/user/bulk?{call.query} HTTP/1.1" for call in served.calls("GET", "/user/bulk")]
    assert len(lines) == 3 and max(len(line) for line in lines) < 8 * 1024
