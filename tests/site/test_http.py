"""The real HTTP client against the served sandbox and its fault knobs: auth, cloud id, pagination,
retries, timeouts and error mapping. Every test runs over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import urllib3
from werkzeug.wrappers import Request, Response

from reconciler.errors import ConfigError, RetryableSiteError, SiteError, TerminalSiteError
from reconciler.interruption import Interrupted
from reconciler.kinds.kind import delete_verified, found
from reconciler.sandbox.common import SANDBOX_EMAIL, SANDBOX_OAUTH_TOKEN
from reconciler.site.answers import api_error_text
from reconciler.site.api import Api
from reconciler.site.config import Credentials
from reconciler.site.http import SiteClient
from reconciler.site.settings import ClientSettings
from tests.site.conftest import (
    BASIC,
    CLOUD_ID,
    N_GROUPS,
    N_PRODUCTS,
    N_ROLES,
    Served,
    app_client,
    many_seed,
    serve_app,
    until,
)

CANARY = "canary-TOKEN-9f3b2c7e"


# --- auth ------------------------------------------------------------------------------------------


def test_basic_auth_reaches_all_three_families(served: Served) -> None:
    client = served.client()
    assert {r["name"] for r in client.get(Api.JIRA, "/role")} >= {"Administrators"}
    assert "results" in client.get(Api.CSM, "/product")
    assert "platformTeams" in client.get(Api.OPS, "/teams")


def test_bearer_auth_works(served: Served) -> None:
    client = served.client(Credentials(secret=SANDBOX_OAUTH_TOKEN, bearer=True))
    assert client.get(Api.JIRA, "/role")
    assert client.get(Api.OPS, "/teams")["platformTeams"]


def _secret_forms(secret: str) -> list[str]:
    basic = base64.b64encode(f"{SANDBOX_EMAIL}:{secret}".encode()).decode()
    return [secret, basic]


def _assert_no_secret(secret: str, *texts: str) -> None:
    for text in texts:
        for form in _secret_forms(secret):
            assert form not in text


@pytest.mark.parametrize(
    ("credentials", "api", "path", "api_text"),
    [
        (
            Credentials(email=SANDBOX_EMAIL, secret=CANARY),
            Api.JIRA,
            "/role",
            "Client must be authenticated",
        ),
        (Credentials(secret=CANARY, bearer=True), Api.OPS, "/teams", "Unauthorized"),
        (Credentials(email=SANDBOX_EMAIL, secret=CANARY), Api.CSM, "/product", "Unauthorized"),
    ],
)
def test_wrong_token_is_a_clear_401_that_never_shows_the_token(
    served: Served,
    caplog: pytest.LogCaptureFixture,
    credentials: Credentials,
    api: Api,
    path: str,
    api_text: str,
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: urllib3, requests and ours
    client = served.client(credentials)
    with pytest.raises(TerminalSiteError) as caught:
        client.get(api, path)
    exc = caught.value
    assert exc.status == 401
    assert api_text in str(exc)
    assert api_text in exc.detail
    assert "JSM_API_TOKEN" in str(exc) and "JSM_OAUTH_TOKEN" in str(exc)  # the hint
    assert path in exc.endpoint
    assert caplog.records, "DEBUG logging was captured"
    _assert_no_secret(
        CANARY,
        str(exc),
        repr(exc),
        repr(exc.args),
        exc.detail,
        caplog.text,
        repr(client.__dict__),
        repr(credentials),
        str(credentials),
    )
    assert len(served.calls("GET", path)) == 1  # a 401 is not retried


def test_wrong_token_fails_clearly_while_reading_the_cloud_id(served: Served) -> None:
    client = served.client(Credentials(email=SANDBOX_EMAIL, secret=CANARY), cloud_id=None)
    with pytest.raises(TerminalSiteError) as caught:
        client.get(Api.OPS, "/teams")
    assert caught.value.status == 401
    assert "JSM_API_TOKEN" in str(caught.value)
    _assert_no_secret(CANARY, str(caught.value), repr(caught.value))


def test_echoed_credentials_are_redacted_from_errors() -> None:
    """A server (or proxy) that echoes the request in its error body must not put the token in output."""

    def echo(request: Request) -> Response:
        body = {"errorMessages": [f"bad request with headers {dict(request.headers)}"], "errors": {}}
        return Response(json.dumps(body), 500, mimetype="application/json")

    for credentials in (
        Credentials(email=SANDBOX_EMAIL, secret=CANARY),
        Credentials(secret=CANARY, bearer=True),
    ):
        with app_client(echo, credentials=credentials) as client, pytest.raises(RetryableSiteError) as caught:
            client.get(Api.JIRA, "/role")
        exc = caught.value
        assert exc.status == 500
        assert "bad request with headers" in str(exc)
        _assert_no_secret(CANARY, str(exc), repr(exc), exc.detail)


# --- cloud id --------------------------------------------------------------------------------------


def test_cloud_id_is_read_once_even_by_concurrent_first_requests(served: Served) -> None:
    client = served.client(cloud_id=None)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def first_request() -> None:
        try:
            barrier.wait(timeout=5)
            client.get(Api.OPS, "/teams")
            client.get(Api.CSM, "/product")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not errors
    assert client.cloud_id == CLOUD_ID
    assert len(served.calls("GET", "/_edge/tenant_info")) == 1
    assert len(served.calls("GET", "/teams")) == 8


def test_a_given_cloud_id_skips_tenant_info(served: Served) -> None:
    client = served.client(cloud_id=CLOUD_ID)
    client.get(Api.OPS, "/teams")
    assert served.calls("GET", "/_edge/tenant_info") == []


def test_a_wrong_cloud_id_is_a_clear_404(served: Served) -> None:
    client = served.client(cloud_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(TerminalSiteError) as caught:
        client.get(Api.OPS, "/teams")
    assert caught.value.status == 404
    assert "No site with this cloud id" in str(caught.value)


def test_tenant_info_without_a_cloud_id_says_to_set_it() -> None:
    def tenant(request: Request) -> Response:
        return Response(json.dumps({"nothing": 1}), 200, mimetype="application/json")

    with app_client(tenant) as client, pytest.raises(TerminalSiteError) as caught:
        client.get(Api.OPS, "/teams")
    assert "JSM_CLOUD_ID" in str(caught.value)
    assert caught.value.endpoint == "GET /_edge/tenant_info"


# --- pagination ------------------------------------------------------------------------------------


PAGE = 4


@pytest.fixture
def many(serve_site: Callable[..., Served]) -> Served:
    return serve_site(seed=many_seed(), max_page_size=PAGE)


def test_cursor_pagination_yields_every_product_once(many: Served) -> None:
    client = many.client()
    products = list(client.paginate_cursor(Api.CSM, "/product", limit=100))
    names = [p["name"] for p in products]
    assert sorted(names) == [f"Product {i:02d}" for i in range(N_PRODUCTS)]
    pages = many.calls("GET", "/product")
    assert len(pages) == math.ceil(N_PRODUCTS / PAGE)
    assert "cursor=" not in pages[0].query and all("cursor=" in p.query for p in pages[1:])


def test_links_pagination_yields_every_custom_role_once(many: Served) -> None:
    client = many.client()
    roles = list(client.paginate_links(Api.OPS, "/roles", size=100))
    assert sorted(r["name"] for r in roles) == [f"Role {i:02d}" for i in range(N_ROLES)]
    assert len({r["id"] for r in roles}) == N_ROLES
    assert len(many.calls("GET", "/roles")) == math.ceil(N_ROLES / PAGE)


def test_page_bean_pagination_yields_every_group_once(many: Served) -> None:
    client = many.client()
    groups = list(client.paginate_page_bean(Api.JIRA, "/group/bulk", max_results=50))
    assert len(groups) == N_GROUPS
    assert len({g["groupId"] for g in groups}) == N_GROUPS
    pages = many.calls("GET", "/group/bulk")
    assert len(pages) == math.ceil(N_GROUPS / PAGE)
    assert [p.query.split("startAt=")[1].split("&")[0] for p in pages] == [
        str(start) for start in range(0, N_GROUPS, PAGE)
    ]


def test_pagination_survives_faults(serve_site: Callable[..., Served]) -> None:
    """A 503 and a 429 in the middle of a paginated read are retried; nothing is lost or doubled."""
    many = serve_site(
        seed=many_seed(), max_page_size=PAGE, error_every=3, rate_limit_every=5, retry_after_s=0
    )
    client = many.client(max_retries=4)
    names = [p["name"] for p in client.paginate_cursor(Api.CSM, "/product", limit=100)]
    assert sorted(names) == [f"Product {i:02d}" for i in range(N_PRODUCTS)]
    assert {c.status for c in many.calls("GET", "/product")} == {200, 429, 503}


def test_a_cursor_that_does_not_advance_stops_with_a_clear_error() -> None:
    def stuck(request: Request) -> Response:
        body = {"results": [{"id": "1", "name": "x"}], "nextPageCursor": "same"}
        return Response(json.dumps(body), 200, mimetype="application/json")

    with app_client(stuck, cloud_id=CLOUD_ID) as client, pytest.raises(TerminalSiteError) as caught:
        list(client.paginate_cursor(Api.CSM, "/product", limit=10))
    assert "GET /jsm/csm/.../api/v1/product" in str(caught.value)


# --- retries ---------------------------------------------------------------------------------------


def test_429_waits_for_retry_after_and_the_limit_halves_then_recovers(
    serve_site: Callable[..., Served],
) -> None:
    served = serve_site(seed={}, rate_limit_every=2, retry_after_s=1)
    client = served.client(concurrency=4)
    client.get(Api.JIRA, "/role")  # request 1: fine
    assert client.limit.limit == 4
    start = time.monotonic()
    client.get(Api.JIRA, "/role")  # request 2: 429, Retry-After 1; request 3: fine
    waited = time.monotonic() - start
    assert 0.9 <= waited < 3.0
    assert [c.status for c in served.calls("GET", "/role")] == [200, 429, 200]
    assert client.limit.limit == 2  # halved once, not twice
    served.knobs.rate_limit_every = 0
    for _ in range(10):
        client.get(Api.JIRA, "/role")
    assert client.limit.limit == 4  # grown back one step per run of successes, never above the maximum


def test_a_final_429_halves_the_limit_once_per_answer(serve_site: Callable[..., Served]) -> None:
    served = serve_site(seed={}, rate_limit_every=1, retry_after_s=0)
    client = served.client(concurrency=8, max_retries=1)
    with pytest.raises(RetryableSiteError) as caught:
        client.get(Api.JIRA, "/role")
    assert caught.value.status == 429
    assert len(served.calls("GET", "/role")) == 2
    assert client.limit.limit == 2  # 8 -> 4 -> 2: one halving per 429 answer


@pytest.mark.parametrize("first", ["list", "reads"], ids=["in-a-thread", "on-the-event-loop"])
def test_ctrl_c_ends_every_wait_in_every_thread_and_nothing_is_sent_after_it(
    serve_site: Callable[..., Served], first: str
) -> None:
    """At parallelism 1, one request waits on a long Retry-After (a list read in a thread of urllib3's, or a
    per-object read on the event loop) and the other waits for the slot. `interrupt`, which the CLI's Ctrl-C
    handler calls, ends both waits; nothing is sent or announced after it."""
    served = serve_site(seed=many_seed(), rate_limit_every=1, retry_after_s=60)
    announced: list[str] = []
    client = served.client(notify=announced.append, concurrency=1)
    outcomes: list[BaseException | None] = []

    def wait(read: Callable[[], object]) -> None:
        try:
            read()
            outcomes.append(None)
        except BaseException as exc:
            outcomes.append(exc)

    reads: dict[str, Callable[[], object]] = {
        "list": lambda: client.get(Api.OPS, "/roles"),
        "reads": lambda: list(client.get_each(Api.OPS, ["/roles/a", "/roles/b"])),
    }
    waiting = [threading.Thread(target=wait, args=(reads.pop(first),))]
    waiting[0].start()
    assert until(lambda: len(served.calls()) == 1 and len(announced) == 1)
    waiting.append(threading.Thread(target=wait, args=(*reads.values(),)))
    waiting[1].start()
    assert until(lambda: len(client.limit._threads) + len(client.limit._tasks) == 1)  # queued for the slot
    client.interrupt()
    for thread in waiting:
        thread.join(timeout=5)  # the first would otherwise wait a minute, and the second after it
    assert len(outcomes) == 2 and all(isinstance(outcome, Interrupted) for outcome in outcomes)
    assert len(served.calls()) == 1 and len(announced) == 1
    with pytest.raises(Interrupted):
        client.get(Api.OPS, "/roles")
    assert len(served.calls()) == 1


def test_retry_after_is_bounded(serve_site: Callable[..., Served]) -> None:
    """The site asks for an hour: the client waits, for the bound (JSM_MAX_RETRY_AFTER) and no longer."""
    served = serve_site(seed={}, rate_limit_every=2, retry_after_s=3600)
    slept: list[float] = []
    client = served.client(retry_after_max_s=7, sleep=slept.append)
    client.get(Api.JIRA, "/role")
    client.get(Api.JIRA, "/role")
    assert [c.status for c in served.calls("GET", "/role")] == [200, 429, 200]
    assert slept == [7]


def test_a_retry_after_in_fractions_of_a_second_is_retried_after_the_backoff(
    serve_site: Callable[..., Served],
) -> None:
    """RFC 9110 allows whole seconds or a date; a site that sends `1.5` is retried after the backoff, through
    urllib3's pools and through the event loop alike, instead of failing on the header."""
    served = serve_site(seed={}, rate_limit_every=2, retry_after_s=1.5)
    client = served.client(backoff_s=0.0)
    client.get(Api.JIRA, "/role")
    client.get(Api.JIRA, "/role")
    assert list(client.get_each(Api.JIRA, ["/role", "/role"])) == [[], []]
    assert [c.status for c in served.calls("GET", "/role")] == [200, 429, 200, 429, 200, 429, 200]


