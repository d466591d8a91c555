"""What sends a request: the Transport seam (urllib3's connection pools, or in tests a WSGI app called
in-process), the pools themselves, and what the environment says about the network as requests read it:
the proxy for a URL (its credentials sent as Proxy-Authorization, which urllib3 leaves out) and the
certificates to trust.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit
from urllib.request import getproxies, proxy_bypass

import certifi
import urllib3
from urllib3.exceptions import ProxyError
from urllib3.util.retry import Retry

from reconciler.errors import ConfigError
from reconciler.site.answers import header_text
from reconciler.site.config import is_loopback

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


def new_pool(proxy: Proxy | None, size: int, retry: Retry) -> urllib3.PoolManager:
    """`size` connections to one base URL, through `proxy`, the one the environment names for it."""
    options: dict[str, Any] = {"num_pools": size, "maxsize": size, "retries": retry}
    bundle = ca_bundle()
    options.update({"ca_cert_dir": bundle} if os.path.isdir(bundle) else {"ca_certs": bundle})
    if proxy is None:
        return urllib3.PoolManager(**options)
    return urllib3.ProxyManager(proxy.url, proxy_headers=proxy.headers, **options)


@dataclass(frozen=True)
class Proxy:
    """A proxy the environment names: where it is, the Proxy-Authorization its URL's credentials make, and
    how messages show it (with the variable that named it, and never its password)."""

    url: str  # scheme, host and port only
    headers: dict[str, str]
    shown: str  # e.g. HTTPS_PROXY=http://user:***@proxy.example:3128
    secrets: tuple[str, ...]  # the password and the header's value, for the redactor


def proxy_for(base: str) -> Proxy | None:
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


def proxy_failure(endpoint: str, error: ProxyError, proxy: Proxy) -> str:
    """Why the proxy did not take the request through: the proxy's own status line when it refused the
    tunnel (only the type of any other failure, whose text may carry addresses)."""
    original = error.original_error
    said = header_text(str(original)) if type(original) is OSError else type(original).__name__
    hint = "; check the user and password in the proxy URL" if " 407 " in f"{said} " else ""
    return f"{endpoint}: could not go through the proxy {proxy.shown} ({said}){hint}"


def ca_bundle() -> str:
    """The certificates to trust (a file or a directory): requests' environment variables, else certifi's
    bundle, as requests did."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
