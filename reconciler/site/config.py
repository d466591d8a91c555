"""Where the site is and how to sign in, from the environment (CLI.md, "Site and credentials")."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.errors import ConfigError
from reconciler.redaction import MIN_SECRET_LENGTH

DEFAULT_API_BASE = "https://api.atlassian.com"
DEFAULT_AUTH_BASE = "https://auth.atlassian.com"
DEFAULT_SANDBOX_STATE = ".jsm-sandbox.json"
DEFAULT_MAX_RETRY_AFTER_S = 300
CREDENTIAL_VARIABLES = (
    "JSM_EMAIL",
    "JSM_API_TOKEN",
    "JSM_OAUTH_TOKEN",
    "JSM_SCOPED_TOKEN",
    "JSM_OAUTH_CLIENT_ID",
    "JSM_OAUTH_CLIENT_SECRET",
)


@dataclass(frozen=True)
class Credentials:
    """Basic (email + API token, classic or with scopes), Bearer (OAuth token), or a service account's
    OAuth 2.0 client credentials (`client_id` and the secret), exchanged at `auth_base` for a Bearer token.
    The secret never shows in repr or str."""

    email: str | None = None
    secret: str = field(default="", repr=False)
    bearer: bool = False
    scoped: bool = False
    client_id: str | None = None
    auth_base: str = DEFAULT_AUTH_BASE

    @property
    def via_gateway(self) -> bool:
        """Whether Jira must be called through the API gateway: the site URL answers 401 to OAuth
        tokens and to API tokens with scopes (API-FACTS.md section 7)."""
        return self.bearer or self.scoped

    @property
    def service_account(self) -> bool:
        """Credentials that service accounts have (client credentials; scoped tokens, which only they
        must use): JSM Operations refuses service accounts (JSDCLOUD-17685)."""
        return self.client_id is not None or self.scoped

    def __str__(self) -> str:
        if self.client_id is not None:
            return f"OAuth client credentials of {self.client_id}"
        if self.bearer:
            return "OAuth bearer token"
        return f"{'scoped ' if self.scoped else ''}API token of {self.email}"


@dataclass(frozen=True)
class SiteConfig:
    """`site` is JSM_SITE, or "sandbox" for the embedded site."""

    site: str
    api_base: str
    credentials: Credentials | None
    cloud_id: str | None = None
    sandbox_state: Path = Path(DEFAULT_SANDBOX_STATE)
    # The embedded sandbox signs in with its own credentials; these variables were set and not used.
    ignored_credentials: tuple[str, ...] = ()
    max_retry_after_s: int = DEFAULT_MAX_RETRY_AFTER_S

    @property
    def is_embedded_sandbox(self) -> bool:
        return self.site == "sandbox"


def config_from_env(env: Mapping[str, str] | None = None, *, site: str | None = None) -> SiteConfig:
    """Read the site configuration; `site` (the --site option) wins over JSM_SITE."""
    env = os.environ if env is None else env
    source = "--site" if site else "JSM_SITE"  # errors name where the value came from
    chosen = (site or env.get("JSM_SITE") or "sandbox").strip().rstrip("/")
    api_base = (env.get("JSM_API_BASE") or "").strip().rstrip("/")
    state = Path(env.get("JSM_SANDBOX_STATE") or DEFAULT_SANDBOX_STATE)
    wait = _max_retry_after(env)
    if chosen == "sandbox":
        # Credentials exported for a real site must never reach the sandbox, nor stop it.
        ignored = tuple(name for name in CREDENTIAL_VARIABLES if env.get(name, "").strip())
        return SiteConfig("sandbox", api_base, None, env.get("JSM_CLOUD_ID") or None, state, ignored, wait)
    credentials = _credentials(env)
    check_url_allowed(chosen, source)
    _refuse_a_path(chosen, source)
    if api_base:
        check_url_allowed(api_base, "JSM_API_BASE")
    if credentials is None:
        raise ConfigError(
            f"no credentials for {chosen}: set JSM_EMAIL and JSM_API_TOKEN, JSM_OAUTH_TOKEN, or "
            "JSM_OAUTH_CLIENT_ID and JSM_OAUTH_CLIENT_SECRET"
        )
    cloud_id = env.get("JSM_CLOUD_ID") or None
    return SiteConfig(chosen, api_base or DEFAULT_API_BASE, credentials, cloud_id, state, (), wait)


def _max_retry_after(env: Mapping[str, str]) -> int:
    """JSM_MAX_RETRY_AFTER: the longest Retry-After wait honoured, in seconds; longer ones are cut to it."""
    raw = env.get("JSM_MAX_RETRY_AFTER", "").strip()
    if not raw:
        return DEFAULT_MAX_RETRY_AFTER_S
    if not (raw.isascii() and raw.isdigit()):
        raise ConfigError(f"JSM_MAX_RETRY_AFTER must be a whole number of seconds, got {raw!r}")
    return int(raw)


def _credentials(env: Mapping[str, str]) -> Credentials | None:
    oauth = _secret(env, "JSM_OAUTH_TOKEN")
    if oauth:
        return Credentials(secret=oauth, bearer=True)
    client = _client_credentials(env)
    if client is not None:
        return client
    email = env.get("JSM_EMAIL", "").strip()
    _refuse_pasted_quotes_and_spaces("JSM_EMAIL", email)
    token = _secret(env, "JSM_API_TOKEN")
    if email and token:
        return Credentials(email=email, secret=token, scoped=_scoped(env))
    if email or token:
        missing = "JSM_API_TOKEN" if email else "JSM_EMAIL"
        raise ConfigError(f"{missing} is not set: Basic auth needs both JSM_EMAIL and JSM_API_TOKEN")
    return None


def _client_credentials(env: Mapping[str, str]) -> Credentials | None:
    """A service account's OAuth 2.0 credential, exchanged at JSM_AUTH_BASE/oauth/token."""
    client_id = env.get("JSM_OAUTH_CLIENT_ID", "").strip()
    client_secret = _secret(env, "JSM_OAUTH_CLIENT_SECRET")
    if not (client_id or client_secret):
        return None
    if not (client_id and client_secret):
        missing = "JSM_OAUTH_CLIENT_SECRET" if client_id else "JSM_OAUTH_CLIENT_ID"
        raise ConfigError(
            f"{missing} is not set: OAuth client credentials need both JSM_OAUTH_CLIENT_ID and "
            "JSM_OAUTH_CLIENT_SECRET"
        )
    if not (client_id.isascii() and client_id.isprintable()):
        raise ConfigError("JSM_OAUTH_CLIENT_ID contains characters no client id has; copy it again")
    auth_base = (env.get("JSM_AUTH_BASE") or DEFAULT_AUTH_BASE).strip().rstrip("/")
    check_url_allowed(auth_base, "JSM_AUTH_BASE")
    return Credentials(secret=client_secret, bearer=True, client_id=client_id, auth_base=auth_base)


