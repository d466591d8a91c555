"""The HTTP client for the three API families. The only module that speaks HTTP (through urllib3, and
site/aio.py for the event loop's wire).

- auth: Basic (email, API token) or Bearer; the secret never appears in output or exceptions;
- routing: Jira at the site URL for a classic API token, through the API gateway for OAuth and scoped
  tokens (the site URL answers 401 to those); CSM and Ops always through the gateway, with the
  experimental opt-in header their documents ask for;
- retries: 429 and 5xx with Retry-After honoured up to a bound (a long wait is announced), otherwise
  jittered exponential backoff, bounded, through urllib3's Retry; only idempotent methods are retried
  after the request may have reached the server, so a POST is never blindly sent twice (kinds check
  whether a create landed instead); a name that does not resolve or a refused TLS handshake is not
  retried at all;
- one adaptive concurrency limit shared by every request (reads and apply alike);
- Ctrl-C (`interrupt`) ends every wait of the client in every thread within a fraction of a second, and no
  request is sent after it (reconciler/interruption.py);
- pagination in the three styles the APIs use;
- many GETs at once (`get_each`, the per-object reads) on one event loop (site/aio.py), with the same retry
  policy, limit and error messages: a thread per request in flight cost a plan more CPU than all else;
- errors mapped to SiteError with the API's own error text and the endpoint, never the credentials.

It calls urllib3 directly rather than through requests: requests cost about half a millisecond of CPU per
request on top (reading the proxy environment, preparing, hooks, cookies), a third of a plan's CPU. What
requests did for us is kept: the proxy and CA bundle environment variables, Basic auth, the credentials of
a proxy URL (`http://user:password@host:port`) sent as Proxy-Authorization, which urllib3 leaves out.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.client import HTTPException, LineTooLong
from typing import Any, Protocol, Self, TypeVar
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit
from urllib.request import getproxies, proxy_bypass

import certifi
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.exceptions import SSLError as TlsError
from urllib3.util.retry import Retry

from reconciler.errors import ConfigError, RetryableSiteError, SiteError, TerminalSiteError
from reconciler.interruption import pause, thread_pool
from reconciler.redaction import basic_auth_secrets, redactor
from reconciler.site import aio, oauth
from reconciler.site.api import Api, Response
from reconciler.site.config import DEFAULT_MAX_RETRY_AFTER_S, Credentials, check_url_allowed, is_loopback
from reconciler.site.limiter import AdaptiveLimit

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE", "PATCH"})  # PATCH: we always send the whole state
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REQUEST_ID_HEADERS = ("x-arequestid", "atl-traceid", "x-request-id", "x-b3-traceid")
RATE_LIMIT_HEADERS = ("X-RateLimit-Reset", "RateLimit-Reason")
# The CSM document asks for this header on experimental methods (412 without it); the Ops custom-role
# page marks every operation experimental. Sent on every CSM and Ops request.
EXPERIMENTAL_OPT_IN = {"X-ExperimentalApi": "opt-in"}
LONG_WAIT_S = 10.0  # a Retry-After wait at least this long is announced
OPS_ENDPOINT = "/jsm/ops/"
# JSDCLOUD-17685: Atlassian's "Current State" and workaround, said when Ops refuses a service account.
SERVICE_ACCOUNT_OPS_HINT = (
    " (service accounts, which sign in with OAuth client credentials or API tokens with scopes, cannot "
    "call JSM Operations (Atlassian's JSDCLOUD-17685), which customRoles and teamRoles need: sign in as "
    "an ordinary account with JSM agent access, or leave customRoles and teamRoles out of the manifests)"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PROXY_SCHEMES = ("http", "https")  # what urllib3 can go through: SOCKS would need another library


class Transport(Protocol):
    """What sends a request: urllib3's PoolManager, or in tests a WSGI app called in-process."""

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: urllib3.Timeout,
        redirect: bool,
    ) -> urllib3.BaseHTTPResponse: ...

    def clear(self) -> None: ...


@dataclass(frozen=True)
class ClientSettings:
    concurrency: int = 4
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    max_retries: int = 5
    backoff_s: float = 1.0
    backoff_max_s: float = 30.0
    retry_after_max_s: int = DEFAULT_MAX_RETRY_AFTER_S
    # Where a long wait is announced (the CLI's stderr), and how to wait (tests wait for nothing).
    notify: Callable[[str], None] | None = field(default=None, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)  # when a token runs out