@pytest.mark.parametrize("status", [503, 500])
def test_server_errors_are_retried_for_get_put_and_delete(
    serve_site: Callable[..., Served], demo_seed: dict[str, Any], status: int
) -> None:
    served = serve_site(seed=demo_seed, error_every=2, error_status=status, retry_after_s=0)
    client = served.client()
    products = client.get(Api.CSM, "/product")["results"]  # request 1
    gadget = next(p for p in products if p["name"] == "Gadget")
    client.request(Api.CSM, "PUT", f"/product/{gadget['id']}", json_body={"name": "Gizmo"})  # 2 (5xx), 3
    client.get(Api.CSM, f"/product/{gadget['id']}")  # 4 (5xx), 5
    client.request(Api.CSM, "DELETE", f"/product/{gadget['id']}")  # 6 (5xx), 7
    path = f"/product/{gadget['id']}"
    assert [(c.method, c.status) for c in served.calls(contains=path)] == [
        ("PUT", status),
        ("PUT", 200),
        ("GET", status),
        ("GET", 200),
        ("DELETE", status),
        ("DELETE", 204),
    ]
    names = {p["name"] for p in client.get(Api.CSM, "/product")["results"]}  # 8 (5xx), 9
    assert "Gadget" not in names and "Gizmo" not in names


