"""What an answer means: its body, and for anything but a 2xx, or no answer at all, the SiteError that says
why: the API's own error text, the endpoint, a hint at what to check, and never the credentials.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http.client import HTTPException, LineTooLong
from typing import Any

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.exceptions import SSLError as TlsError

from reconciler.errors import RetryableSiteError, SiteError, TerminalSiteError
from reconciler.site.config import Credentials
from reconciler.site.retry import RETRY_STATUSES, retries_made
from reconciler.site.settings import ClientSettings

REQUEST_ID_HEADERS = ("x-arequestid", "atl-traceid", "x-request-id", "x-b3-traceid")
RATE_LIMIT_HEADERS = ("X-RateLimit-Reset", "RateLimit-Reason")
OPS_ENDPOINT = "/jsm/ops/"
# The second way out when nothing better is known; a command that knows why it read the Ops kinds (export's
# --kind, settings.prune, a policy) puts its own in its place (cli/site.py, ops_refusal_with).
OPS_WAY_OUT = "leave customRoles and teamRoles out of the manifests"
# JSDCLOUD-17685: Atlassian's "Current State" and workaround, said when Ops refuses a service account.
SERVICE_ACCOUNT_OPS_HINT = (
    " (service accounts, which sign in with OAuth client credentials or API tokens with scopes, cannot "
    "call JSM Operations (Atlassian's JSDCLOUD-17685), which customRoles and teamRoles need: sign in as "
    f"an ordinary account with JSM agent access, or {OPS_WAY_OUT}; "
    "an ordinary account's API token with scopes needs read:ops-config:jira-service-management, and "
    "write:ops-config:jira-service-management and delete:ops-config:jira-service-management to apply)"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def refusal(
    raw: urllib3.BaseHTTPResponse,
    endpoint: str,
    body: Any,
    request_id: str | None,
    redact: Callable[[str], str],
    hint_401: str,
    service_account: bool,
) -> SiteError | None:
    """Why an answer is no success, or None for one: a redirect, which is never followed, or an error status
    (with the retries made, the rate-limit headers, and `hint_401` after a 401)."""
    if raw.status in REDIRECT_STATUSES and "location" in raw.headers:
        # Following it would send the credentials to wherever it points, perhaps over plain http.
        return TerminalSiteError(
            f"{endpoint}: the site redirected to {raw.headers.get('Location', '?')}; redirects are not "
            "followed: check JSM_SITE and JSM_API_BASE",
            endpoint=endpoint,
            status=raw.status,
        )
    if raw.status < 400:
        return None
    note = ""
    if raw.status in RETRY_STATUSES:
        retries = retries_made(raw)
        quoted = [
            f"{h}: {redact(header_text(raw.headers[h]))}" for h in RATE_LIMIT_HEADERS if h in raw.headers
        ]
        said = ([f"gave up after {retries} retries"] if retries else []) + quoted
        note = f" ({'; '.join(said)})" if said else ""
    hint = hint_401 if raw.status == 401 else ""
    if raw.status in (401, 403) and service_account and OPS_ENDPOINT in endpoint:
        hint = SERVICE_ACCOUNT_OPS_HINT
    return error_for(raw.status, raw.reason or "", body, endpoint, request_id, redact, note, hint)


def parse_body(raw: urllib3.BaseHTTPResponse, endpoint: str) -> Any:
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
    oauth = [str(body[key]) for key in ("error", "error_description") if isinstance(body.get(key), str)]
    if oauth:  # the token endpoint's (RFC 6749, section 5.2)
        parts.append(": ".join(oauth))
    return "; ".join(p for p in parts if p)


def lasting_failure(exc: HTTPError | OSError) -> str | None:
    """What no retry can fix (the retry policy gave up on it at once), as the start of a sentence that
    names the host: a name that does not resolve, a refused TLS handshake."""
    cause = exc.reason if isinstance(exc, MaxRetryError) else exc
    if isinstance(cause, NameResolutionError):
        return "the host name does not resolve (DNS):"
    if isinstance(cause, TlsError):
        return "the TLS handshake failed (certificate or protocol) with"
    return None


def over_head_limits(error: ProtocolError) -> str | None:
    """What limit of http.client's an answer's head broke (site/aio.py raises the same), if that is why."""
    inner = error.args[1] if len(error.args) > 1 else None
    return str(inner) if type(inner) in (HTTPException, LineTooLong) else None


def header_text(value: str) -> str:
    """A header value the site sent, safe to quote in one line."""
    return "".join(c for c in value if c.isprintable())[:80]


def auth_hint(credentials: Credentials) -> str:
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


def error_for(
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


def network_failure(endpoint: str, exc: HTTPError | OSError, settings: ClientSettings) -> str:
    """What went wrong, from urllib3's exception; never its text, which may carry the URL."""
    exhausted = isinstance(exc, MaxRetryError)
    cause: BaseException = (exc.reason or exc) if isinstance(exc, MaxRetryError) else exc
    gave_up = f" (gave up after {settings.max_retries} retries)" if exhausted else ""
    if isinstance(cause, ResponseError):
        return f"{endpoint}: gave up after {settings.max_retries} retries"
    if isinstance(cause, ReadTimeoutError):
        return f"{endpoint}: no answer within {settings.read_timeout_s:g} s{gave_up}"
    if isinstance(cause, ConnectTimeoutError) and not isinstance(cause, NewConnectionError):
        return f"{endpoint}: could not connect within {settings.connect_timeout_s:g} s{gave_up}"
    if isinstance(cause, ProtocolError):
        over = over_head_limits(cause)
        if over is not None:
            return f"{endpoint}: the answer's headers are too many or too long ({over}){gave_up}"
        return f"{endpoint}: the connection broke before the answer came{gave_up}"
    if isinstance(cause, DecodeError):  # not retried: the same body would come again
        return f"{endpoint}: the answer's body does not decode as its Content-Encoding says"
    return f"{endpoint}: could not reach the site ({type(cause).__name__}){gave_up}"
