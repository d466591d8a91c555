"""A service account's OAuth 2.0 client credentials (CLI.md, "Site and credentials"): exchanged at
JSM_AUTH_BASE/oauth/token, sent as Bearer, fetched again before the 60 minutes run out (on a fake clock),
never shown; and tenant_info asked without any credential."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import pytest
import urllib3

from reconciler.errors import TerminalSiteError
from reconciler.sandbox import app as sandbox_app
from reconciler.sandbox import auth as sandbox_auth
from reconciler.sandbox.app import SandboxSite
from reconciler.sandbox.auth import SANDBOX_OAUTH_CLIENT_ID, SANDBOX_OAUTH_CLIENT_SECRET
from reconciler.sandbox.common import SANDBOX_EMAIL, SANDBOX_OAUTH_TOKEN, SANDBOX_SCOPED_TOKEN
from reconciler.sandbox.seed import load_seed_file
from reconciler.site.api import Api
from reconciler.site.config import Credentials
from reconciler.site.http import SiteClient
from reconciler.site.oauth import RENEW_BEFORE_S, AccessTokens, ClientCredentials
from reconciler.site.settings import ClientSettings
from tests.inprocess import BASE_URL, WsgiTransport
from tests.site.conftest import DEMO_SEED

CLIENT = Credentials(
    secret=SANDBOX_OAUTH_CLIENT_SECRET, bearer=True, client_id=SANDBOX_OAUTH_CLIENT_ID, auth_base=BASE_URL
)


class Recording(WsgiTransport):
    """The in-process transport, keeping each request's method, URL and headers."""

    def __init__(self, app: SandboxSite) -> None:
        super().__init__(app)
        self.sent: list[tuple[str, str, dict[str, str]]] = []

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
        self.sent.append((method, url, dict(headers)))
        return super().request(method, url, body=body, headers=headers, timeout=timeout, redirect=redirect)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def site() -> SandboxSite:
    return SandboxSite(seed=load_seed_file(DEMO_SEED))


def client(
    site: SandboxSite, credentials: Credentials, clock: Clock | None = None
) -> tuple[SiteClient, Recording]:
    transport = Recording(site)
    settings = ClientSettings(backoff_s=0.0, clock=clock or Clock())
    return SiteClient(BASE_URL, BASE_URL, credentials, settings=settings, transport=transport), transport


def token_requests(transport: Recording) -> list[str]:
    return [url for method, url, _ in transport.sent if method == "POST" and url.endswith("/oauth/token")]


def test_client_credentials_become_a_bearer_token_through_the_gateway(site: SandboxSite) -> None:
    api, transport = client(site, CLIENT)
    with api:
        assert api.get(Api.JIRA, "/myself")["emailAddress"] == SANDBOX_EMAIL
        api.get(Api.CSM, "/product", {"limit": 1})
    assert token_requests(transport) == [f"{BASE_URL}/oauth/token"]
    token_post, *calls = [c for c in transport.sent if "tenant_info" not in c[1]]
    assert "Authorization" not in token_post[2]  # the credentials travel in the body, nothing else
    for _, _url, headers in calls:
        assert headers["Authorization"].startswith("Bearer sandbox-access-token.")
    assert calls[0][1].startswith(f"{BASE_URL}/ex/jira/")  # Jira through the gateway, as for any Bearer


def test_the_token_is_fetched_again_before_its_60_minutes_run_out(site: SandboxSite) -> None:
    clock = Clock()
    api, transport = client(site, CLIENT, clock)
    with api:
        api.get(Api.JIRA, "/myself")
        clock.now += 3600 - RENEW_BEFORE_S - 1
        api.get(Api.JIRA, "/myself")
        assert len(token_requests(transport)) == 1  # still young enough
        clock.now += 1
        api.get(Api.JIRA, "/myself")
        assert len(token_requests(transport)) == 2
        clock.now += 600
        api.get(Api.JIRA, "/myself")
    assert len(token_requests(transport)) == 2
    bearers = [h["Authorization"] for m, u, h in transport.sent if u.endswith("/myself")]
    assert bearers[0] == bearers[1] != bearers[2] == bearers[3]


def test_a_refused_client_secret_says_what_to_check_and_shows_no_secret(site: SandboxSite) -> None:
    wrong = Credentials(
        secret="wrong-client-secret-123", bearer=True, client_id=SANDBOX_OAUTH_CLIENT_ID, auth_base=BASE_URL
    )
    api, _ = client(site, wrong)
    with api, pytest.raises(TerminalSiteError) as caught:
        api.get(Api.JIRA, "/myself")
    message = str(caught.value)
    assert message.startswith("POST /oauth/token: 401")
    assert "access_denied: Unauthorized" in message  # the endpoint's own words
    assert "JSM_OAUTH_CLIENT_SECRET" in message and "JSM_AUTH_BASE" in message
    assert "wrong-client-secret-123" not in message


