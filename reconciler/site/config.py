"""Where the site is and how to sign in, from the environment (CLI.md, "Site and credentials")."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.errors import ConfigError

DEFAULT_API_BASE = "https://api.atlassian.com"
DEFAULT_SANDBOX_STATE = ".jsm-sandbox.json"


@dataclass(frozen=True)
class Credentials:
    """Basic (email + API token) or Bearer (OAuth token). The secret never shows in repr or str."""

    email: str | None = None
    secret: str = field(default="", repr=False)
    bearer: bool = False

    def __str__(self) -> str:
        return "OAuth bearer token" if self.bearer else f"API token of {self.email}"


@dataclass(frozen=True)
class SiteConfig:
    """`site` is JSM_SITE, or "sandbox" for the embedded site."""

    site: str
    api_base: str
    credentials: Credentials | None
    cloud_id: str | None = None
    sandbox_state: Path = Path(DEFAULT_SANDBOX_STATE)

    @property
    def is_embedded_sandbox(self) -> bool:
        return self.site == "sandbox"


def config_from_env(env: Mapping[str, str] | None = None, *, site: str | None = None) -> SiteConfig:
    """Read the site configuration; `site` (the --site option) wins over JSM_SITE."""
    env = os.environ if env is None else env
    chosen = (site or env.get("JSM_SITE") or "sandbox").strip().rstrip("/")
    api_base = (env.get("JSM_API_BASE") or "").strip().rstrip("/")
    credentials = _credentials(env)
    state = Path(env.get("JSM_SANDBOX_STATE") or DEFAULT_SANDBOX_STATE)
    if chosen == "sandbox":
        return SiteConfig("sandbox", api_base, credentials, env.get("JSM_CLOUD_ID") or None, state)
    check_url_allowed(chosen, "JSM_SITE")
    if api_base:
        check_url_allowed(api_base, "JSM_API_BASE")
    if credentials is None:
        raise ConfigError(f"no credentials for {chosen}: set JSM_EMAIL and JSM_API_TOKEN, or JSM_OAUTH_TOKEN")
    cloud_id = env.get("JSM_CLOUD_ID") or None
    return SiteConfig(chosen, api_base or DEFAULT_API_BASE, credentials, cloud_id, state)


def _credentials(env: Mapping[str, str]) -> Credentials | None:
    oauth = _secret(env, "JSM_OAUTH_TOKEN")
    if oauth:
        return Credentials(secret=oauth, bearer=True)
    email = env.get("JSM_EMAIL", "").strip()
    token = _secret(env, "JSM_API_TOKEN")
    if email and token:
        return Credentials(email=email, secret=token)
    if email or token:
        missing = "JSM_API_TOKEN" if email else "JSM_EMAIL"
        raise ConfigError(f"{missing} is not set: Basic auth needs both JSM_EMAIL and JSM_API_TOKEN")
    return None


def _secret(env: Mapping[str, str], name: str) -> str:
    """A token as HTTP can carry it. Never echoed: a pasted token with a curly quote or a line break
    would otherwise fail deep in the HTTP library, or show up in its error."""
    value = env.get(name, "").strip()
    if value and not (value.isascii() and value.isprintable()):
        raise ConfigError(
            f"{name} contains characters no token has (a quote, a line break or a non-ASCII letter); "
            "copy the token again"
        )
    return value


def check_url_allowed(url: str, what: str) -> None:
    """Only https, except plain http to a loopback address (the sandbox)."""
    parts = urlsplit(url)
    if "@" in url:  # also without a scheme, where urlsplit sees no netloc, so the URL is never echoed
        raise ConfigError(
            f"{what} must not carry credentials; set JSM_EMAIL and JSM_API_TOKEN, or JSM_OAUTH_TOKEN"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        hint = f"; did you mean 'https://{url}'?" if "://" not in url and "." in url else ""
        raise ConfigError(f"{what} must be an https:// URL, got {url!r}{hint}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"{what}: plain http:// is refused for {parts.hostname} (only loopback addresses may use it)"
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