class _ThrottleAwareRetry(Retry):
    """urllib3's Retry, telling the shared concurrency limit about every 429 it sees, announcing long
    Retry-After waits, and never retrying what waiting cannot fix."""

    on_throttle: Callable[[], None] | None = None
    notify: Callable[[str], None] | None = None
    sleeper: Callable[[float], None] = staticmethod(time.sleep)

    def new(self, **kw: Any) -> Self:
        retry = super().new(**kw)
        retry.on_throttle = self.on_throttle
        retry.notify = self.notify
        retry.sleeper = self.sleeper
        return retry

    def wait_for(self, response: urllib3.BaseHTTPResponse | None = None) -> float:
        """How long to wait before the next try, as urllib3's `sleep` decides it: the Retry-After the answer
        asks for (bounded by retry_after_max, and announced when long), else the backoff."""
        if self.respect_retry_after_header and response is not None:
            wait = self.get_retry_after(response)
            if wait:
                if wait >= LONG_WAIT_S and self.notify is not None:
                    self.notify(
                        f"The site answered {response.status} and asks to wait: retrying in {wait:g} s "
                        f"(JSM_MAX_RETRY_AFTER bounds the wait, now {self.retry_after_max} s)."
                    )
                return wait
        return self.get_backoff_time()

    def sleep(self, response: urllib3.BaseHTTPResponse | None = None) -> None:
        wait = self.wait_for(response)
        if wait > 0:
            self.sleeper(wait)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        # A 429 means the request was refused before it was processed: safe to send again, POST too.
        if status_code == 429 and self.total:
            return True
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, method: str | None = None, url: str | None = None, *args: Any, **kw: Any) -> Self:
        response = kw.get("response")
        if response is not None and response.status == 429 and self.on_throttle is not None:
            self.on_throttle()
        error = kw.get("error")
        if isinstance(error, NameResolutionError | TlsError):
            # A mistyped host or a refused certificate stays so: give up at once, as urllib3 does when
            # retries run out.
            raise MaxRetryError(kw["_pool"], url or "", error) from error
        return super().increment(method, url, *args, **kw)


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
        self._proxies = {base: _proxy_for(base) for base in (self.site_url, self.api_base)}
        secrets = basic_auth_secrets(credentials.email or "", credentials.secret)
        proxy_secrets = [secret for proxy in self._proxies.values() if proxy for secret in proxy.secrets]
        self._secrets = _Secrets([*(secrets[:1] if credentials.bearer else secrets), *proxy_secrets])
        self._redact = redactor(self._secrets)
        self._auth_hint = _auth_hint(credentials)
        self._service_account = credentials.service_account
        self._headers = _headers(credentials)
        self._anonymous_headers = _Headers({k: v for k, v in self._headers.items() if k != "Authorization"})
        self._token_url = credentials.auth_base + oauth.TOKEN_PATH
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
        self._retry = self._new_retry()
        self._transports: dict[str, Transport] = {
            base: transport or self._new_pool(proxy) for base, proxy in self._proxies.items()
        }
        # The per-object reads run on an event loop (site/aio.py), started at the first. Through a proxy they
        # go through urllib3's pools like every other request, and a test's transport answers them one by one.
        self._reads_on_loop = transport is None and not any(self._proxies.values())
        self._event_loop: aio.EventLoop | None = None
        self._event_loop_lock = threading.Lock()
        self._cloud_id = cloud_id
        self._cloud_id_lock = threading.Lock()
        self._last = threading.local()

    def _new_retry(self) -> _ThrottleAwareRetry:
        """The retry policy of every request, through urllib3's pools or the event loop."""
        retry = _ThrottleAwareRetry(
            total=self.settings.max_retries,
            connect=self.settings.max_retries,
            read=self.settings.max_retries,
            status=self.settings.max_retries,
            other=0,
            allowed_methods=IDEMPOTENT_METHODS,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.settings.backoff_s,
            backoff_max=self.settings.backoff_max_s,
            backoff_jitter=self.settings.backoff_s,
            respect_retry_after_header=True,
            retry_after_max=self.settings.retry_after_max_s,
            raise_on_status=False,
            redirect=0,
        )
        retry.on_throttle = self.limit.throttled
        retry.notify = self._announce
        retry.sleeper = self._pause
        return retry

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

    def _new_pool(self, proxy: Proxy | None) -> urllib3.PoolManager:
        """Connections to one base URL, through `proxy`, the one the environment names for it."""
        size = self.settings.concurrency * 2
        options: dict[str, Any] = {"num_pools": size, "maxsize": size, "retries": self._retry}
        bundle = _ca_bundle()
        options.update({"ca_cert_dir": bundle} if os.path.isdir(bundle) else {"ca_certs": bundle})
        if proxy is None:
            return urllib3.PoolManager(**options)
        return urllib3.ProxyManager(proxy.url, proxy_headers=proxy.headers, **options)

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
        endpoint = f"{method} {_display_path(api, path)}"
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
            (_with_query(self.url(api, path), params), f"GET {_display_path(api, path)}") for path in paths
        ]
        signed = self._signed_headers()
        headers = {**signed, **EXPERIMENTAL_OPT_IN} if api is not Api.JIRA else signed
        answers: list[urllib3.BaseHTTPResponse | SiteError | None]
        if self._reads_on_loop:
            reads = self._get_all(requests, aio.header_lines(headers), missing_ok)
            answers = self._loop().run(reads, interrupted=self._was_interrupted)
        else:  # a test's transport answers in the calling thread, one request after the other
            answers = [None] * len(requests)
            for index, (url, endpoint) in enumerate(requests):
                raw = self._exchange("GET", url, endpoint, None, headers)
                answers[index] = raw
                if _failed(raw, missing_ok):
                    break
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
                    ca_bundle=_ca_bundle(),
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
        base = self._anonymous_headers if anonymous else self._signed_headers()
        sent: Mapping[str, str] = {**base, **headers} if headers else base
        body = None
        if json_body is not None:
            sent = {**sent, "Content-Type": "application/json"}
            body = json.dumps(json_body, allow_nan=False).encode()
        raw = self._exchange(method, _with_query(url, params), endpoint, body, sent)
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
        transport = self._transports[self.api_base if url.startswith(self.api_base) else self.site_url]
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

    def _count_request(self) -> None:
        with self._count_lock:
            self.request_count += 1

    def _unreachable(self, endpoint: str, url: str, exc: HTTPError | OSError) -> SiteError:
        cause = exc.reason if isinstance(exc, MaxRetryError) else exc
        proxy = self._proxies.get(self.api_base if url.startswith(self.api_base) else self.site_url)
        if isinstance(cause, ProxyError) and proxy is not None:
            return RetryableSiteError(_proxy_failure(endpoint, cause, proxy), endpoint=endpoint)
        lasting = _lasting_failure(exc)
        if lasting is not None:
            host = urlsplit(url).hostname
            message = f"{endpoint}: {lasting} {host}; check JSM_SITE and JSM_API_BASE"
            return TerminalSiteError(message, endpoint=endpoint)
        return RetryableSiteError(self._network_failure(endpoint, exc), endpoint=endpoint)

    def _account(self, method: str, raw: urllib3.BaseHTTPResponse) -> None:
        """Tells the shared limit how the site took the request."""
        if raw.status == 429 and not _seen_by_retry(raw, method):
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
        answer = _parse_body(raw, endpoint)
        if raw.status in REDIRECT_STATUSES and "location" in raw.headers:
            # Following it would send the credentials to wherever it points, perhaps over plain http.
            raise TerminalSiteError(
                f"{endpoint}: the site redirected to {raw.headers.get('Location', '?')}; redirects are not "
                "followed: check JSM_SITE and JSM_API_BASE",
                endpoint=endpoint,
                status=raw.status,
            )
        if raw.status >= 400:
            note = ""
            if raw.status in RETRY_STATUSES:
                retries = _retries_made(raw)
                quoted = [
                    f"{h}: {self._redact(_header_text(raw.headers[h]))}"
                    for h in RATE_LIMIT_HEADERS
                    if h in raw.headers
                ]
                said = ([f"gave up after {retries} retries"] if retries else []) + quoted
                note = f" ({'; '.join(said)})" if said else ""
            hint = self._auth_hint if raw.status == 401 else ""
            if raw.status in (401, 403) and self._service_account and OPS_ENDPOINT in endpoint:
                hint = SERVICE_ACCOUNT_OPS_HINT
            reason = raw.reason or ""
            raise _error_for(raw.status, reason, answer, endpoint, request_id, self._redact, note, hint)
        return Response(raw.status, answer, request_id)

    def _network_failure(self, endpoint: str, exc: HTTPError | OSError) -> str:
        """What went wrong, from urllib3's exception; never its text, which may carry the URL."""
        exhausted = isinstance(exc, MaxRetryError)
        cause: BaseException = (exc.reason or exc) if isinstance(exc, MaxRetryError) else exc
        gave_up = f" (gave up after {self.settings.max_retries} retries)" if exhausted else ""
        if isinstance(cause, ResponseError):
            return f"{endpoint}: gave up after {self.settings.max_retries} retries"
        if isinstance(cause, ReadTimeoutError):
            return f"{endpoint}: no answer within {self.settings.read_timeout_s:g} s{gave_up}"
        if isinstance(cause, ConnectTimeoutError) and not isinstance(cause, NewConnectionError):
            return f"{endpoint}: could not connect within {self.settings.connect_timeout_s:g} s{gave_up}"
        if isinstance(cause, ProtocolError):
            over = _over_head_limits(cause)
            if over is not None:
                return f"{endpoint}: the answer's headers are too many or too long ({over}){gave_up}"
            return f"{endpoint}: the connection broke before the answer came{gave_up}"
        if isinstance(cause, DecodeError):  # not retried: the same body would come again
            return f"{endpoint}: the answer's body does not decode as its Content-Encoding says"
        return f"{endpoint}: could not reach the site ({type(cause).__name__}){gave_up}"

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

    # --- pagination -------------------------------------------------------------------------------

    def paginate_cursor(self, api: Api, path: str, *, limit: int, key: str = "results") -> Iterator[Any]:
        """CSM style: `limit` + `cursor`, until `nextPageCursor` is absent or `hasNextPage` is false (the
        document requires it without defining it: honoured when it is there, not relied on)."""
        params: dict[str, Any] = {"limit": limit}
        endpoint = f"GET {_display_path(api, path)}"
        seen: set[str] = set()
        while True:
            page = self.get(api, path, params)
            yield from _list_field(page, key, endpoint)
            cursor = page.get("nextPageCursor")
            if cursor is not None and not isinstance(cursor, str):
                raise TerminalSiteError(
                    f"{endpoint}: the response's nextPageCursor is not a string", endpoint=endpoint
                )
            if not cursor or page.get("hasNextPage") is False:
                return
            _check_next(cursor, seen, "nextPageCursor", endpoint)
            params = {"limit": limit, "cursor": cursor}

    def paginate_links(self, api: Api, path: str, *, size: int) -> Iterator[Any]:
        """Ops style: `offset` + `size`, following `links.next` (relative to the API root). The document
        states no rule for the last page, and its example has `next` equal to `last` there (API-FACTS.md
        section 7): the read stops at an empty page, at a `next` it has read already, or without `next`."""
        params: dict[str, Any] = {"offset": 0, "size": size}
        endpoint = f"GET {_display_path(api, path)}"
        read: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        while True:
            read.add(_page_key(path, params))
            page = self.get(api, path, params)
            values = _list_field(page, "values", endpoint)
            yield from values
            links = page.get("links") or {}
            if not isinstance(links, dict):
                raise TerminalSiteError(
                    f"{endpoint}: the response's links is not an object", endpoint=endpoint
                )
            next_link = links.get("next")
            if next_link is not None and not isinstance(next_link, str):
                raise TerminalSiteError(
                    f"{endpoint}: the response's links.next is not a string", endpoint=endpoint
                )
            if not values or not next_link:
                return
            parts = urlsplit(next_link)
            next_path = parts.path.removeprefix("/v1") if parts.path.startswith("/v1") else path
            next_params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            if _page_key(next_path, next_params) in read:
                return
            path, params = next_path, next_params

    def paginate_page_bean(
        self, api: Api, path: str, *, max_results: int, params: Mapping[str, Any] | None = None
    ) -> Iterator[Any]:
        """Jira PageBean style: `startAt` + `maxResults`, until `isLast`."""
        start = 0
        while True:
            page = self.get(api, path, {**(params or {}), "startAt": start, "maxResults": max_results})
            values = _list_field(page, "values", f"GET {_display_path(api, path)}")
            yield from values
            if page.get("isLast", True) or not values:
                return
            start += len(values)


