"""`SiteClient.get_each`: many GETs on the client's event loop (site/aio.py), over real HTTP on 127.0.0.1.
The same answers, retries and error messages as one `get`, and the shapes of answer a real server may send
that the sandbox never does (chunked, ended by closing, broken half way, compressed, after interim 1xx
answers, with too many or too long headers)."""

from __future__ import annotations

import gzip
import json
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from reconciler.errors import RetryableSiteError, SiteError, TerminalSiteError
from reconciler.site.aio import MAX_HEAD_BYTES
from reconciler.site.api import Api
from reconciler.site.http import SiteClient
from tests.site.conftest import BASIC, CLOUD_ID, FAST, N_ROLES, Served, app_client, many_seed, until

OPS = "/jsm/ops/.../v1"


def _role_paths(client: SiteClient) -> list[str]:
    return [f"/roles/{role['id']}" for role in client.paginate_links(Api.OPS, "/roles", size=50)]


def test_the_bodies_come_in_order_and_equal_those_of_one_get_each(serve_site: Callable[..., Served]) -> None:
    served = serve_site(seed=many_seed())
    client = served.client()
    paths = _role_paths(client)
    assert len(paths) == N_ROLES
    each = list(client.get_each(Api.OPS, paths, {"identifierType": "id"}))
    assert each == [client.get(Api.OPS, path, {"identifierType": "id"}) for path in paths]
    assert [c.query for c in served.calls("GET", "/roles/")][:N_ROLES] == ["identifierType=id"] * N_ROLES
    assert client.request_count == 1 + 2 * N_ROLES


def test_nothing_to_read_starts_nothing(served: Served) -> None:
    client = served.client()
    assert list(client.get_each(Api.OPS, [])) == []
    assert client.request_count == 0 and client._event_loop is None


def test_the_opt_in_header_and_credentials_go_with_every_request() -> None:
    seen: list[tuple[str | None, str | None]] = []

    def handler(request: Request) -> Response:
        seen.append((request.headers.get("X-ExperimentalApi"), request.headers.get("Authorization")))
        return Response(json.dumps({"path": request.path}), 200, mimetype="application/json")

    with app_client(handler, cloud_id=CLOUD_ID) as client:
        bodies = list(client.get_each(Api.OPS, ["/roles/a", "/roles/b%20c"]))
        jira = list(client.get_each(Api.JIRA, ["/project/K/permissionscheme"]))
    assert [b["path"] for b in bodies] == [
        f"/jsm/ops/api/{CLOUD_ID}/v1/roles/a",
        f"/jsm/ops/api/{CLOUD_ID}/v1/roles/b c",
    ]
    assert jira == [{"path": "/rest/api/3/project/K/permissionscheme"}]
    assert all(auth and auth.startswith("Basic ") for _, auth in seen)
    assert [opt_in for opt_in, _ in seen] == ["opt-in", "opt-in", None]


def test_a_404_is_none_when_missing_is_allowed_and_an_error_naming_the_path_otherwise(
    serve_site: Callable[..., Served],
) -> None:
    served = serve_site(seed=many_seed())
    client = served.client()
    paths = [*_role_paths(client)[:2], "/roles/no-such-role"]
    found = list(client.get_each(Api.OPS, paths, {"identifierType": "id"}, missing_ok=True))
    assert found[2] is None and all(found[:2])
    with pytest.raises(TerminalSiteError) as caught:
        client.get_each(Api.OPS, paths, {"identifierType": "id"})
    assert caught.value.status == 404
    assert str(caught.value).startswith(f"GET {OPS}/roles/no-such-role: 404")


def test_the_first_error_stops_the_batch(serve_site: Callable[..., Served]) -> None:
    served = serve_site(seed=many_seed())
    client = served.client(concurrency=1)
    paths = _role_paths(client)
    served.knobs.fail_on = {("GET", paths[1]): 403}
    with pytest.raises(TerminalSiteError) as caught:
        client.get_each(Api.OPS, paths, {"identifierType": "id"})
    assert caught.value.status == 403 and caught.value.endpoint == f"GET {OPS}{paths[1]}"
    assert len(served.calls("GET", "/roles/")) == 2  # one at a time: nothing after the refused one


