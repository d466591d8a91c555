"""Fixtures for the sandbox tests: the demo site, a served site, an HTTP helper and a contract checker.

Every answer that goes through `Api` is checked against the official OpenAPI documents (copied into
./specs from ../shared/specs, see specs/SOURCES.md), so the rule and knob tests are contract tests too.
The places where a document is wrong or silent are listed in UNDECLARED and in `Contract` below.
"""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import ImmutableMultiDict

from reconciler.sandbox.app import SandboxSite
from reconciler.sandbox.common import (
    SANDBOX_API_TOKEN,
    SANDBOX_EMAIL,
    SANDBOX_OAUTH_TOKEN,
    SANDBOX_SCOPED_TOKEN,
)
from reconciler.sandbox.seed import load_seed_file
from reconciler.sandbox.server import serve_in_thread

SPECS = Path(__file__).parent / "specs"
DEMO_SEED = Path(__file__).parents[2] / "examples" / "sandbox-seed.yaml"
BASIC = "Basic " + base64.b64encode(f"{SANDBOX_EMAIL}:{SANDBOX_API_TOKEN}".encode()).decode()
BEARER = f"Bearer {SANDBOX_OAUTH_TOKEN}"
SCOPED = "Basic " + base64.b64encode(f"{SANDBOX_EMAIL}:{SANDBOX_SCOPED_TOKEN}".encode()).decode()
OPT_IN = {"X-ExperimentalApi": "opt-in"}

# family -> (document, the host its server URL lives on). Sandbox paths are the document's server path
# plus its path: Jira `/rest/api/3/...` on the site; CSM `/jsm/csm/cloudid/{cloudId}` + `/api/v1/...`;
# Ops `/jsm/ops/` + `/api/{cloudId}/v1/...`, so only the scheme and host change.
DOCUMENTS = {
    "jira": ("jira-platform-permission-schemes.openapi.json", "https://your-domain.atlassian.net"),
    "csm": ("jsm-csm.openapi.json", "https://api.atlassian.com"),
    "ops": ("jsm-ops-roles.openapi.json", "https://api.atlassian.com"),
}
# The error body each family documents; used where a document declares a status without a body schema.
ERROR_SCHEMAS = {"jira": "ErrorCollection", "csm": "RestError", "ops": "ErrorResponses"}

# Answers the sandbox gives that the operation does not declare: (family, operationId or "*", status).
# Each is a deliberate choice; the body still has to match the family's documented error schema.
UNDECLARED: dict[tuple[str, str, int], str] = {
    **{
        (
            family,
            "*",
            429,
        ): "any endpoint can be rate limited (Atlassian rate-limiting doc); none declares 429"
        for family in DOCUMENTS
    },
    **{
        (family, "*", status): "fault knob: transient server errors are never declared"
        for family in DOCUMENTS
        for status in (500, 502, 503, 504)
    },
    (
        "ops",
        "*",
        401,
    ): "no role/team operation declares 401; other Ops operations use UnauthorizedErrorResponse",
    ("ops", "updateCustomUserRole", 400): "PUT declares no 400, yet must refuse unknown rights like POST",
    ("ops", "createTeamRole", 400): "team-role create declares no 400 for a bad body or unknown right",
    ("ops", "updateTeamRole", 400): "team-role PATCH declares no 400 for a bad body or unknown right",
    ("ops", "createCustomRole", 409): "duplicate names are undocumented; 409 as Ops does for other names",
    ("ops", "updateCustomUserRole", 409): "duplicate names are undocumented; 409 as Ops does for other names",
    ("ops", "createTeamRole", 409): "duplicate names are undocumented; 409 as Ops does for other names",
    ("ops", "updateTeamRole", 409): "duplicate names are undocumented; 409 as Ops does for other names",
    ("ops", "deleteTeamRole", 404): "team-role DELETE declares only 204/403; an unknown role is a 404",
    ("ops", "deleteTeamRole", 400): "knob delete_missing_status: an unknown role as a real site may answer",
    **{
        ("ops", operation, 412): "the page marks it experimental; 412 without the opt-in header, as CSM says"
        for operation in (
            "getRoles",
            "createCustomRole",
            "getCustomUserRole",
            "updateCustomUserRole",
            "deleteCustomUserRole",
            "assignCustomRole",
        )
    },
    ("jira", "updatePermissionScheme", 400): "PUT declares no 400 for invalid names or grants",
    ("jira", "createPermissionGrant", 404): "POST grant declares no 404 for an unknown scheme (GET does)",
    **{
        ("csm", f"delete-{kind}-detail", 404): "field DELETE declares no 404 (PUT does)"
        for kind in ("organization", "customer", "entitlement")
    },
    ("csm", "delete-product", 404): "product DELETE declares no 404 (GET/PUT do)",
    ("csm", "delete-entitlement", 404): "entitlement DELETE declares no 404 (GET does)",
    ("csm", "update-field-value-for-organizations", 400): "set-value declares no 400 for bad values",
    ("csm", "update-field-value-for-customer", 400): "set-value declares no 400 for bad values",
    ("csm", "update-field-value-for-entitlement", 400): "set-value declares no 400 for bad values",
}