def _failed(raw: urllib3.BaseHTTPResponse, missing_ok: bool) -> bool:
    """Whether an answer ends a batch of reads: an error status, except a 404 when `missing_ok`."""
    return raw.status >= 400 and not (missing_ok and raw.status == 404)


class _Stop(Exception):
    """Ends a batch of reads at its first error."""


def _with_query(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    # As requests sent them: None leaves a parameter out, a list repeats it.
    return url + "?" + urlencode([(k, v) for k, v in params.items() if v is not None], doseq=True)


def _display_path(api: Api, path: str) -> str:
    prefix = {Api.JIRA: "/rest/api/3", Api.CSM: "/jsm/csm/.../api/v1", Api.OPS: "/jsm/ops/.../v1"}[api]
    return prefix + path


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


@dataclass(frozen=True)
class Proxy:
    """A proxy the environment names: where it is, the Proxy-Authorization its URL's credentials make, and
    how messages show it (with the variable that named it, and never its password)."""

    url: str  # scheme, host and port only
    headers: dict[str, str]
    shown: str  # e.g. HTTPS_PROXY=http://user:***@proxy.example:3128
    secrets: tuple[str, ...]  # the password and the header's value, for the redactor


def _proxy_for(base: str) -> Proxy | None:
    """The proxy the environment names for a base URL, as requests chose it; none for a loopback address
    (the sandbox), which a proxy cannot reach on this machine (Go's http.ProxyFromEnvironment decides so)."""
    parts = urlsplit(base)
    host = parts.hostname or ""
    proxies = getproxies()
    scheme = parts.scheme if proxies.get(parts.scheme) else "all"
    value = proxies.get(scheme)
    if not value or is_loopback(host) or proxy_bypass(host):
        return None
    named = f"{scheme}_proxy"
    variable = next((k for k, v in os.environ.items() if k.lower() == named and v == value), named.upper())
    return parse_proxy(value, variable)


def parse_proxy(value: str, variable: str) -> Proxy:
    """The proxy in `variable`'s `value`; a ConfigError for one urllib3 cannot use. Without a scheme it is
    an http:// proxy, as for requests and curl."""
    parts = urlsplit(value if "://" in value else f"http://{value}")
    userinfo, at, host_port = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    shown = f"{variable}={parts.scheme}://{user}{':***' if colon else ''}{at}{host_port}"
    if parts.scheme.lower() not in PROXY_SCHEMES:
        raise ConfigError(
            f"{shown}: a {parts.scheme}:// proxy is not supported; name an http:// or https:// proxy "
            "(one that takes CONNECT)"
        )
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise ConfigError(f"{shown}: the proxy's port is not a number") from None
    if not parts.hostname:
        raise ConfigError(f"{shown}: the proxy URL names no host")
    headers: dict[str, str] = {}
    secrets: tuple[str, ...] = ()
    if at:
        pair = f"{unquote(user)}:{unquote(password)}".encode()
        headers["Proxy-Authorization"] = f"Basic {base64.b64encode(pair).decode()}"
        secrets = (unquote(password), password, headers["Proxy-Authorization"].removeprefix("Basic "))
    return Proxy(urlunsplit((parts.scheme, host_port, "", "", "")), headers, shown, secrets)


def _proxy_failure(endpoint: str, error: ProxyError, proxy: Proxy) -> str:
    """Why the proxy did not take the request through: the proxy's own status line when it refused the
    tunnel (only the type of any other failure, whose text may carry addresses)."""
    original = error.original_error
    said = _header_text(str(original)) if type(original) is OSError else type(original).__name__
    hint = "; check the user and password in the proxy URL" if " 407 " in f"{said} " else ""
    return f"{endpoint}: could not go through the proxy {proxy.shown} ({said}){hint}"


def _ca_bundle() -> str:
    """The certificates to trust (a file or a directory): requests' environment variables, else certifi's
    bundle, as requests did."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()


def _parse_body(raw: urllib3.BaseHTTPResponse, endpoint: str) -> Any:
    data = raw.data
    if raw.status == 204 or not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        if raw.status < 400:
            raise TerminalSiteError(
                f"{endpoint}: the site answered {raw.status} with a body that is not JSON",
                endpoint=endpoint,
                status=raw.status,
            ) from None
        return data.decode("utf-8", "replace")[:500]


def _check_next(token: Any, seen: set[str], what: str, endpoint: str) -> None:
    """A next-page cursor or link must be a string that was not followed before: a site that sends
    the same one again would otherwise be read forever."""
    if not isinstance(token, str):
        raise TerminalSiteError(f"{endpoint}: the response's {what} is not a string", endpoint=endpoint)
    if token in seen:
        raise TerminalSiteError(
            f"{endpoint}: the response's {what} repeats an earlier page; pagination does not advance",
            endpoint=endpoint,
        )
    seen.add(token)


def _page_key(path: str, params: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A page as a request names it, whatever the order of its parameters."""
    return path, tuple(sorted((str(k), str(v)) for k, v in params.items()))


def _list_field(page: Any, key: str, endpoint: str) -> list[Any]:
    values = page.get(key) if isinstance(page, dict) else None
    if not isinstance(values, list):
        raise TerminalSiteError(f"{endpoint}: the response has no list {key!r}", endpoint=endpoint)
    return values


def api_error_text(body: Any) -> str:
    """The API's own words, from any of the three families' error bodies."""
    if isinstance(body, str):
        return body.strip()
    if not isinstance(body, dict):
        return ""
    parts: list[str] = []
    parts += [str(m) for m in body.get("errorMessages") or [] if m]  # Jira
    errors = body.get("errors")
    if isinstance(errors, dict):  # Jira field errors
        parts += [f"{k}: {v}" for k, v in errors.items()]
    elif isinstance(errors, list):  # Ops ({title, detail|code}) and CSM (keys)
        for item in errors:
            if isinstance(item, dict):
                parts.append(" ".join(str(item[k]) for k in ("title", "detail") if item.get(k)))
            elif item:
                parts.append(str(item))
    for key in ("errorMessage", "message"):  # CSM, Ops 401 and Opsgenie-era bodies
        if isinstance(body.get(key), str) and body[key] not in parts:
            parts.insert(0, body[key])
    return "; ".join(p for p in parts if p)


def _seen_by_retry(raw: urllib3.BaseHTTPResponse, method: str) -> bool:
    """Whether urllib3's Retry handled this final answer (retried it until it ran out), exactly as
    urllib3 decides it in `urlopen`."""
    retries = raw.retries
    has_retry_after = bool(raw.headers.get("Retry-After"))
    return isinstance(retries, Retry) and retries.is_retry(method, raw.status, has_retry_after)


def _retries_made(raw: urllib3.BaseHTTPResponse) -> int:
    retries = raw.retries
    return len(retries.history) if isinstance(retries, Retry) else 0


def _lasting_failure(exc: HTTPError | OSError) -> str | None:
    """What no retry can fix (the retry policy gave up on it at once), as the start of a sentence that
    names the host: a name that does not resolve, a refused TLS handshake."""
    cause = exc.reason if isinstance(exc, MaxRetryError) else exc
    if isinstance(cause, NameResolutionError):
        return "the host name does not resolve (DNS):"
    if isinstance(cause, TlsError):
        return "the TLS handshake failed (certificate or protocol) with"
    return None


def _over_head_limits(error: ProtocolError) -> str | None:
    """What limit of http.client's an answer's head broke (site/aio.py raises the same), if that is why."""
    inner = error.args[1] if len(error.args) > 1 else None
    return str(inner) if type(inner) in (HTTPException, LineTooLong) else None


def _header_text(value: str) -> str:
    """A header value the site sent, safe to quote in one line."""
    return "".join(c for c in value if c.isprintable())[:80]


def _auth_hint(credentials: Credentials) -> str:
    """What to check after a 401, for the credentials in use: always one line."""
    if credentials.client_id is not None:
        return " (check JSM_OAUTH_CLIENT_ID, JSM_OAUTH_CLIENT_SECRET and JSM_AUTH_BASE)"
    if credentials.bearer:
        return " (check JSM_OAUTH_TOKEN: it may have expired; or sign in with JSM_EMAIL and JSM_API_TOKEN)"
    if credentials.scoped:
        return " (check JSM_EMAIL, JSM_API_TOKEN and the token's scopes, or use JSM_OAUTH_TOKEN)"
    return (
        " (check JSM_EMAIL and JSM_API_TOKEN, or JSM_OAUTH_TOKEN; "
        "an API token with scopes needs JSM_SCOPED_TOKEN=1)"
    )


def _error_for(
    status: int,
    reason: str,
    body: Any,
    endpoint: str,
    request_id: str | None,
    redact: Callable[[str], str] = lambda text: text,
    note: str = "",
    auth_hint: str = "",
) -> SiteError:
    detail = redact(api_error_text(body))
    refused = " (the account lacks the permission or the token lacks the scope)" if status == 403 else ""
    hint = auth_hint or refused
    message = f"{endpoint}: {status} {reason}{': ' + detail if detail else ''}{hint}{note}"
    cls = RetryableSiteError if status in RETRY_STATUSES else TerminalSiteError
    return cls(message, endpoint=endpoint, status=status, detail=detail, request_id=request_id)
