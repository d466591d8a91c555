"""A service account's OAuth 2.0 client credentials (CLI.md, "Site and credentials"): the client id and secret
are exchanged at `JSM_AUTH_BASE/oauth/token` for an access token, valid 60 minutes with no refresh token
(API-FACTS.md section 7), which is sent as Bearer; it is fetched again before it runs out.

This module holds no HTTP: the client (site/http.py) gives it the function that posts the exchange, so the
exchange goes through the same retries, limits, redaction and error messages as every other request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import TerminalSiteError
from reconciler.redaction import MIN_SECRET_LENGTH

TOKEN_PATH = "/oauth/token"
TOKEN_ENDPOINT = f"POST {TOKEN_PATH}"
DEFAULT_LIFETIME_S = 3600  # "valid for 60 minutes", when the answer leaves out expires_in
# Fetched again this long before it runs out, so that a request seldom starts with a token about to expire;
# one that outlives it anyway (a long Retry-After wait, a skewed clock) is answered 401, and the client then
# asks for a new token and sends the request once more (renew).
RENEW_BEFORE_S = 300


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    secret: str = field(repr=False)


Exchange = Callable[[dict[str, str]], Any]  # posts the body to the token URL, returns the answer's body


class AccessTokens:
    """The current access token, fetched at first use and again before it expires. Thread-safe."""

    def __init__(
        self,
        credentials: ClientCredentials,
        exchange: Exchange,
        *,
        clock: Callable[[], float],
        issued: Callable[[str], None],
    ) -> None:
        """`issued` learns each new token, so that every text the client shows can blank it."""
        self._credentials = credentials
        self._exchange = exchange
        self._clock = clock
        self._issued = issued
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    def __repr__(self) -> str:
        return f"<access tokens of {self._credentials.client_id}>"

    def current(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def renew(self, refused: str) -> None:
        """The site refused this token: a new one, unless another thread has already fetched it."""
        with self._lock:
            if self._token == refused:
                self._fetch()

    def _fetch(self) -> None:
        asked = self._clock()
        body = {
            "grant_type": "client_credentials",
            "client_id": self._credentials.client_id,
            "client_secret": self._credentials.secret,
        }
        answer = self._exchange(body)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or len(token) < MIN_SECRET_LENGTH or not _header_safe(token):
            raise TerminalSiteError(
                f"{TOKEN_ENDPOINT}: the answer holds no usable access_token; check JSM_AUTH_BASE",
                endpoint=TOKEN_ENDPOINT,
            )
        self._issued(token)
        lifetime = answer.get("expires_in", DEFAULT_LIFETIME_S)
        if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
            lifetime = DEFAULT_LIFETIME_S
        self._token = token
        # Timed from the moment it was asked for: the site's 60 minutes started no later than that.
        self._renew_at = asked + max(lifetime - RENEW_BEFORE_S, lifetime / 2)


def _header_safe(token: str) -> bool:
    return token.isascii() and token.isprintable() and " " not in token