def _secret(env: Mapping[str, str], name: str) -> str:
    """A token as HTTP can carry it. Never echoed: a pasted token with a curly quote or a line break
    would otherwise fail deep in the HTTP library, or show up in its error."""
    value = env.get(name, "").strip()
    _refuse_pasted_quotes_and_spaces(name, value)
    if value and not (value.isascii() and value.isprintable()):
        raise ConfigError(
            f"{name} contains characters no token has (a quote, a line break or a non-ASCII letter); "
            "copy the token again"
        )
    if value and len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"{name} is shorter than {MIN_SECRET_LENGTH} characters, too short to be a real token; "
            "copy the whole token"
        )
    return value


_PASTED = {
    '"': 'a double quote (")',
    "'": "a single quote (')",
    "`": "a backquote (`)",
    "\u201c": "a curly quote (\u201c)",
    "\u201d": "a curly quote (\u201d)",
    "\u2018": "a curly quote (\u2018)",
    "\u2019": "a curly quote (\u2019)",
    " ": "a space",
    "\u00a0": "a no-break space",
    "\t": "a tab",
    "\n": "a line break",
    "\r": "a carriage return",
}


def _refuse_pasted_quotes_and_spaces(name: str, value: str) -> None:
    """Quotes and spaces are never part of an email or a token: `JSM_API_TOKEN='"ATATT..."'` keeps its
    quotes, and the site would answer a bare 401. Says what was found and where, never the value."""
    found = [(index, char) for index, char in enumerate(value) if char in _PASTED]
    if not found:
        return
    if len(value) > 1 and [index for index, _char in found] == [0, len(value) - 1]:
        first, last = _PASTED[value[0]], _PASTED[value[-1]]
        ends = (
            f"starts and ends with {first}" if first == last else f"starts with {first} and ends with {last}"
        )
        raise ConfigError(f"{name} {ends}: the quotes became part of the value; set it without them")
    index, char = found[0]
    raise ConfigError(
        f"{name} contains {_PASTED[char]} at character {index + 1}, which no "
        f"{'email address' if name == 'JSM_EMAIL' else 'token'} has; set it again, without quotes or spaces"
    )


def _scoped(env: Mapping[str, str]) -> bool:
    value = env.get("JSM_SCOPED_TOKEN", "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ConfigError(f"JSM_SCOPED_TOKEN must be 1 (an API token with scopes) or 0, got {value!r}")


def check_url_allowed(url: str, what: str) -> None:
    """Only https, except plain http to a loopback address (the sandbox)."""
    parts = urlsplit(url)
    if "@" in url:  # also without a scheme, where urlsplit sees no netloc, so the URL is never echoed
        raise ConfigError(
            f"{what} must not carry credentials; set JSM_EMAIL and JSM_API_TOKEN, or JSM_OAUTH_TOKEN"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # The host alone, as a browser's address pasted without its scheme has a path too.
        host = url.partition("/")[0]
        hint = f"; did you mean 'https://{host}'?" if "://" not in url and "." in url else ""
        raise ConfigError(f"{what} must be an https:// URL, got {url!r}{hint}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"{what}: plain http:// is refused for {parts.hostname} (only loopback addresses may use it)"
        )


def _refuse_a_path(site: str, source: str) -> None:
    """The site is its root URL: the API paths go after it. A browser's address pasted whole
    (https://acme.atlassian.net/jira/servicedesk/projects) would otherwise fail later with a 404 that does
    not point here."""
    parts = urlsplit(site)
    if parts.path or parts.query or parts.fragment:
        raise ConfigError(
            f"{source} must be the site's root URL, without a path, got {site!r}; "
            f"did you mean '{parts.scheme}://{parts.netloc}'?"
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
