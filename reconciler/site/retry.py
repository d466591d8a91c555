"""The retry policy of every request, through urllib3's pools or the event loop (site/aio.py).

429 and 5xx are retried with Retry-After honoured up to a bound (a long wait is announced), otherwise with
jittered exponential backoff, bounded; only idempotent methods are retried after the request may have reached
the server, so a POST is never blindly sent twice (the kinds check whether a create landed instead); a name
that does not resolve or a refused TLS handshake is not retried at all. Every 429 tells the shared
concurrency limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Self

import urllib3
from urllib3.exceptions import InvalidHeader, MaxRetryError, NameResolutionError
from urllib3.exceptions import SSLError as TlsError
from urllib3.util.retry import Retry

from reconciler.site.settings import ClientSettings

IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE", "PATCH"})  # PATCH: we always send the whole state
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
LONG_WAIT_S = 10.0  # a Retry-After wait at least this long is announced


class ThrottleAwareRetry(Retry):
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
        asks for (bounded by retry_after_max, and announced when long), else the backoff. A Retry-After that
        is neither whole seconds nor a date (`1.5`) counts as absent: urllib3 would raise on it."""
        if self.respect_retry_after_header and response is not None:
            try:
                wait = self.get_retry_after(response)
            except InvalidHeader:
                wait = None
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


def retry_policy(
    settings: ClientSettings,
    *,
    on_throttle: Callable[[], None],
    notify: Callable[[str], None],
    sleeper: Callable[[float], None],
) -> ThrottleAwareRetry:
    """The retry policy of every request, through urllib3's pools or the event loop: `on_throttle` hears
    each 429, `notify` each long wait, and `sleeper` waits."""
    retry = ThrottleAwareRetry(
        total=settings.max_retries,
        connect=settings.max_retries,
        read=settings.max_retries,
        status=settings.max_retries,
        other=0,
        allowed_methods=IDEMPOTENT_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=settings.backoff_s,
        backoff_max=settings.backoff_max_s,
        backoff_jitter=settings.backoff_s,
        respect_retry_after_header=True,
        retry_after_max=settings.retry_after_max_s,
        raise_on_status=False,
        redirect=0,
    )
    retry.on_throttle = on_throttle
    retry.notify = notify
    retry.sleeper = sleeper
    return retry


def seen_by_retry(raw: urllib3.BaseHTTPResponse, method: str) -> bool:
    """Whether urllib3's Retry handled this final answer (retried it until it ran out), exactly as
    urllib3 decides it in `urlopen`."""
    retries = raw.retries
    has_retry_after = bool(raw.headers.get("Retry-After"))
    return isinstance(retries, Retry) and retries.is_retry(method, raw.status, has_retry_after)


def retries_made(raw: urllib3.BaseHTTPResponse) -> int:
    retries = raw.retries
    return len(retries.history) if isinstance(retries, Retry) else 0
