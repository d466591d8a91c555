"""Where the client sends each request and what it makes of failures waiting cannot fix: Jira through the
API gateway for OAuth and scoped tokens, the experimental opt-in header, DNS and TLS failures, and long
Retry-After waits. Over real HTTP on 127.0.0.1 (a name under .invalid never resolves, so no network)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from reconciler.errors import RetryableSiteError, TerminalSiteError
from reconciler.sandbox.common import SANDBOX_EMAIL, SANDBOX_OAUTH_TOKEN, SANDBOX_SCOPED_TOKEN
from reconciler.site.api import Api
from reconciler.site.config import Credentials
from reconciler.site.http import SiteClient
from tests.site.conftest import BASIC, CLOUD_ID, FAST, Served, app_client, serve_app

OAUTH = Credentials(secret=SANDBOX_OAUTH_TOKEN, bearer=True)
SCOPED = Credentials(email=SANDBOX_EMAIL, secret=SANDBOX_SCOPED_TOKEN, scoped=True)
SCOPED_WITHOUT_THE_FLAG = Credentials(email=SANDBOX_EMAIL, secret=SANDBOX_SCOPED_TOKEN)


# --- routing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("credentials", [OAUTH, SCOPED], ids=["oauth", "scoped"])
def test_oauth_and_scoped_tokens_call_jira_through_the_gateway(
    served: Served, credentials: Credentials
) -> None:
    served.knobs.record_calls = True
    client = served.client(credentials, cloud_id=None)
    assert {r["name"] for r in client.get(Api.JIRA, "/role")} >= {"Administrators"}
    assert client.get(Api.CSM, "/product")["results"]
    assert client.get(Api.OPS, "/teams")["platformTeams"]
    paths = [c.path for c in served.site.calls]
    assert paths[0] == "/_edge/tenant_info"  # the cloud id, read once from the site
    assert f"/ex/jira/{CLOUD_ID}/rest/api/3/role" in paths
    assert not [p for p in paths if p.startswith("/rest/api/3")]


def test_a_classic_token_calls_jira_at_the_site_url(served: Served) -> None:
    served.knobs.record_calls = True
    served.client(BASIC).get(Api.JIRA, "/role")
    assert [c.path for c in served.site.calls] == ["/rest/api/3/role"]


def test_a_scoped_token_without_the_flag_gets_a_401_that_names_the_flag(served: Served) -> None:
    client = served.client(SCOPED_WITHOUT_THE_FLAG)
    with pytest.raises(TerminalSiteError) as caught:
        client.get(Api.JIRA, "/role")
    message = str(caught.value)
    assert caught.value.status == 401
    assert "JSM_SCOPED_TOKEN=1" in message and "\n" not in message
    assert SANDBOX_SCOPED_TOKEN not in message


def test_a_401_under_oauth_does_not_talk_about_scoped_tokens(served: Served) -> None:
    client = served.client(Credentials(secret="an-expired-oauth-token", bearer=True))
    with pytest.raises(TerminalSiteError) as caught:
        client.get(Api.JIRA, "/role")
    assert "JSM_OAUTH_TOKEN" in str(caught.value) and "JSM_SCOPED_TOKEN" not in str(caught.value)


def test_the_experimental_opt_in_goes_to_csm_and_ops_only() -> None:
    seen: list[tuple[str, str | None]] = []

    def record(request: Request) -> Response:
        seen.append((request.path, request.headers.get("X-ExperimentalApi")))
        body: Any = {"cloudId": CLOUD_ID} if request.path.endswith("tenant_info") else {}
        return Response(json.dumps(body), 200, mimetype="application/json")

    with app_client(record) as client:
        client.get(Api.JIRA, "/myself")
        client.get(Api.CSM, "/product")
        client.get(Api.OPS, "/roles")
    assert seen == [
        ("/rest/api/3/myself", None),
        ("/_edge/tenant_info", None),
        (f"/jsm/csm/cloudid/{CLOUD_ID}/api/v1/product", "opt-in"),
        (f"/jsm/ops/api/{CLOUD_ID}/v1/roles", "opt-in"),
    ]


# --- failures no retry can fix -----------------------------------------------------------------------


def test_a_name_that_does_not_resolve_fails_at_once_with_a_clear_message() -> None:
    slept: list[float] = []
    site = "https://jsm-reconciler-test.invalid"
    client = SiteClient(site, site, BASIC, cloud_id=CLOUD_ID, settings=replace(FAST, sleep=slept.append))
    with client, pytest.raises(TerminalSiteError) as caught:
        client.get(Api.JIRA, "/role")
    message = str(caught.value)
    assert message == (
        "GET /rest/api/3/role: the host name does not resolve (DNS): jsm-reconciler-test.invalid; "
        "check JSM_SITE and JSM_API_BASE"
    )
    assert caught.value.status is None
    assert client.request_count == 1 and slept == []  # not retried, no backoff


def test_a_refused_tls_handshake_is_not_retried(serve_site: Callable[..., Served]) -> None:
    """https:// to a plain-HTTP server: the handshake fails the same way every time."""
    served = serve_site(seed={})
    served.knobs.record_calls = True
    url = served.url.replace("http://", "https://")
    client = SiteClient(url, url, BASIC, cloud_id=CLOUD_ID, settings=FAST)
    with client, pytest.raises(TerminalSiteError) as caught:
        client.get(Api.JIRA, "/role")
    assert "the TLS handshake failed" in str(caught.value) and "127.0.0.1" in str(caught.value)
    assert client.request_count == 1


