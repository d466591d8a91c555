"""End-to-end harness: a seeded sandbox served over real HTTP, manifests in a temporary folder, and the
same load -> read -> plan -> apply path the CLI takes."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from reconciler.access import access_diff
from reconciler.address import Address, Target
from reconciler.apply import ApplyResult, apply_plan
from reconciler.errors import Severity
from reconciler.exposure import assess, needs_project_map
from reconciler.kind_names import PROJECTS
from reconciler.kinds.kind import CheckedHolders
from reconciler.kinds.project import project_schemes
from reconciler.live import NO_HOLDERS, LiveState, holders_to_check, read_live_state
from reconciler.manifest.load import load_manifests
from reconciler.plan.build import build_plan
from reconciler.plan.model import Plan
from reconciler.plan.targets import select_targets
from reconciler.policies import judge, judges_grants
from reconciler.registry import KINDS
from reconciler.safety import judge_thresholds
from reconciler.sandbox.app import Knobs, SandboxSite
from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from reconciler.sandbox.server import serve_in_thread
from reconciler.site.api import SiteApi
from reconciler.site.config import Credentials
from reconciler.site.http import SiteClient
from reconciler.site.settings import ClientSettings
from reconciler.state import DesiredState

LOOKUPS: dict[str, Any] = {
    "groups": [
        {"name": "jira-servicemanagement-users", "id": "0d3a3d4e-5c52-4f55-9f1e-2f1b3f6f9b1a"},
        {"name": "jira-administrators", "id": "6f0a8a2e-3b1c-4d7e-9a55-1c2d3e4f5a60"},
        {"name": "service-desk-agents", "id": "b7e4c1d2-8f3a-4b6c-9d0e-7a1b2c3d4e5f"},
    ],
    "projectRoles": [
        {"name": "Developers", "id": 10001},
        {"name": "Administrators", "id": 10002},
        {"name": "Service Desk Team", "id": 10100},
    ],
    "appPermissions": [{"key": "com.example.timesheets__LOG_TIME", "type": "PROJECT", "name": "Log time"}],
    "applicationRoles": [{"key": "jira-servicedesk"}, {"key": "jira-software"}],
    "customFields": [
        {"id": "customfield_10050", "name": "Approvers", "type": "multiuserpicker"},
        {"id": "customfield_10051", "name": "Request participant groups", "type": "multigrouppicker"},
    ],
    "users": [{"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Mia Krystof"}],
    "teams": [
        {"name": "Platform SRE", "id": "2f1e4b6a-9c3d-4e5f-8a7b-6c5d4e3f2a10"},
        {"name": "Customer Support", "id": "8c1b7c2e-6a0d-4f4e-9c55-2d4f0b8e1a10"},
    ],
}


def assessed(plan: Plan, desired: DesiredState, live: LiveState, client: SiteApi) -> Plan:
    """What the CLI adds to a built plan: every project's scheme when something needs it, then the exposure
    the policies and the access diff."""
    every = needs_project_map(plan) or judges_grants(desired)
    project_map, unread = project_schemes(client, live.of(PROJECTS.kind), every=every)
    plan = judge(assess(plan, desired, live, project_map), desired, live, project_map)
    diff = access_diff(plan, live, project_map)
    return replace(plan, access=diff, diagnostics=(*plan.diagnostics, *unread))


@dataclass
class Harness:
    site: SandboxSite
    url: str
    manifests: Path

    def write(self, text: str, name: str = "site.yaml") -> Path:
        """Replace the manifest set with one file (or add `name` next to the others)."""
        path = self.manifests / name
        path.write_text("version: 1\n" + textwrap.dedent(text), encoding="utf-8")
        return path

    def clear(self) -> None:
        for path in self.manifests.glob("*.yaml"):
            path.unlink()

    def client(self, **settings: Any) -> SiteClient:
        credentials = Credentials(email=SANDBOX_EMAIL, secret=SANDBOX_API_TOKEN)
        return SiteClient(
            self.url, self.url, credentials, settings=ClientSettings(backoff_s=0.01, **settings)
        )

    def read(
        self, holders: CheckedHolders = NO_HOLDERS, declared: frozenset[Address] | None = None
    ) -> LiveState:
        with self.client() as client:
            return read_live_state(client, KINDS, site="sandbox", holders=holders, declared=declared)

    def plan(self, *, targets: Sequence[str] = (), force: bool = False) -> Plan:
        """As the CLI plans: only the declared projects are read, then thresholds, targets, exposure,
        policies and the access diff."""
        desired, diagnostics = load_manifests([self.manifests], KINDS)
        errors = [d.format() for d in diagnostics if d.severity is Severity.ERROR]
        assert not errors, errors
        live = self.read(holders_to_check(KINDS, desired), frozenset(desired.objects))
        judged = judge_thresholds(build_plan(desired, live, KINDS), live, desired, force)
        plan = select_targets(judged, [Target.parse(t) for t in targets], desired, live)
        with self.client() as client:
            return assessed(plan, desired, live, client)

    def apply(self, plan: Plan | None = None, *, parallelism: int = 4) -> ApplyResult:
        plan = plan if plan is not None else self.plan()
        assert not plan.has_errors, [d.format() for d in plan.diagnostics]
        with self.client(concurrency=parallelism) as client:
            return apply_plan(plan, client, parallelism=parallelism)

    def converge(self, *, parallelism: int = 4) -> ApplyResult:
        """Apply, then check that a new plan has nothing left to do."""
        result = self.apply(parallelism=parallelism)
        assert result.ok, [(c.key, d.message) for c, d in result.failed]
        assert_no_changes(self.plan())
        return result

    def writes(self) -> list[tuple[str, str]]:
        return [(c.method, c.path) for c in self.site.calls if c.method != "GET"]


def assert_no_changes(plan: Plan) -> None:
    assert not plan.has_errors, [d.format() for d in plan.diagnostics]
    assert plan.changes == (), [(c.key, c.action.value, c.diffs) for c in plan.changes]


def summary(plan: Plan) -> list[tuple[str, str]]:
    return [(c.action.value, c.key) for c in plan.changes]


@pytest.fixture
def harness_factory(tmp_path: Path) -> Iterator[Any]:
    servers: list[Any] = []

    def make(seed: dict[str, Any] | None = None, knobs: Knobs | None = None) -> Harness:
        site = SandboxSite(seed={**LOOKUPS, **(seed or {})}, knobs=knobs or Knobs(record_calls=True))
        server = serve_in_thread(site)
        url = server.__enter__()
        servers.append(server)
        manifests = tmp_path / f"manifests{len(servers)}"
        manifests.mkdir()
        return Harness(site, url, manifests)

    yield make
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def harness(harness_factory: Any) -> Harness:
    return harness_factory()  # type: ignore[no-any-return]