def test_a_post_answered_5xx_is_not_resent(serve_site: Callable[..., Served]) -> None:
    served = serve_site(seed={}, error_every=1, retry_after_s=0)
    client = served.client()
    with pytest.raises(RetryableSiteError) as caught:
        client.request(Api.CSM, "POST", "/product", json_body={"name": "Once"})
    assert caught.value.status == 503
    assert "POST /jsm/csm/.../api/v1/product" in str(caught.value)
    assert "retries" not in str(caught.value)
    assert len(served.calls("POST", "/product")) == 1
    served.knobs.error_every = 0
    assert client.get(Api.CSM, "/product")["results"] == []


def test_a_post_answered_429_is_sent_again_after_retry_after(serve_site: Callable[..., Served]) -> None:
    """A 429 is a refusal before any processing, so the HTTP layer may send even a POST again."""
    served = serve_site(seed={}, rate_limit_every=2, retry_after_s=1)
    client = served.client()
    client.get(Api.CSM, "/product")  # request 1
    start = time.monotonic()
    client.request(Api.CSM, "POST", "/product", json_body={"name": "Once"})  # 2: 429; 3: created
    assert 0.9 <= time.monotonic() - start < 3.0
    assert [c.status for c in served.calls("POST", "/product")] == [429, 200]
    served.knobs.rate_limit_every = 0
    assert [p["name"] for p in client.get(Api.CSM, "/product")["results"]] == ["Once"]


