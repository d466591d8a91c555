"""The client through a proxy the environment names (HTTPS_PROXY, ALL_PROXY, NO_PROXY): the site over TLS
through a tiny CONNECT proxy on 127.0.0.1 that demands Proxy-Authorization, both ways of sending (one
request, and the per-object reads of `get_each`), the errors a proxy causes, and proxies that cannot be
used. The password never appears in a message."""

from __future__ import annotations

import base64
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from reconciler.cli import cli
from reconciler.errors import ConfigError, RetryableSiteError, TerminalSiteError
from reconciler.sandbox.app import Knobs, SandboxSite
from reconciler.sandbox.auth import SANDBOX_OAUTH_CLIENT_ID, SANDBOX_OAUTH_CLIENT_SECRET
from reconciler.site.api import Api
from reconciler.site.config import Credentials
from reconciler.site.http import SiteClient
from tests.site.conftest import BASIC, CLOUD_ID, FAST, _Quiet, many_seed, serve_wsgi

SITE = "https://jsm.example"  # never resolved here: the proxy connects to the TLS server below
CERTIFICATE = Path(__file__).parent / "tls" / "jsm.example.pem"
USER, PASSWORD = "ci@corp.example", "pa:ss@w/rd%"  # characters that must be percent-encoded in a URL
PROXY_USERINFO = "ci%40corp.example:pa%3Ass%40w%2Frd%25"
LIFETIME_S = 20.0  # the proxy and its tunnels stop by themselves after this long at most