def test_a_redirect_in_a_batch_is_refused_and_never_followed() -> None:
    def handler(request: Request) -> Response:
        if request.path.endswith("/b"):
            return Response("", 307, {"Location": "http://elsewhere.example/b"})
        return Response("{}", 200, mimetype="application/json")

    with app_client(handler, cloud_id=CLOUD_ID) as client, pytest.raises(TerminalSiteError) as caught:
        client.get_each(Api.JIRA, ["/a", "/b", "/c"])
    assert caught.value.endpoint == "GET /rest/api/3/b"
    assert "redirected to http://elsewhere.example/b; redirects are not followed" in str(caught.value)


def test_while_a_body_is_read_the_last_endpoint_names_its_request(serve_site: Callable[..., Served]) -> None:
    client = serve_site(seed=many_seed()).client()
    paths = _role_paths(client)[:3]
    named = [client.last_endpoint() for _ in client.get_each(Api.OPS, paths, {"identifierType": "id"})]
    assert named == [f"GET {OPS}{path}" for path in paths]


def test_request_ids_are_recorded_in_the_asking_thread() -> None:
    def handler(request: Request) -> Response:
        return Response(
            "{}", 200, {"X-ARequestId": f"id-{request.path.split('/')[-2]}"}, mimetype="application/json"
        )

    with app_client(handler, cloud_id=CLOUD_ID) as client, client.recording_request_ids() as ids:
        list(client.get_each(Api.OPS, ["/teams/1/roles", "/teams/2/roles"]))
    assert ids == ["id-1", "id-2"]


# --- retries, as urllib3 retries one GET ----------------------------------------------------------------


def test_429_waits_for_retry_after_and_halves_the_shared_limit(serve_site: Callable[..., Served]) -> None:
    served = serve_site(seed=many_seed(), rate_limit_every=4, retry_after_s=1)
    slept: list[float] = []
    client = served.client(concurrency=4, sleep=slept.append)
    paths = _role_paths(client)
    assert len(list(client.get_each(Api.OPS, paths, {"identifierType": "id"}))) == N_ROLES
    assert slept and set(slept) == {1.0}
    assert client.limit.limit < 4


def test_server_errors_are_retried_then_reported_with_the_retries_made() -> None:
    answered: list[int] = []

    def handler(request: Request) -> Response:
        answered.append(1)
        return Response('{"message": "down"}', 503, mimetype="application/json")

    with (
        app_client(handler, cloud_id=CLOUD_ID, max_retries=2, sleep=lambda _s: None) as client,
        pytest.raises(RetryableSiteError) as caught,
    ):
        client.get_each(Api.OPS, ["/teams/1/roles"])
    assert (
        str(caught.value)
        == "GET /jsm/ops/.../v1/teams/1/roles: 503 SERVICE UNAVAILABLE: down (gave up after 2 retries)"
    )
    assert len(answered) == 3


def test_a_slow_answer_times_out_and_is_retried(serve_site: Callable[..., Served]) -> None:
    served = serve_site(seed=many_seed(), slow_every=2, slow_s=0.6)
    client = served.client(read_timeout_s=0.15, max_retries=2, concurrency=1)
    paths = _role_paths(client)[:2]  # the roles list was answer 1; the first role's GET is slow
    assert len(list(client.get_each(Api.OPS, paths, {"identifierType": "id"}))) == 2
    served.knobs.slow_every = 1
    start = time.monotonic()
    with pytest.raises(RetryableSiteError) as caught:
        client.get_each(Api.OPS, paths[:1], {"identifierType": "id"})
    assert f"GET {OPS}{paths[0]}: no answer within 0.15 s (gave up after 2 retries)" == str(caught.value)
    assert time.monotonic() - start < 3


def test_a_refused_connection_is_retried_then_reported() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}"
    client = SiteClient(url, url, BASIC, cloud_id=CLOUD_ID, settings=FAST)
    with client, pytest.raises(RetryableSiteError) as caught:
        client.get_each(Api.JIRA, ["/project/A/permissionscheme"])
    assert str(caught.value) == (
        "GET /rest/api/3/project/A/permissionscheme: could not reach the site (NewConnectionError) "
        "(gave up after 3 retries)"
    )


def test_a_refused_tls_handshake_is_not_retried(serve_site: Callable[..., Served]) -> None:
    served = serve_site(seed={})
    url = served.url.replace("http://", "https://")
    client = SiteClient(url, url, BASIC, cloud_id=CLOUD_ID, settings=FAST)
    with client, pytest.raises(TerminalSiteError) as caught:
        client.get_each(Api.JIRA, ["/project/A/permissionscheme"])
    assert "the TLS handshake failed" in str(caught.value) and "127.0.0.1" in str(caught.value)
    assert client.request_count == 1