def test_a_post_refused_with_429_every_time_gives_up(serve_site: Callable[..., Served]) -> None:
    served = serve_site(seed={}, rate_limit_every=1, retry_after_s=0)
    client = served.client(max_retries=2)
    with pytest.raises(RetryableSiteError) as caught:
        client.request(Api.CSM, "POST", "/product", json_body={"name": "Never"})
    assert caught.value.status == 429
    assert "gave up after 2 retries" in str(caught.value)
    assert [c.status for c in served.calls("POST", "/product")] == [429, 429, 429]


def test_retries_are_bounded_and_the_error_names_the_endpoint(serve_site: Callable[..., Served]) -> None:
    served = serve_site(seed={}, error_every=1, retry_after_s=0)
    client = served.client(max_retries=3)
    start = time.monotonic()
    with pytest.raises(RetryableSiteError) as caught:
        client.get(Api.OPS, "/roles")
    assert time.monotonic() - start < 5
    exc = caught.value
    assert exc.status == 503
    assert exc.endpoint == "GET /jsm/ops/.../v1/roles"
    assert "GET /jsm/ops/.../v1/roles" in str(exc)
    assert "3 retries" in str(exc)
    assert exc.detail and exc.detail in str(exc)  # the API's own text
    assert len(served.calls("GET", "/roles")) == 4  # the first try and three retries


