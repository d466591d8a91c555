"""The sandbox site in-process: the real SiteClient, with a transport that calls the sandbox's WSGI app
directly instead of a socket. Planning, ordering and applying get fast tests that need no server; the e2e
tests over real HTTP keep what crosses the wire (keep-alive, timeouts, dropped connections, retries)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3 import HTTPHeaderDict
from werkzeug.test import EnvironBuilder, run_wsgi_app

from reconciler.address import Target
from reconciler.apply import ApplyResult, apply_plan
from reconciler.errors import Severity
from reconciler.kinds.kind import CheckedHolders
from reconciler.live import NO_HOLDERS, LiveState, holders_to_check, read_live_state
from reconciler.manifest.load import load_manifests
from reconciler.plan.build import build_plan
from reconciler.plan.model import Plan
from reconciler.plan.targets import select_targets
from reconciler.registry import KINDS
from reconciler.safety import judge_thresholds
from reconciler.sandbox.app import Knobs, SandboxSite
from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from reconciler.site.config import Credentials
from reconciler.site.http import SiteClient
from reconciler.site.settings import ClientSettings
from reconciler.state import DesiredState
from tests.e2e.conftest import LOOKUPS

BASE_URL = "http://127.0.0.1:1"  # never connected to: the transport hands every request to the app


class WsgiTransport:
    """A transport (site/http.py) that answers every request from a WSGI application in the calling thread."""

    def __init__(self, app: SandboxSite) -> None:
        self.app = app

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: urllib3.Timeout,
        redirect: bool,
    ) -> urllib3.BaseHTTPResponse:
        parts = urlsplit(url)
        environ = EnvironBuilder(
            method=method,
            base_url=f"{parts.scheme}://{parts.netloc}",
            path=parts.path,
            query_string=parts.query,
            headers=list(headers.items()),
            data=body or b"",
        ).get_environ()
        chunks, status, answer_headers = run_wsgi_app(self.app, environ, buffered=True)
        code, _, reason = status.partition(" ")
        return urllib3.HTTPResponse(
            body=b"".join(chunks),
            headers=HTTPHeaderDict(list(answer_headers.items())),
            status=int(code),
            reason=reason,
            preload_content=True,
        )

    def clear(self) -> None:
        pass


def in_process_client(site: SandboxSite, **settings: Any) -> SiteClient:
    """A SiteClient whose every request is answered by `site` in-process."""
    credentials = Credentials(email=SANDBOX_EMAIL, secret=SANDBOX_API_TOKEN)
    return SiteClient(
        BASE_URL,
        BASE_URL,
        credentials,
        settings=ClientSettings(backoff_s=0.0, **settings),
        transport=WsgiTransport(site),
    )


class InProcessSite:
    """A seeded sandbox site and a manifest folder: load -> read -> plan -> apply, all in this process."""

    def __init__(self, manifests: Path, seed: Mapping[str, Any] | None = None) -> None:
        self.site = SandboxSite(seed={**LOOKUPS, **(seed or {})}, knobs=Knobs(record_calls=True))
        self.manifests = manifests

    def write(self, text: str, name: str = "site.yaml") -> None:
        (self.manifests / name).write_text("version: 1\n" + textwrap.dedent(text), encoding="utf-8")

    def read(self, holders: CheckedHolders = NO_HOLDERS) -> LiveState:
        with in_process_client(self.site) as client:
            return read_live_state(client, KINDS, site="sandbox", holders=holders)

    def desired(self) -> DesiredState:
        desired, diagnostics = load_manifests([self.manifests], KINDS)
        assert not [d for d in diagnostics if d.severity is Severity.ERROR], [d.format() for d in diagnostics]
        return desired

    def plan(self, *, targets: Sequence[str] = (), force: bool = False) -> Plan:
        parsed = [Target.parse(target) for target in targets]
        desired = self.desired()  # as the CLI plans: with what the manifests' grants name read too
        live = self.read(holders_to_check(KINDS, desired))
        judged = judge_thresholds(build_plan(desired, live, KINDS), live, desired, force)
        return select_targets(judged, parsed, desired, live)

    def apply(self, plan: Plan, *, parallelism: int = 4) -> ApplyResult:
        with in_process_client(self.site, concurrency=parallelism) as client:
            return apply_plan(plan, client, parallelism=parallelism)

    def converge(self) -> ApplyResult:
        """Apply the current plan, then check that a new plan has nothing left to do."""
        result = self.apply(self.plan())
        assert result.ok, [(c.key, d.message) for c, d in result.failed]
        again = self.plan()
        assert not again.has_errors and again.changes == (), [c.key for c in again.changes]
        return result

    def writes(self) -> list[tuple[str, str]]:
        return [(c.method, c.path) for c in self.site.calls if c.method != "GET"]