def family_of(path: str) -> str:
    if path.startswith("/jsm/csm/"):
        return "csm"
    if path.startswith("/jsm/ops/"):
        return "ops"
    return "jira"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


@dataclass
class _Request:
    """openapi-core's Request protocol, for a sandbox request moved onto the document's host."""

    host_url: str
    path: str
    method: str
    body: bytes | None = None
    content_type: str = "application/json"
    parameters: RequestParameters = field(
        default_factory=lambda: RequestParameters(query=ImmutableMultiDict())
    )

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


@dataclass
class _Response:
    status_code: int
    data: bytes
    content_type: str
    headers: dict[str, str]


class ContractViolation(AssertionError):
    pass


class Contract:
    """Checks answers against the official documents and remembers which (operation, status) it saw."""

    def __init__(self) -> None:
        self.raw: dict[str, dict[str, Any]] = {}
        self.apis: dict[str, OpenAPI] = {}
        self.finders: dict[str, APICallPathFinder] = {}
        for family, (name, _) in DOCUMENTS.items():
            raw = json.loads((SPECS / name).read_text(encoding="utf-8"))
            self.raw[family] = raw
            self.apis[family] = OpenAPI.from_dict(raw)
            self.finders[family] = APICallPathFinder(self.apis[family].spec)
        self.seen: set[tuple[str, str, int]] = set()

    def _resolve(self, family: str, node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                target: Any = self.raw[family]
                for part in ref.removeprefix("#/").split("/"):
                    target = target[part]
                return self._resolve(family, target)
            return {key: self._resolve(family, value) for key, value in node.items()}
        if isinstance(node, list):
            return [self._resolve(family, item) for item in node]
        return node

    def schema(self, family: str, name: str) -> Any:
        return self._resolve(family, self.raw[family]["components"]["schemas"][name])

    def _check_error_body(self, family: str, answer: Answer, where: str) -> None:
        name = (
            "UnauthorizedErrorResponse" if family == "ops" and answer.status == 401 else ERROR_SCHEMAS[family]
        )
        errors = list(OAS30Validator(self.schema(family, name)).iter_errors(answer.json))
        if errors:
            raise ContractViolation(f"{where}: {answer.status} body is not a {name}: {errors[0].message}")

    def check(
        self, method: str, target: str, answer: Answer, *, cloud_id: str, faults: bool = False
    ) -> str | None:
        """Validate one answer; returns the operationId (None for tenant_info and unknown routes).

        A path with another site's cloud id addresses no operation of this site, like an unknown path.
        """
        path = urlsplit(target).path
        where = f"{method} {path}"
        if path.startswith("/ex/jira/"):
            # Jira through the gateway: the document's path after /ex/jira/{cloudId}.
            _, _, _, gateway_cloud, rest = path.split("/", 4)
            if gateway_cloud != cloud_id:
                assert answer.status == 404, f"{where}: another site's cloud id, yet {answer.status}"
                self._check_error_body("jira", answer, where)
                return None
            path = "/" + rest
        if answer.status >= 500 and not faults:
            raise ContractViolation(f"{where}: server error {answer.status}: {answer.raw[:300]!r}")
        if answer.status != 204 and answer.headers.get("Content-Type") != "application/json":
            raise ContractViolation(f"{where}: Content-Type {answer.headers.get('Content-Type')}")
        if answer.status == 204 and answer.raw:
            raise ContractViolation(f"{where}: 204 with a body")
        if path == "/oauth/token":
            return None  # the OAuth token endpoint (auth.atlassian.com) is in none of these documents
        if path == "/_edge/tenant_info":
            # No document covers tenant_info; the documented answer is {"cloudId": "..."}.
            assert answer.status != 200 or set(answer.json) == {"cloudId"}
            return None
        family = family_of(path)
        host = DOCUMENTS[family][1]
        try:
            found = self.finders[family].find(method.lower(), host + path)
            variables = {**found.server_result.variables, **found.path_result.variables}
            if variables.get("cloudId", cloud_id) != cloud_id:
                raise PathError
        except PathError:
            if answer.status not in (404, 405):
                raise ContractViolation(f"{where}: no such operation, yet answered {answer.status}") from None
            self._check_error_body(family, answer, where)
            return None
        operation_id: str = found.operation["operationId"]
        request = _Request(host, path, method.lower())
        response = _Response(answer.status, answer.raw, "application/json", answer.headers)
        problems = list(self.apis[family].iter_response_errors(request, response))
        if any(isinstance(problem, ResponseNotFound) for problem in problems):
            allowed = (family, operation_id, answer.status) in UNDECLARED or (
                family,
                "*",
                answer.status,
            ) in UNDECLARED
            if not allowed:
                raise ContractViolation(f"{where} ({operation_id}): undeclared status {answer.status}")
            self._check_error_body(family, answer, where)
        elif problems:
            raise ContractViolation(f"{where} ({operation_id}) {answer.status}: {problems[0]}")
        elif answer.status >= 400 and answer.raw:
            # Jira declares its 4xx answers without a body schema; hold them to its ErrorCollection.
            self._check_error_body(family, answer, where)
        self.seen.add((family, operation_id, answer.status))
        return operation_id


class Api:
    """A small HTTP client for the served sandbox that checks every answer against the documents."""

    def __init__(self, base_url: str, site: SandboxSite, contract: Contract) -> None:
        self.base_url = base_url
        self.host = urlsplit(base_url).netloc
        self.site = site
        self.contract = contract
        self.cloud = site.cloud_id

    @staticmethod
    def jira(path: str) -> str:
        return f"/rest/api/3{path}"

    def jira_gateway(self, path: str) -> str:
        return f"/ex/jira/{self.cloud}/rest/api/3{path}"

    def csm(self, path: str) -> str:
        return f"/jsm/csm/cloudid/{self.cloud}/api/v1{path}"

    def ops(self, path: str) -> str:
        return f"/jsm/ops/api/{self.cloud}/v1{path}"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        auth: str | None = BASIC,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> Answer:
        """`headers` replaces the opt-in header every request sends by default, as the client does."""
        headers = {"Accept": "application/json", **(OPT_IN if headers is None else headers)}
        if auth is not None:
            headers["Authorization"] = auth
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection(self.host, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            answer = Answer(response.status, dict(response.headers.items()), response.read())
        finally:
            conn.close()
        self.contract.check(
            method, path, answer, cloud_id=self.cloud, faults=bool(self.site.knobs.error_every)
        )
        return answer

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return self.call("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return self.call("PUT", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return self.call("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Answer:
        return self.call("DELETE", path, **kwargs)


def q(segment: str) -> str:
    """A path segment, percent-encoded (field names have spaces)."""
    return quote(segment, safe="")


@pytest.fixture(scope="session")
def demo_seed() -> dict[str, Any]:
    return load_seed_file(DEMO_SEED)


@pytest.fixture(scope="session")
def contract() -> Contract:
    return Contract()


@pytest.fixture
def site(demo_seed: dict[str, Any]) -> SandboxSite:
    return SandboxSite(seed=demo_seed)


@pytest.fixture
def api(site: SandboxSite, contract: Contract) -> Iterator[Api]:
    with serve_in_thread(site) as base_url:
        yield Api(base_url, site, contract)