def test_backoff_grows_between_retries_without_retry_after(serve_site: Callable[..., Served]) -> None:
    served = serve_site(seed={}, error_every=1, error_status=502)
    client = served.client(max_retries=3, backoff_s=0.1, backoff_max_s=1.0)
    start = time.monotonic()
    with pytest.raises(RetryableSiteError):
        client.get(Api.JIRA, "/role")
    # urllib3: no pause before the first retry, then 0.2 s and 0.4 s (+ jitter up to 0.1 s each).
    assert 0.55 <= time.monotonic() - start < 3.0


# --- timeouts --------------------------------------------------------------------------------------


def test_a_slow_get_is_retried_then_fails_clearly(serve_site: Callable[..., Served]) -> None:
    served = serve_site(seed={}, slow_every=1, slow_s=0.6)
    client = served.client(read_timeout_s=0.15, max_retries=2)
    start = time.monotonic()
    with pytest.raises(RetryableSiteError) as caught:
        client.get(Api.JIRA, "/role")
    assert time.monotonic() - start < 3
    message = str(caught.value)
    assert "GET /rest/api/3/role" in message
    assert "no answer within 0.15 s" in message
    assert "2 retries" in message
    _wait_for(lambda: len(served.calls("GET", "/role")) == 3)


def test_one_slow_get_is_retried(serve_site: Callable[..., Served]) -> None:
    served = serve_site(seed={}, slow_every=2, slow_s=0.4)
    client = served.client(read_timeout_s=0.15, max_retries=2)
    assert client.get(Api.JIRA, "/role") == []  # 1: fast
    assert client.get(Api.JIRA, "/role") == []  # 2: slow, times out; 3: fast
    _wait_for(lambda: len(served.calls("GET", "/role")) == 3)


def test_a_slow_post_is_not_resent(
    serve_site: Callable[..., Served], monkeypatch: pytest.MonkeyPatch
) -> None:
    served = serve_site(seed={}, slow_every=1, slow_s=0.5)
    client = served.client(read_timeout_s=0.1)
    sent: list[str] = []  # counted where the client sends, so no wait is needed to see a resend
    send = urllib3.connection.HTTPConnection.request

    def counting(
        self: urllib3.connection.HTTPConnection, method: str, url: str, *args: Any, **kwargs: Any
    ) -> None:
        sent.append(method)
        send(self, method, url, *args, **kwargs)

    monkeypatch.setattr(urllib3.connection.HTTPConnection, "request", counting)
    with pytest.raises(RetryableSiteError) as caught:
        client.request(Api.CSM, "POST", "/product", json_body={"name": "Slow"})
    assert "no answer within 0.1 s" in str(caught.value)
    assert sent.count("POST") == 1
    _wait_for(lambda: len(served.calls("POST", "/product")) == 1)


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