# --- answers the sandbox never sends ----------------------------------------------------------------


@contextmanager
def _raw_server(
    answer: Callable[[int], bytes],
    *,
    close_after: bool,
    heads: list[bytes] | None = None,
    reset_after: frozenset[int] = frozenset(),
) -> Iterator[str]:
    """A server that reads each request's head (kept in `heads`) and writes `answer(n)` for the n-th, raw; it
    closes the connection after each answer when `close_after`, and resets it (RST, not FIN) a moment after
    the answers numbered in `reset_after`. At most 20 connections, and 10 s in all."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.02)
    stop = threading.Event()
    deadline = time.monotonic() + 10
    count = 0

    def converse(connection: socket.socket) -> None:
        nonlocal count
        buffered = b""
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                data = connection.recv(65536)
            except TimeoutError:
                continue
            if not data:
                return
            buffered += data
            while b"\r\n\r\n" in buffered:
                head, _, buffered = buffered.partition(b"\r\n\r\n")
                if heads is not None:
                    heads.append(head)
                count += 1
                try:
                    connection.settimeout(5)  # an answer of megabytes goes at the client's pace
                    connection.sendall(answer(count))
                    connection.settimeout(0.02)
                except OSError:  # the client gave up on it
                    return
                if count in reset_after:
                    time.sleep(0.05)  # the client has read the answer when the reset comes
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if close_after:
                    return

    def serve() -> None:
        accepted = 0
        while accepted < 20 and not stop.is_set() and time.monotonic() < deadline:
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted += 1
            with connection:
                connection.settimeout(0.02)
                converse(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()


def _client(url: str, **settings: Any) -> SiteClient:
    return SiteClient(url, url, BASIC, cloud_id=CLOUD_ID, settings=replace(FAST, **settings))


def test_a_chunked_answer_on_a_kept_connection() -> None:
    def chunked(n: int) -> bytes:
        body = json.dumps({"n": n}).encode()
        half = len(body) // 2
        chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, body[:half], len(body) - half, body[half:])
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + chunks
        )

    # The server talks on one connection at a time, until it closes: the three answers come back only if
    # the client sends all three requests on the first connection.
    with _raw_server(chunked, close_after=False) as url, _client(url, concurrency=1) as client:
        assert list(client.get_each(Api.JIRA, ["/a", "/b", "/c"])) == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_an_answer_ended_by_closing_the_connection() -> None:
    def closing(n: int) -> bytes:
        return b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"n": %d}' % n

    with _raw_server(closing, close_after=True) as url, _client(url, concurrency=2) as client:
        assert sorted(b["n"] for b in client.get_each(Api.JIRA, ["/a", "/b", "/c"])) == [1, 2, 3]


def test_an_answer_broken_half_way_is_retried_on_a_new_connection() -> None:
    def broken_first(n: int) -> bytes:
        if n == 1:
            return b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"n"'
        return b'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n{"n": %d}' % n

    with _raw_server(broken_first, close_after=True) as url, _client(url, concurrency=1) as client:
        assert list(client.get_each(Api.JIRA, ["/a"])) == [{"n": 2}]


def test_interim_answers_are_skipped() -> None:
    """A 103 Early Hints (or 100 Continue) before each answer: each body still answers its own request."""

    def hinted(n: int) -> bytes:
        early = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        return early + b'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n{"n": %d}' % n

    with _raw_server(hinted, close_after=False) as url, _client(url, concurrency=1) as client:
        assert list(client.get_each(Api.JIRA, ["/a", "/b", "/c"])) == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_a_compressed_answer_is_decoded_on_both_ways_of_sending() -> None:
    def compressed(n: int) -> bytes:
        body = json.dumps({"n": n, "padding": "x" * 200}).encode()
        encoding, packed = ("gzip", gzip.compress(body)) if n % 2 else ("deflate", zlib.compress(body))
        head = f"HTTP/1.1 200 OK\r\nContent-Encoding: {encoding}\r\nContent-Length: {len(packed)}\r\n\r\n"
        return head.encode() + packed

    heads: list[bytes] = []
    with (
        _raw_server(compressed, close_after=True, heads=heads) as url,
        _client(url, concurrency=1) as client,
    ):
        assert [b["n"] for b in client.get_each(Api.JIRA, ["/a", "/b"])] == [1, 2]
        assert client.get(Api.JIRA, "/c")["n"] == 3  # through urllib3's pools
    assert all(b"\r\nAccept-Encoding: gzip, deflate\r\n" in head for head in heads)


def test_a_corrupt_compressed_body_is_one_clear_error_on_both_ways_of_sending() -> None:
    def corrupt(n: int) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!"

    with _raw_server(corrupt, close_after=True) as url, _client(url, concurrency=1) as client:
        with pytest.raises(SiteError) as on_loop:
            client.get_each(Api.JIRA, ["/a"])
        with pytest.raises(SiteError) as in_pool:
            client.get(Api.JIRA, "/a")
    said = "GET /rest/api/3/a: the answer's body does not decode as its Content-Encoding says"
    assert str(on_loop.value) == str(in_pool.value) == said


@pytest.mark.parametrize(
    ("headers", "over"),
    [
        (b"".join(b"X-Many-%d: 1\r\n" % i for i in range(101)), "got more than 100 headers"),
        (b"X-Long: " + b"y" * 70000 + b"\r\n", "got more than 65536 bytes when reading header line"),
    ],
    ids=["too-many", "too-long"],
)
def test_an_answer_over_http_clients_header_limits_is_one_clear_error_on_both_ways_of_sending(
    headers: bytes, over: str
) -> None:
    def oversized(n: int) -> bytes:
        return b"HTTP/1.1 200 OK\r\n" + headers + b"Content-Length: 2\r\n\r\n{}"

    with _raw_server(oversized, close_after=True) as url, _client(url, max_retries=1) as client:
        with pytest.raises(SiteError) as on_loop:
            client.get_each(Api.JIRA, ["/a"])
        with pytest.raises(SiteError) as in_pool:
            client.get(Api.JIRA, "/a")
    said = (
        f"GET /rest/api/3/a: the answer's headers are too many or too long ({over}) (gave up after 1 retries)"
    )
    assert str(on_loop.value) == str(in_pool.value) == said


def test_a_head_that_never_ends_is_refused_not_buffered() -> None:
    """Interim answers without end, each within the limits: the bytes read before the final head count."""

    early = b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"

    def endless(n: int) -> bytes:
        return early * (MAX_HEAD_BYTES // len(early) + 1)

    with (
        _raw_server(endless, close_after=True) as url,
        _client(url, max_retries=0) as client,
        pytest.raises(SiteError, match="too many or too long"),
    ):
        client.get_each(Api.JIRA, ["/a"])


def test_a_body_ended_by_a_reset_rather_than_a_clean_close_is_retried() -> None:
    def closing(n: int) -> bytes:
        return b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"n": %d}' % n

    with (
        _raw_server(closing, close_after=True, reset_after=frozenset({1})) as url,
        _client(url, concurrency=1) as client,
    ):
        assert list(client.get_each(Api.JIRA, ["/a"])) == [{"n": 2}]


def test_an_answer_that_is_not_http_is_retried_then_reported() -> None:
    with (
        _raw_server(lambda n: b"SSH-2.0-OpenSSH\r\n\r\n", close_after=True) as url,
        _client(url, max_retries=1, backoff_s=0.0) as client,
        pytest.raises(SiteError) as caught,
    ):
        client.get_each(Api.JIRA, ["/a"])
    assert str(caught.value) == (
        "GET /rest/api/3/a: the connection broke before the answer came (gave up after 1 retries)"
    )


def test_closing_the_client_ends_reads_still_waiting(serve_site: Callable[..., Served]) -> None:
    """As when Ctrl-C interrupts a plan: the reads in flight are cancelled, not left running."""
    served = serve_site(seed=many_seed(), slow_every=1, slow_s=3.0)
    client = served.client(read_timeout_s=10.0)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            client.get_each(Api.JIRA, ["/project/A/permissionscheme"])
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    assert until(lambda: client._event_loop is not None and client.request_count == 1)
    start = time.monotonic()
    client.close()
    reader.join(timeout=5)
    assert not reader.is_alive() and time.monotonic() - start < 2
    assert len(outcome) == 1 and not isinstance(outcome[0], SiteError)


def test_a_bug_on_the_loop_surfaces_as_itself_not_as_a_group(
    serve_site: Callable[..., Served], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = serve_site(seed=many_seed()).client()

    def broken(self: SiteClient, method: str, raw: object) -> None:
        raise LookupError("a bug")

    monkeypatch.setattr(SiteClient, "_account", broken)
    with pytest.raises(LookupError, match="a bug"):
        client.get_each(Api.JIRA, ["/project/A/permissionscheme", "/project/B/permissionscheme"])