# --- Retry-After -------------------------------------------------------------------------------------


def _throttled_once(retry_after: int, headers: dict[str, str] | None = None) -> Callable[[Request], Response]:
    answered: list[int] = []

    def handler(request: Request) -> Response:
        answered.append(1)
        if len(answered) == 1:
            body = json.dumps({"errorMessages": ["Rate limit exceeded."]})
            throttled = Response(body, 429, mimetype="application/json")
            throttled.headers["Retry-After"] = str(retry_after)
            throttled.headers.update(headers or {})
            return throttled
        return Response(json.dumps([{"name": "Administrators"}]), 200, mimetype="application/json")

    return handler


@pytest.mark.parametrize(
    ("retry_after", "bound", "waited"), [(120, 300, 120), (3600, 300, 300), (45, 300, 45)]
)
def test_retry_after_is_honoured_up_to_the_bound_and_a_long_wait_is_announced(
    retry_after: int, bound: int, waited: int
) -> None:
    slept: list[float] = []
    notices: list[str] = []
    with app_client(
        _throttled_once(retry_after),
        cloud_id=CLOUD_ID,
        retry_after_max_s=bound,
        sleep=slept.append,
        notify=notices.append,
    ) as client:
        assert client.get(Api.JIRA, "/role") == [{"name": "Administrators"}]
    assert slept == [waited]
    assert (
        len(notices) == 1 and f"retrying in {waited} s" in notices[0] and "JSM_MAX_RETRY_AFTER" in notices[0]
    )


def test_a_short_retry_after_is_not_announced() -> None:
    notices: list[str] = []
    with app_client(
        _throttled_once(1), cloud_id=CLOUD_ID, sleep=lambda _s: None, notify=notices.append
    ) as client:
        client.get(Api.JIRA, "/role")
    assert notices == []


def test_giving_up_quotes_the_rate_limit_headers() -> None:
    headers = {"X-RateLimit-Reset": "2026-11-29T23:59Z", "RateLimit-Reason": "jira-burst-based"}

    def always(request: Request) -> Response:
        answer = Response(
            json.dumps({"errorMessages": ["Rate limit exceeded."]}), 429, mimetype="application/json"
        )
        answer.headers.update({"Retry-After": "2", **headers})
        return answer

    with (
        app_client(always, cloud_id=CLOUD_ID, max_retries=2, sleep=lambda _s: None) as client,
        pytest.raises(RetryableSiteError) as caught,
    ):
        client.get(Api.JIRA, "/role")
    assert str(caught.value) == (
        "GET /rest/api/3/role: 429 TOO MANY REQUESTS: Rate limit exceeded. (gave up after 2 retries; "
        "X-RateLimit-Reset: 2026-11-29T23:59Z; RateLimit-Reason: jira-burst-based)"
    )


def test_a_refused_connection_is_still_retried() -> None:
    """A refused connection (nothing listening) may be a site restarting: it is still retried."""
    with serve_app(lambda _r: Response("{}", 200)) as url:
        pass  # the port is free again
    slept: list[float] = []
    client = SiteClient(url, url, BASIC, cloud_id=CLOUD_ID, settings=replace(FAST, sleep=slept.append))
    with client, pytest.raises(RetryableSiteError) as caught:
        client.get(Api.JIRA, "/role")
    assert "gave up after 3 retries" in str(caught.value)
    assert len(slept) == 2  # urllib3 backs off before every retry but the first