@dataclass
class ConnectProxy:
    """An HTTP proxy that takes only CONNECT, with Basic credentials, and tunnels every one to `upstream`."""

    upstream: tuple[str, int]
    credentials: str = f"{USER}:{PASSWORD}"
    tunnels: list[str] = field(default_factory=list)  # the CONNECT targets it accepted
    refused: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def serve(self, listener: socket.socket) -> None:
        deadline = time.monotonic() + LIFETIME_S
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._converse, args=(client, deadline), daemon=True).start()

    def _converse(self, client: socket.socket, deadline: float) -> None:
        with client:
            client.settimeout(5)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = client.recv(4096)
                if not data:
                    return
                head += data
            lines = head.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
            }
            expected = "Basic " + base64.b64encode(self.credentials.encode()).decode()
            if method != "CONNECT" or headers.get("proxy-authorization") != expected:
                self.refused += 1
                client.sendall(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="test"\r\n'
                    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
                return
            self.tunnels.append(target)
            with socket.create_connection(self.upstream, timeout=5) as server:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                _relay(client, server, deadline, self.stop)


def _relay(a: socket.socket, b: socket.socket, deadline: float, stop: threading.Event) -> None:
    peers = {a: b, b: a}
    while not stop.is_set() and time.monotonic() < deadline:
        ready, _, _ = select.select(list(peers), [], [], 0.05)
        for sock in ready:
            try:
                data = sock.recv(65536)
                if data:
                    peers[sock].sendall(data)
            except OSError:  # a peer that gave up (a refused handshake) resets its side
                return
            if not data:
                return


@contextmanager
def tls_site() -> Iterator[tuple[SandboxSite, tuple[str, int]]]:
    """The sandbox over TLS on 127.0.0.1, with the certificate of jsm.example."""
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(CERTIFICATE)
    site = SandboxSite(seed=many_seed(), knobs=Knobs(record_calls=True))
    server = make_server("127.0.0.1", 0, site, threaded=True, request_handler=_Quiet, ssl_context=tls)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield site, ("127.0.0.1", server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def connect_proxy(upstream: tuple[str, int]) -> Iterator[tuple[ConnectProxy, int]]:
    proxy = ConnectProxy(upstream)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.02)
    thread = threading.Thread(target=proxy.serve, args=(listener,), daemon=True)
    thread.start()
    try:
        yield proxy, listener.getsockname()[1]
    finally:
        proxy.stop.set()
        thread.join(timeout=5)
        listener.close()


@pytest.fixture
def proxied(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SandboxSite, ConnectProxy, int]]:
    """The TLS site behind the proxy; the environment trusts its certificate and names no proxy yet."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        for variable in (name, name.lower()):
            monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(CERTIFICATE))
    with tls_site() as (site, address), connect_proxy(address) as (proxy, port):
        yield site, proxy, port


def _client() -> SiteClient:
    return SiteClient(SITE, SITE, BASIC, cloud_id=CLOUD_ID, settings=FAST)


def test_credentials_in_the_proxy_url_become_proxy_authorization_for_both_ways_of_sending(
    proxied: tuple[SandboxSite, ConnectProxy, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    site, proxy, port = proxied
    monkeypatch.setenv("HTTPS_PROXY", f"http://{PROXY_USERINFO}@127.0.0.1:{port}")
    with _client() as client:
        roles = [f"/roles/{role['id']}" for role in client.paginate_links(Api.OPS, "/roles", size=50)]
        rights = list(client.get_each(Api.OPS, roles[:3], {"identifierType": "id"}))
        assert [r["id"] for r in rights] == [path.removeprefix("/roles/") for path in roles[:3]]
        assert client._event_loop is None  # the per-object reads went through the proxy too
    assert proxy.refused == 0 and proxy.tunnels and set(proxy.tunnels) == {"jsm.example:443"}
    assert len([c for c in site.calls if c.path.endswith(tuple(roles[:3]))]) == 3


def test_the_token_url_takes_the_proxy_named_for_its_own_host(
    proxied: tuple[SandboxSite, ConnectProxy, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_PROXY names the site, not the token URL's host: the client credentials' exchange goes through the
    proxy (whose tunnel then meets a certificate for another name: the handshake fails, as it should)."""
    _, proxy, port = proxied
    monkeypatch.setenv("HTTPS_PROXY", f"http://{PROXY_USERINFO}@127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "jsm.example")
    credentials = Credentials(
        secret=SANDBOX_OAUTH_CLIENT_SECRET,
        bearer=True,
        client_id=SANDBOX_OAUTH_CLIENT_ID,
        auth_base="https://login.example",
    )
    with (
        SiteClient(SITE, SITE, credentials, cloud_id=CLOUD_ID, settings=FAST) as client,
        pytest.raises(TerminalSiteError, match=r"TLS handshake .* login\.example; check JSM_AUTH_BASE$"),
    ):
        client.get(Api.JIRA, "/myself")
    assert proxy.tunnels == ["login.example:443"]


def test_a_proxy_without_a_scheme_is_an_http_proxy(
    proxied: tuple[SandboxSite, ConnectProxy, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, proxy, port = proxied
    monkeypatch.setenv("https_proxy", f"{PROXY_USERINFO}@127.0.0.1:{port}")
    with _client() as client:
        assert client.get(Api.JIRA, "/role")
    assert proxy.tunnels == ["jsm.example:443"]


def test_wrong_proxy_credentials_are_a_clear_error_that_never_shows_the_password(
    proxied: tuple[SandboxSite, ConnectProxy, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, proxy, port = proxied
    monkeypatch.setenv("HTTPS_PROXY", f"http://ci:WRONG-pass-1234@127.0.0.1:{port}")
    with _client() as client, pytest.raises(RetryableSiteError) as caught:
        client.get(Api.JIRA, "/role")
    assert str(caught.value) == (
        f"GET /rest/api/3/role: could not go through the proxy HTTPS_PROXY=http://ci:***@127.0.0.1:{port} "
        "(Tunnel connection failed: 407 Proxy Authentication Required); "
        "check the user and password in the proxy URL"
    )
    assert proxy.refused == 1  # not retried: waiting cannot fix credentials


def test_a_loopback_site_never_goes_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox on 127.0.0.1: a proxy cannot reach this machine's loopback, so none is used, whatever
    ALL_PROXY names (a SOCKS proxy included)."""
    monkeypatch.setenv("ALL_PROXY", "socks5://user:secret-password@proxy.example:1080")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with (
        serve_wsgi(SandboxSite(seed=many_seed(), knobs=Knobs())) as url,
        SiteClient(url, url, BASIC, cloud_id=CLOUD_ID, settings=FAST) as client,
    ):
        assert client.get(Api.JIRA, "/role")
        assert client._reads_on_loop


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "HTTPS_PROXY",
            "socks5://ci:secret-password@proxy.example:1080",
            "HTTPS_PROXY=socks5://ci:***@proxy.example:1080: a socks5:// proxy is not supported; "
            "name an http:// or https:// proxy (one that takes CONNECT)",
        ),
        (
            "all_proxy",
            "socks5h://proxy.example:1080",
            "all_proxy=socks5h://proxy.example:1080: a socks5h:// proxy is not supported; "
            "name an http:// or https:// proxy (one that takes CONNECT)",
        ),
        (
            "HTTPS_PROXY",
            "http://ci:secret-password@proxy.example:port",
            "HTTPS_PROXY=http://ci:***@proxy.example:port: the proxy's port is not a number",
        ),
    ],
)
def test_a_proxy_that_cannot_be_used_is_a_one_line_error_naming_the_variable(
    variable: str, value: str, message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        for each in (name, name.lower()):
            monkeypatch.delenv(each, raising=False)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        _client()
    assert str(caught.value) == message
    env = {
        "JSM_SITE": "https://acme.atlassian.net",
        "JSM_EMAIL": "ci@acme.example",
        "JSM_API_TOKEN": "an-api-token-long-enough-1234",
        "JSM_OAUTH_TOKEN": "",
        "NO_COLOR": "1",
    }
    ran = CliRunner().invoke(cli, ["export", "--out", str(tmp_path)], env=env, catch_exceptions=False)
    assert ran.exit_code == 1
    assert ran.stderr == f"Error: {message}\n"
    assert "secret-password" not in ran.output