def test_an_access_token_echoed_in_an_error_is_blanked() -> None:
    """An answer that quotes the token back (a proxy's error page, say) shows it blanked."""
    tokens: list[str] = []

    def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/oauth/token":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"access_token": "an-issued-access-token-42", "expires_in": 3600}']
        tokens.append(environ.get("HTTP_AUTHORIZATION", ""))
        start_response("400 Bad Request", [("Content-Type", "application/json")])
        said = {"errorMessages": [f"bad header: {environ.get('HTTP_AUTHORIZATION')}"]}
        return [json.dumps(said).encode()]

    api = SiteClient(
        BASE_URL,
        BASE_URL,
        CLIENT,
        cloud_id="5c1e0f4a-7b2d-4c8e-9f10-a1b2c3d4e5f6",
        settings=ClientSettings(backoff_s=0.0),
        transport=WsgiTransport(echo),  # type: ignore[arg-type]
    )
    with api, pytest.raises(TerminalSiteError) as caught:
        api.get(Api.JIRA, "/myself")
    assert tokens == ["Bearer an-issued-access-token-42"]
    assert "an-issued-access-token-42" not in str(caught.value) and "[redacted]" in str(caught.value)


@pytest.mark.parametrize(
    "answer", [{}, {"access_token": 5}, {"access_token": "short"}, {"access_token": "with space in it 123"}]
)
def test_an_answer_without_a_usable_token_is_an_error(answer: dict[str, Any]) -> None:
    tokens = AccessTokens(
        ClientCredentials("id", "a-client-secret-123"), lambda _body: answer, clock=Clock(), issued=print
    )
    with pytest.raises(TerminalSiteError, match="no usable access_token; check JSM_AUTH_BASE"):
        tokens.current()


def test_the_lifetime_comes_from_expires_in_when_given() -> None:
    clock, issued = Clock(), list[str]()
    answers = iter([{"access_token": f"token-number-{n}-abcdef", "expires_in": 900} for n in range(3)])
    tokens = AccessTokens(
        ClientCredentials("id", "a-client-secret-123"),
        lambda body: next(answers),
        clock=clock,
        issued=issued.append,
    )
    first = tokens.current()
    clock.now += 600  # 900 - 300: time to fetch again
    assert tokens.current() != first
    assert issued == ["token-number-0-abcdef", "token-number-1-abcdef"]


@pytest.mark.parametrize(
    "credentials",
    [
        CLIENT,
        Credentials(secret=SANDBOX_OAUTH_TOKEN, bearer=True),
        Credentials(email=SANDBOX_EMAIL, secret=SANDBOX_SCOPED_TOKEN, scoped=True),
    ],
)
def test_tenant_info_is_asked_without_credentials(site: SandboxSite, credentials: Credentials) -> None:
    api, transport = client(site, credentials)
    with api:
        assert api.cloud_id == site.cloud_id
        api.get(Api.JIRA, "/myself")
    tenant_info = [h for _, url, h in transport.sent if url.endswith("/_edge/tenant_info")]
    assert len(tenant_info) == 1 and "Authorization" not in tenant_info[0]
    assert all("Authorization" in h for _, url, h in transport.sent if url.endswith("/myself"))


@pytest.mark.parametrize("batch", [False, True], ids=["one request", "a batch of reads"])
def test_a_token_the_site_refuses_is_renewed_and_the_request_sent_once_more(
    site: SandboxSite, monkeypatch: pytest.MonkeyPatch, batch: bool
) -> None:
    """A token that runs out while the client still trusts it (a long Retry-After wait, a clock that lags
    the site's): the 401 brings a new token, and the request is sent again with it."""
    api, transport = client(site, CLIENT)
    with api:
        api.get(Api.JIRA, "/myself")
        later = time.time() + 3601  # the site's clock, past the first token's 60 minutes
        site_clock = SimpleNamespace(time=lambda: later, monotonic=time.monotonic, sleep=time.sleep)
        for module in (sandbox_app, sandbox_auth):
            monkeypatch.setattr(module, "time", site_clock)
        if batch:
            found = list(api.get_each(Api.JIRA, ["/myself", "/myself"]))
            assert [me["emailAddress"] for me in found] == [SANDBOX_EMAIL, SANDBOX_EMAIL]
        else:
            assert api.get(Api.JIRA, "/myself")["emailAddress"] == SANDBOX_EMAIL
    assert len(token_requests(transport)) == 2
    bearers = [h["Authorization"] for _, url, h in transport.sent if url.endswith("/myself")]
    assert bearers[0] == bearers[1] != bearers[2]
