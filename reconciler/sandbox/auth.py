"""The sandbox's OAuth 2.0 token endpoint for a service account's client credentials.

Atlassian serves it at `https://auth.atlassian.com/oauth/token` (API-FACTS.md section 7); the sandbox serves
it at its own root, `/oauth/token`, like every other base URL it stands in for: JSM_AUTH_BASE, like
JSM_SITE and JSM_API_BASE, is the sandbox's URL. An access token is valid 60 minutes, has no refresh token,
and is accepted as Bearer through the API gateway. Tokens are signed rather than stored, so any process that
serves the same sandbox accepts them.

Errors follow OAuth 2.0 (RFC 6749, section 5.2): `{"error", "error_description"}`, not a family's body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl

from reconciler.sandbox.common import Ctx, Reply, Route

TOKEN_PATH = "/oauth/token"
SANDBOX_OAUTH_CLIENT_ID = "sandbox-oauth-client-id"
SANDBOX_OAUTH_CLIENT_SECRET = "sandbox-oauth-client-secret"
TOKEN_LIFETIME_S = 3600
_PREFIX = "sandbox-access-token"
_KEY = hashlib.sha256(f"{SANDBOX_OAUTH_CLIENT_ID}:{SANDBOX_OAUTH_CLIENT_SECRET}".encode()).digest()


def _signature(expires: str, nonce: str) -> str:
    return hmac.new(_KEY, f"{expires}.{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def issue_token(now: float) -> str:
    expires, nonce = str(int(now) + TOKEN_LIFETIME_S), secrets.token_hex(8)
    return f"{_PREFIX}.{expires}.{nonce}.{_signature(expires, nonce)}"


def is_issued_token(token: str, now: float) -> bool:
    """Whether the sandbox issued this access token, and it has not expired."""
    prefix, _, rest = token.partition(".")
    expires, _, rest = rest.partition(".")
    nonce, _, signature = rest.partition(".")
    if prefix != _PREFIX or not expires.isdigit():
        return False
    return hmac.compare_digest(signature, _signature(expires, nonce)) and now < int(expires)


def is_client_credentials_bearer(header: str | None) -> bool:
    """Whether an Authorization header carries a token issued for client credentials (a service account)."""
    scheme, _, token = (header or "").partition(" ")
    return scheme.lower() == "bearer" and token.strip().startswith(f"{_PREFIX}.")


def _refused(status: int, error: str, description: str) -> Reply:
    return Reply(status, {"error": error, "error_description": description})


def _fields(ctx: Ctx) -> Mapping[str, str] | None:
    """The request's fields: a JSON object (as Atlassian's examples send) or a form (RFC 6749)."""
    text = ctx.body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else None
    return dict(parse_qsl(text))


def post_token(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    fields = _fields(ctx)
    if fields is None:
        return _refused(400, "invalid_request", "The request body is neither JSON nor a form.")
    if fields.get("grant_type") != "client_credentials":
        return _refused(400, "unsupported_grant_type", "Only client_credentials is supported here.")
    client_id, client_secret = fields.get("client_id", ""), fields.get("client_secret", "")
    known = hmac.compare_digest(client_id.encode(), SANDBOX_OAUTH_CLIENT_ID.encode()) and hmac.compare_digest(
        client_secret.encode(), SANDBOX_OAUTH_CLIENT_SECRET.encode()
    )
    if not known:
        return _refused(401, "access_denied", "Unauthorized")
    body = {
        "access_token": issue_token(time.time()),
        "expires_in": TOKEN_LIFETIME_S,
        "token_type": "Bearer",
        "scope": "read:jira-work manage:jira-configuration read:servicedesk-request",
    }
    return Reply(200, body)


ROUTES: tuple[Route, ...] = (Route(TOKEN_PATH, ("POST",), post_token, read_only=True),)
