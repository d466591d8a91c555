"""The HTTP client for the three API families, `SiteClient`. With the modules it is split into, the only code
that speaks HTTP (through urllib3, and site/aio.py for the event loop's wire).

- auth: Basic (email, API token) or Bearer; the secret never appears in output or exceptions;
- routing: Jira at the site URL for a classic API token, through the API gateway for OAuth and scoped
  tokens (the site URL answers 401 to those); CSM and Ops always through the gateway, with the
  experimental opt-in header their documents ask for;
- retries (site/retry.py) and one adaptive concurrency limit shared by every request, reads and apply alike
  (site/limiter.py);
- Ctrl-C (`interrupt`) ends every wait of the client in every thread within a fraction of a second, and no
  request is sent after it (reconciler/interruption.py);
- many GETs at once (`get_each`, the per-object reads) on one event loop (site/aio.py), with the same retry
  policy, limit and error messages: a thread per request in flight cost a plan more CPU than all else;
- pagination (site/paging.py); what an answer means, and errors with the API's own text (site/answers.py).

It calls urllib3 directly rather than through requests: requests cost about half a millisecond of CPU per
request on top (reading the proxy environment, preparing, hooks, cookies), a third of a plan's CPU. What
requests did for us is kept (site/transport.py): the proxy and CA bundle environment variables, Basic auth,
the credentials of a proxy URL sent as Proxy-Authorization.

`SiteClient` stays one class of over 500 lines because its parts share one limit, one retry policy, the
secrets to blank out and each thread's last endpoint; what divides cleanly lives in the modules named above.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, wait
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import urllib3
from urllib3.exceptions import (
    HTTPError,
    MaxRetryError,
    ProxyError,
)

from reconciler.errors import RetryableSiteError, SiteError, TerminalSiteError
from reconciler.interruption import pause, thread_pool
from reconciler.redaction import basic_auth_secrets, redactor
from reconciler.site import aio, oauth, paging
from reconciler.site.answers import (
    REQUEST_ID_HEADERS,
    auth_hint,
    lasting_failure,
    network_failure,
    parse_body,
    refusal,
)
from reconciler.site.api import Api, Response, display_path
from reconciler.site.config import Credentials, check_url_allowed
from reconciler.site.limiter import AdaptiveLimit
from reconciler.site.retry import retry_policy, seen_by_retry
from reconciler.site.settings import ClientSettings
from reconciler.site.transport import Transport, ca_bundle, new_pool, proxy_failure, proxy_for

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# The CSM document asks for this header on experimental methods (412 without it); the Ops custom-role
# page marks every operation experimental. Sent on every CSM and Ops request.
EXPERIMENTAL_OPT_IN = {"X-ExperimentalApi": "opt-in"}


class SiteClient:
    """Speaks to one site. Thread-safe: the workers of `map` share it."""

    def __init__(
        self,
        site_url: str,
        api_base: str,
        credentials: Credentials,
        *,
        cloud_id: str | None = None,
        settings: ClientSettings | None = None,
        transport: Transport | None = None,
    ) -> None:
        """`transport` replaces the connection pools (and their retries): tests pass one that calls a WSGI
        app in-process."""
        check_url_allowed(site_url, "the site URL")
        check_url_allowed(api_base, "the API base URL")
        if credentials.client_id is not None:
            check_url_allowed(credentials.auth_base, "the OAuth token URL")
        self.site_url = site_url.rstrip("/")
        self.api_base = api_base.rstrip("/")
        self.settings = settings or ClientSettings()
        self.limit = AdaptiveLimit(self.settings.concurrency)
        self._interrupted = False  # set from a signal handler: a plain flag, no lock
        self.request_count = 0
        self._count_lock = threading.Lock()  # the loop's thread and the workers count: none may be lost
        self.jira_via_gateway = credentials.via_gateway
        # Each base URL goes through the proxy the environment names for its host: with client credentials
        # the token URL is a third host (auth.atlassian.com), which NO_PROXY may treat apart from the site.
        auth_base = credentials.auth_base.rstrip("/")
        bases = (self.site_url, self.api_base, *([auth_base] if credentials.client_id else []))
        self._proxies = {base: proxy_for(base) for base in bases}
        secrets = basic_auth_secrets(credentials.email or "", credentials.secret)
        proxy_secrets = [secret for proxy in self._proxies.values() if proxy for secret in proxy.secrets]
        self._secrets = _Secrets([*(secrets[:1] if credentials.bearer else secrets), *proxy_secrets])
        self._redact = redactor(self._secrets)
        self._auth_hint = auth_hint(credentials)
        self._service_account = credentials.service_account
        self._headers = _headers(credentials)
        self._anonymous_headers = _Headers({k: v for k, v in self._headers.items() if k != "Authorization"})
        self._token_url = auth_base + oauth.TOKEN_PATH
        self._tokens = (
            oauth.AccessTokens(
                oauth.ClientCredentials(credentials.client_id, credentials.secret),
                self._exchange_token,
                clock=self.settings.clock,
                issued=self._blank_out,
            )
            if credentials.client_id is not None
            else None
        )
        self._retry = retry_policy(
            self.settings, on_throttle=self.limit.throttled, notify=self._announce, sleeper=self._pause
        )
        self._transports: dict[str, Transport] = {
            base: transport or new_pool(proxy, self.settings.concurrency * 2, self._retry)
            for base, proxy in self._proxies.items()
        }
        # The per-object reads run on an event loop (site/aio.py), started at the first. Through a proxy they
        # go through urllib3's pools like every other request, and a test's transport answers them one by one.
        self._reads_on_loop = transport is None and not any(self._proxies.values())
        self._event_loop: aio.EventLoop | None = None
        self._event_loop_lock = threading.Lock()
        self._cloud_id = cloud_id
        self._cloud_id_lock = threading.Lock()
        self._last = threading.local()

    def interrupt(self) -> None:
        """Ctrl-C: every wait of this client (a Retry-After, the queue for the limit, the event loop), in
        any thread, now or later, raises Interrupted, and no request is sent any more. It only sets flags,
        so a signal handler may call it."""
        self._interrupted = True
        self.limit.interrupt()

    def _was_interrupted(self) -> bool:
        return self._interrupted

    def _pause(self, seconds: float) -> None:
        """A retry's wait, which Ctrl-C cuts short (a test's `sleep` waits for nothing)."""
        if self.settings.sleep is time.sleep:
            pause(seconds, self._was_interrupted)
        else:
            self.settings.sleep(seconds)

    def _announce(self, message: str) -> None:
        """Says a long wait begins; not once Ctrl-C came, when the tool is stopping instead."""
        if self.settings.notify is not None and not self._interrupted:
            self.settings.notify(message)

    def close(self) -> None:
        for transport in self._transports.values():
            transport.clear()
        if self._event_loop is not None:
            self._event_loop.close()
            self._event_loop = None

    def __enter__(self) -> SiteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- addressing -------------------------------------------------------------------------------

    @property
    def cloud_id(self) -> str:
        with self._cloud_id_lock:
            return self._cloud_id or self._read_cloud_id()

    def _read_cloud_id(self) -> str:
        if self._cloud_id is None:
            # Documented to need no credentials: none are sent to the site's edge.
            url = f"{self.site_url}/_edge/tenant_info"
            body = self._send("GET", url, "GET /_edge/tenant_info", anonymous=True).body
            cloud_id = body.get("cloudId") if isinstance(body, dict) else None
            if not isinstance(cloud_id, str) or not cloud_id:
                raise TerminalSiteError(
                    f"GET {self.site_url}/_edge/tenant_info did not return a cloudId; set JSM_CLOUD_ID",
                    endpoint="GET /_edge/tenant_info",
                )
            self._cloud_id = cloud_id
        return self._cloud_id

    def url(self, api: Api, path: str) -> str:
        if api is Api.JIRA and self.jira_via_gateway:
            return f"{self.api_base}/ex/jira/{self.cloud_id}/rest/api/3{path}"
        if api is Api.JIRA:
            return f"{self.site_url}/rest/api/3{path}"
        if api is Api.CSM:
            return f"{self.api_base}/jsm/csm/cloudid/{self.cloud_id}/api/v1{path}"
        return f"{self.api_base}/jsm/ops/api/{self.cloud_id}/v1{path}"

    # --- requests ---------------------------------------------------------------------------------

    def request(
        self,
        api: Api,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> Response:
        """One request; raises SiteError for anything but a 2xx."""
        endpoint = f"{method} {display_path(api, path)}"
        headers = EXPERIMENTAL_OPT_IN if api is not Api.JIRA else None
        return self._send(
            method, self.url(api, path), endpoint, params=params, json_body=json_body, headers=headers
        )

    def get(self, api: Api, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request(api, "GET", path, params=params).body

    def last_endpoint(self) -> str:
        """The endpoint this thread last had an answer from (since `forget_last_endpoint`): the one
        to name when that answer turns out to have the wrong shape."""
        endpoint: str = getattr(self._last, "endpoint", "")
        return endpoint

    def forget_last_endpoint(self) -> None:
        self._last.endpoint = ""

    @contextmanager
    def recording_request_ids(self) -> Iterator[list[str]]:
        """Collects the request ids of the answers this thread (and its `map` tasks) gets meanwhile."""
        ids: list[str] = []
        outer = getattr(self._last, "request_ids", None)
        self._last.request_ids = ids
        try:
            yield ids
        finally:
            self._last.request_ids = outer

    def get_each(
        self,
        api: Api,
        paths: Sequence[str],
        params: Mapping[str, Any] | None = None,
        *,
        missing_ok: bool = False,
    ) -> Iterator[Any]:
        """GETs every path (with the same `params`) at once, and yields the answers' bodies in order; None
        for a 404 when `missing_ok`. Every request is answered before the first body is yielded, and any
        error is raised then; while the caller reads a body, `last_endpoint` names the request it answers."""
        if not paths:
            return iter(())
        requests = [
            (_with_query(self.url(api, path), params), f"GET {display_path(api, path)}") for path in paths
        ]
        signed = self._signed_headers()
        answers = self._read_all(requests, api, signed, missing_ok)
        if self._tokens is not None and any(_token_refused(answer) for answer in answers):
            self._tokens.renew(_bearer(signed))
            again = [i for i, answer in enumerate(answers) if answer is None or _token_refused(answer)]
            resent = self._read_all([requests[i] for i in again], api, self._signed_headers(), missing_ok)
            for index, answer in zip(again, resent, strict=True):
                answers[index] = answer
        answered: list[tuple[str, urllib3.BaseHTTPResponse]] = []
        for (_, endpoint), found in zip(requests, answers, strict=True):
            if isinstance(found, SiteError):
                raise found
            if found is None:
                continue  # not sent, because a request failed: its error is raised below
            if found.status >= 300 and not (missing_ok and found.status == 404):
                self._response("GET", endpoint, found)  # raises an error or a redirect, as one GET would
            answered.append((endpoint, found))
        if len(answered) < len(requests):  # never: a plan must not take reads it lacks for deletes
            raise RuntimeError("a batch of reads ended with neither an answer nor an error for each")
        return self._bodies(answered, missing_ok)

    def _read_all(
        self, requests: Sequence[tuple[str, str]], api: Api, signed: Mapping[str, str], missing_ok: bool
    ) -> list[urllib3.BaseHTTPResponse | SiteError | None]:
        """Every answer, in order; at the first error the requests still waiting are not sent, and their
        places stay None."""
        headers = {**signed, **EXPERIMENTAL_OPT_IN} if api is not Api.JIRA else signed
        if self._reads_on_loop:
            reads = self._get_all(requests, aio.header_lines(headers), missing_ok)
            return self._loop().run(reads, interrupted=self._was_interrupted)
        # A test's transport answers in the calling thread, one request after the other.
        answers: list[urllib3.BaseHTTPResponse | SiteError | None] = [None] * len(requests)
        for index, (url, endpoint) in enumerate(requests):
            raw = self._exchange("GET", url, endpoint, None, headers)
            answers[index] = raw
            if _failed(raw, missing_ok):
                break
        return answers

    def _bodies(self, answers: list[tuple[str, urllib3.BaseHTTPResponse]], missing_ok: bool) -> Iterator[Any]:
        for endpoint, raw in answers:
            if missing_ok and raw.status == 404:
                self._last.endpoint = endpoint
                yield None
            else:
                yield self._response("GET", endpoint, raw).body

    def _loop(self) -> aio.EventLoop:
        with self._event_loop_lock:
            if self._event_loop is None:
                self._event_loop = aio.EventLoop(
                    connect_timeout_s=self.settings.connect_timeout_s,
                    read_timeout_s=self.settings.read_timeout_s,
                    ca_bundle=ca_bundle(),
                )
            return self._event_loop

    async def _get_all(
        self, requests: Sequence[tuple[str, str]], headers: bytes, missing_ok: bool
    ) -> list[urllib3.BaseHTTPResponse | SiteError | None]:
        """Every answer, in order; at the first error the requests still waiting are not sent, and their
        places stay None."""
        answers: list[urllib3.BaseHTTPResponse | SiteError | None] = [None] * len(requests)

        pending = iter(enumerate(requests))

        async def work() -> None:
            for index, (url, endpoint) in pending:
                try:
                    answers[index] = answer = await self._get_on_loop(url, endpoint, headers)
                except SiteError as exc:
                    answers[index] = exc
                    raise _Stop from None
                if _failed(answer, missing_ok):
                    raise _Stop

        try:
            async with asyncio.TaskGroup() as group:  # as many workers as requests may be in flight
                for _ in range(min(len(requests), self.limit.maximum)):
                    group.create_task(work())
        except ExceptionGroup as stopped:
            # A failure is in `answers`, for the caller to raise in order; anything else is a bug, raised as
            # itself rather than wrapped in a group.
            unexpected = [exc for exc in stopped.exceptions if not isinstance(exc, _Stop)]
            if unexpected:
                raise unexpected[0] from None
        return answers

    async def _get_on_loop(self, url: str, endpoint: str, headers: bytes) -> urllib3.BaseHTTPResponse:
        """One GET through the event loop, retried as urllib3 retries one through its pools."""
        assert self._event_loop is not None
        retry = self._retry
        await self.limit.acquire()
        try:
            self._count_request()
            log.debug("%s", endpoint)
            while True:
                if (
                    self._interrupted
                ):  # Ctrl-C came while this read waited (on the loop: no KeyboardInterrupt)
                    raise asyncio.CancelledError
                try:
                    raw = await self._event_loop.fetch(url, headers, retry)
                except (HTTPError, OSError) as error:
                    try:
                        retry = retry.increment("GET", url, error=error, _pool=None)
                    except (HTTPError, OSError) as exc:
                        raise self._unreachable(endpoint, url, exc) from None
                    await self._wait(retry.wait_for())
                    continue
                if not retry.is_retry("GET", raw.status, bool(raw.headers.get("Retry-After"))):
                    break
                try:
                    retry = retry.increment("GET", url, response=raw, _pool=None)
                except MaxRetryError:
                    break  # the last answer is the one to report, as urllib3 returns it
                await self._wait(retry.wait_for(raw))
        finally:
            self.limit.release()
        self._account("GET", raw)
        return raw

    async def _wait(self, seconds: float) -> None:
        if self.settings.sleep is time.sleep:
            await asyncio.sleep(seconds)
        else:
            self.settings.sleep(seconds)  # a test's: it waits for nothing, so it cannot hold up the loop

    def _send(
        self,
        method: str,
        url: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        anonymous: bool = False,
    ) -> Response:
        extra = dict(headers or {})
        body = None
        if json_body is not None:
            extra["Content-Type"] = "application/json"
            body = json.dumps(json_body, allow_nan=False).encode()
        target = _with_query(url, params)
        signed = self._anonymous_headers if anonymous else self._signed_headers()
        raw = self._exchange(method, target, endpoint, body, {**signed, **extra})
        if self._tokens is not None and not anonymous and _token_refused(raw):
            # A 401 means the site did not act on the request, so sending it again is safe, even a POST.
            self._tokens.renew(_bearer(signed))
            raw = self._exchange(method, target, endpoint, body, {**self._signed_headers(), **extra})
        return self._response(method, endpoint, raw)

    def _signed_headers(self) -> Mapping[str, str]:
        """Every request's headers with the credentials: with client credentials, the current token."""
        if self._tokens is None:
            return self._headers
        return _Headers({**self._headers, "Authorization": f"Bearer {self._tokens.current()}"})

    def _exchange_token(self, body: dict[str, str]) -> Any:
        """The client credentials exchanged for an access token (site/oauth.py), with no other credential."""
        return self._send("POST", self._token_url, oauth.TOKEN_ENDPOINT, json_body=body, anonymous=True).body

    def _blank_out(self, token: str) -> None:
        """An access token just issued: from now on blanked out of every text the client shows."""
        self._secrets = _Secrets([*self._secrets, token])
        self._redact = redactor(self._secrets)

    def _exchange(
        self, method: str, url: str, endpoint: str, body: bytes | None, headers: Mapping[str, str]
    ) -> urllib3.BaseHTTPResponse:
        """One request through urllib3's pools (and their retries), under the shared limit."""
        timeout = urllib3.Timeout(connect=self.settings.connect_timeout_s, read=self.settings.read_timeout_s)
        transport = self._transports[self._base_of(url)]
        with self.limit.slot():
            self._count_request()
            log.debug("%s", endpoint)
            try:
                raw = transport.request(
                    method, url, body=body, headers=headers, timeout=timeout, redirect=False
                )
            except (HTTPError, OSError) as exc:
                raise self._unreachable(endpoint, url, exc) from None
        self._account(method, raw)
        return raw

    def _base_of(self, url: str) -> str:
        """The base URL a request goes to (the longest that starts it: the sandbox serves all at one)."""
        return max((base for base in self._proxies if url.startswith(base)), key=len, default=self.site_url)

    def _count_request(self) -> None:
        with self._count_lock:
            self.request_count += 1

    def _unreachable(self, endpoint: str, url: str, exc: HTTPError | OSError) -> SiteError:
        cause = exc.reason if isinstance(exc, MaxRetryError) else exc
        proxy = self._proxies[self._base_of(url)]
        if isinstance(cause, ProxyError) and proxy is not None:
            return RetryableSiteError(proxy_failure(endpoint, cause, proxy), endpoint=endpoint)
        lasting = lasting_failure(exc)
        if lasting is not None:
            host = urlsplit(url).hostname
            check = "JSM_AUTH_BASE" if url == self._token_url else "JSM_SITE and JSM_API_BASE"
            message = f"{endpoint}: {lasting} {host}; check {check}"
            return TerminalSiteError(message, endpoint=endpoint)
        return RetryableSiteError(network_failure(endpoint, exc, self.settings), endpoint=endpoint)

    def _account(self, method: str, raw: urllib3.BaseHTTPResponse) -> None:
        """Tells the shared limit how the site took the request."""
        if raw.status == 429 and not seen_by_retry(raw, method):
            self.limit.throttled()  # a 429 urllib3 did not retry; the ones it retried told the limit already
        elif raw.status < 400:
            self.limit.succeeded()

    def _response(self, method: str, endpoint: str, raw: urllib3.BaseHTTPResponse) -> Response:
        """The answer's body; a SiteError for anything but a 2xx. Runs in the thread that asked."""
        self._last.endpoint = endpoint
        request_id = next((raw.headers[h] for h in REQUEST_ID_HEADERS if h in raw.headers), None)
        recording = getattr(self._last, "request_ids", None)
        if recording is not None and request_id:
            recording.append(request_id)
        answer = parse_body(raw, endpoint)
        refused = refusal(
            raw, endpoint, answer, request_id, self._redact, self._auth_hint, self._service_account
        )
        if refused is not None:
            raise refused
        return Response(raw.status, answer, request_id)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Run `fn` over items concurrently, results in order; the shared limit bounds the requests in
        flight. Each call has its own threads, so a task may call `map` again without starving."""
        work = list(items)
        if len(work) <= 1:
            return [fn(item) for item in work]
        failed_at: dict[int, str] = {}  # id of a task's exception -> the endpoint its thread last heard
        recording = getattr(self._last, "request_ids", None)

        def run(item: T) -> R:
            self._last.request_ids = recording
            try:
                return fn(item)
            except BaseException as exc:
                failed_at[id(exc)] = self.last_endpoint()
                raise
            finally:
                self._last.request_ids = None

        with thread_pool(min(len(work), self.limit.maximum)) as pool:
            tasks = [pool.submit(run, item) for item in work]
            # One wake-up when all are done (or one fails), not one per task: each costs the GIL twice.
            wait(tasks, return_when=FIRST_EXCEPTION)
            try:
                return [task.result() for task in tasks]
            except BaseException as exc:
                for task in tasks:
                    task.cancel()
                # The caller names the endpoint of the failed task, not the one it last heard itself.
                self._last.endpoint = failed_at.get(id(exc), self.last_endpoint())
                raise

    # --- pagination (site/paging.py) -----------------------------------------------------------------

    def paginate_cursor(self, api: Api, path: str, *, limit: int, key: str = "results") -> Iterator[Any]:
        return paging.cursor_pages(self.get, api, path, limit=limit, key=key)

    def paginate_links(self, api: Api, path: str, *, size: int) -> Iterator[Any]:
        return paging.link_pages(self.get, api, path, size=size)

    def paginate_page_bean(
        self, api: Api, path: str, *, max_results: int, params: Mapping[str, Any] | None = None
    ) -> Iterator[Any]:
        return paging.page_bean_pages(self.get, api, path, max_results=max_results, params=params)


def _failed(raw: urllib3.BaseHTTPResponse, missing_ok: bool) -> bool:
    """Whether an answer ends a batch of reads: an error status, except a 404 when `missing_ok`."""
    return raw.status >= 400 and not (missing_ok and raw.status == 404)


def _token_refused(answer: urllib3.BaseHTTPResponse | SiteError | None) -> bool:
    return isinstance(answer, urllib3.BaseHTTPResponse) and answer.status == 401


def _bearer(signed: Mapping[str, str]) -> str:
    return signed["Authorization"].removeprefix("Bearer ")


class _Stop(Exception):
    """Ends a batch of reads at its first error."""


def _with_query(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    # As requests sent them: None leaves a parameter out, a list repeats it.
    return url + "?" + urlencode([(k, v) for k, v in params.items() if v is not None], doseq=True)


class _Headers(dict[str, str]):
    """Every request's headers. They carry the credentials, so their repr does not show them."""

    def __repr__(self) -> str:
        return "<request headers>"


class _Secrets(list[str]):
    """What to blank out of texts. Its repr does not show them."""

    def __repr__(self) -> str:
        return "<secrets>"


def _headers(credentials: Credentials) -> _Headers:
    headers = _Headers(
        {"Accept": "application/json", "Accept-Encoding": "gzip, deflate", "User-Agent": "jsm-reconciler"}
    )
    if credentials.client_id is not None:
        return headers  # the Bearer token is fetched with the client credentials, at the first request
    if credentials.bearer:
        headers["Authorization"] = f"Bearer {credentials.secret}"
    else:
        pair = f"{credentials.email or ''}:{credentials.secret}".encode("latin-1")
        headers["Authorization"] = f"Basic {base64.b64encode(pair).decode()}"
    return headers