# --- dropped connections ---------------------------------------------------------------------------


def test_a_dropped_put_and_delete_are_resent_safely(served: Served) -> None:
    served.knobs.drop_after_write_every = 2  # every second committed write loses its answer
    client = served.client()
    created = client.request(Api.CSM, "POST", "/product", json_body={"name": "Dropped"}).body  # write 1
    path = f"/product/{created['id']}"
    client.request(Api.CSM, "PUT", path, json_body={"name": "Renamed"})  # write 2: dropped; re-sent: 3
    delete_verified(
        lambda: client.request(Api.CSM, "DELETE", path),  # write 4: dropped; re-sent: 404
        lambda: found(lambda: client.get(Api.CSM, path)),  # read: GET product declares 404: gone
    )
    assert [(c.method, c.status) for c in served.calls(contains=path)] == [
        ("PUT", 200),
        ("PUT", 200),
        ("DELETE", 204),
        ("DELETE", 404),
        ("GET", 404),
    ]
    names = {p["name"] for p in client.get(Api.CSM, "/product")["results"]}
    assert not names & {"Dropped", "Renamed"}


def test_a_dropped_post_is_not_resent_by_the_http_layer(served: Served) -> None:
    served.knobs.drop_after_write_every = 1
    client = served.client()
    with pytest.raises(RetryableSiteError) as caught:
        client.request(Api.CSM, "POST", "/product", json_body={"name": "Committed"})
    assert "POST /jsm/csm/.../api/v1/product: the connection broke" in str(caught.value)
    assert len(served.calls("POST", "/product")) == 1
    served.knobs.drop_after_write_every = 0
    assert [p["name"] for p in client.get(Api.CSM, "/product")["results"]].count("Committed") == 1


# --- error mapping ---------------------------------------------------------------------------------


def test_each_familys_error_body_becomes_readable_text(served: Served) -> None:
    client = served.client()
    with pytest.raises(TerminalSiteError) as csm:
        client.get(Api.CSM, "/product/00000000-0000-0000-0000-000000000000")
    assert csm.value.status == 404 and "NOT_FOUND" in csm.value.detail
    with pytest.raises(TerminalSiteError) as ops:
        client.request(Api.OPS, "POST", "/roles", json_body={"name": "FinanceRole"})
    assert ops.value.status == 409 and "FinanceRole" in ops.value.detail
    schemes = client.get(Api.JIRA, "/permissionscheme", {"expand": "permissions"})["permissionSchemes"]
    scheme = schemes[0]
    grant = {k: scheme["permissions"][0][k] for k in ("permission", "holder")}
    with pytest.raises(TerminalSiteError) as jira:
        client.request(Api.JIRA, "POST", f"/permissionscheme/{scheme['id']}/permission", json_body=grant)
    assert jira.value.status == 400 and jira.value.detail
    for caught in (csm, ops, jira):
        assert caught.value.detail in str(caught.value)
        assert "{" not in caught.value.detail  # text, not a dumped body


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"errorMessages": ["Scheme not found."], "errors": {}}, "Scheme not found."),
        ({"errorMessages": [], "errors": {"name": "Name is taken."}}, "name: Name is taken."),
        ({"errors": [{"title": "Not allowed", "code": "FORBIDDEN"}]}, "Not allowed"),
        ({"errors": [{"title": "Bad", "detail": "right x is unknown"}]}, "Bad right x is unknown"),
        (
            {"code": 401, "message": "Unauthorized; scope does not match"},
            "Unauthorized; scope does not match",
        ),
        ({"message": "Role not found", "took": 0.1, "requestId": "r"}, "Role not found"),
        (
            {"errorMessage": "Product not found.", "errors": ["NOT_FOUND"], "statusCode": 404},
            "Product not found.; NOT_FOUND",
        ),
        ("  upstream connect error  ", "upstream connect error"),
        (None, ""),
        ([1, 2], ""),
    ],
)
def test_api_error_text(body: Any, text: str) -> None:
    assert api_error_text(body) == text


def _app(status: int, body: bytes, content_type: str = "application/json") -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        if request.path == "/_edge/tenant_info":
            return Response(json.dumps({"cloudId": CLOUD_ID}), 200, mimetype="application/json")
        return Response(body, status, content_type=content_type)

    return handler


def test_a_non_json_error_body_is_carried_as_text() -> None:
    handler = _app(502, b"<html>Bad gateway from the proxy</html>", "text/html")
    with app_client(handler) as client, pytest.raises(RetryableSiteError) as caught:
        client.get(Api.JIRA, "/role")
    assert caught.value.status == 502
    assert "Bad gateway from the proxy" in str(caught.value)
    with (
        app_client(_app(403, b"Forbidden", "text/plain")) as c,
        pytest.raises(TerminalSiteError) as forbidden,
    ):
        c.get(Api.JIRA, "/role")
    assert "Forbidden" in str(forbidden.value) and "permission" in str(forbidden.value)


@pytest.mark.parametrize(
    ("body", "read"),
    [
        (b"{not json", lambda c: c.get(Api.JIRA, "/role")),
        (b"<html>", lambda c: c.get(Api.CSM, "/product")),
        (b'{"values": {}}', lambda c: list(c.paginate_links(Api.OPS, "/roles", size=10))),
        (
            b'{"values": [], "links": ["/v1/roles"]}',
            lambda c: list(c.paginate_links(Api.OPS, "/roles", size=10)),
        ),
        (
            b'{"values": [], "links": {"next": 7}}',
            lambda c: list(c.paginate_links(Api.OPS, "/roles", size=10)),
        ),
        (b"[1, 2]", lambda c: list(c.paginate_cursor(Api.CSM, "/product", limit=10))),
        (
            b'{"results": [], "nextPageCursor": 5}',
            lambda c: list(c.paginate_cursor(Api.CSM, "/product", limit=1)),
        ),
        (b'{"values": null}', lambda c: list(c.paginate_page_bean(Api.JIRA, "/group/bulk", max_results=5))),
        (b'"text"', lambda c: list(c.paginate_page_bean(Api.JIRA, "/group/bulk", max_results=5))),
    ],
)
def test_malformed_2xx_answers_are_terminal_errors_naming_the_endpoint(
    body: bytes, read: Callable[[SiteClient], object]
) -> None:
    with app_client(_app(200, body)) as client, pytest.raises(TerminalSiteError) as caught:
        read(client)
    message = str(caught.value)
    assert caught.value.endpoint and caught.value.endpoint in message
    assert message.startswith("GET /")


def test_request_ids_are_kept() -> None:
    def handler(request: Request) -> Response:
        body = json.dumps({"errorMessages": ["nope"], "errors": {}})
        return Response(body, 400, {"X-ARequestId": "req-123"}, mimetype="application/json")

    with app_client(handler) as client, pytest.raises(SiteError) as caught:
        client.get(Api.JIRA, "/role")
    assert caught.value.request_id == "req-123"


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(ConfigError, match="http:// is refused"):
        SiteClient("http://example.com", "https://api.atlassian.com", BASIC, settings=ClientSettings())


def test_a_redirect_is_refused_and_never_followed_with_the_token() -> None:
    seen: list[str | None] = []

    def target(request: Request) -> Response:
        seen.append(request.headers.get("Authorization"))
        return Response(json.dumps([]), 200, mimetype="application/json")

    with serve_app(target) as other:
        other_host = other.replace("127.0.0.1", "localhost")

        def redirect(request: Request) -> Response:
            return Response("", 307, {"Location": f"{other_host}{request.full_path}"})

        for credentials in (BASIC, Credentials(secret=SANDBOX_OAUTH_TOKEN, bearer=True)):
            with (
                app_client(redirect, credentials=credentials) as client,
                pytest.raises(TerminalSiteError) as caught,
            ):
                client.get(Api.JIRA, "/role")
            assert "redirects are not followed" in str(caught.value)
    assert seen == []
