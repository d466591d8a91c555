"""The sandbox's HTTP server: connections stay open from one request to the next, as on a real site."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

from tests.sandbox.conftest import BASIC, OPT_IN, Api


def _ask(
    conn: http.client.HTTPConnection, method: str, path: str, body: object = None, auth: str | None = BASIC
) -> tuple[http.client.HTTPResponse, bytes]:
    headers = {**OPT_IN, **({"Authorization": auth} if auth else {})}
    data = None if body is None else json.dumps(body).encode()
    if data is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    return response, response.read()


def test_one_connection_serves_request_after_request(api: Api) -> None:
    conn = http.client.HTTPConnection(api.host, timeout=10)
    try:
        first, _ = _ask(conn, "GET", api.jira("/role"))
        first_socket = conn.sock
        for _ in range(3):
            answer, _ = _ask(conn, "GET", api.csm("/product"))
            assert answer.status == 200 and answer.getheader("Connection") is None
        assert first.status == 200 and conn.sock is first_socket  # never reconnected
    finally:
        conn.close()


def test_a_body_the_site_refuses_unread_does_not_spill_into_the_next_request(api: Api) -> None:
    conn = http.client.HTTPConnection(api.host, timeout=10)
    try:
        refused, _ = _ask(conn, "POST", api.csm("/product"), {"name": "x" * 5000}, auth=None)
        assert refused.status == 401
        created, body = _ask(conn, "POST", api.csm("/product"), {"name": "Kept alive"})
        assert created.status == 200 and json.loads(body)["name"] == "Kept alive"
    finally:
        conn.close()


@pytest.mark.parametrize(
    "headers",
    [{"Content-Length": "ten"}, {"Content-Length": "-1"}, {"Transfer-Encoding": "chunked"}],
    ids=["length-not-a-number", "length-negative", "chunked"],
)
def test_a_body_whose_end_cannot_be_found_is_refused(api: Api, headers: dict[str, str]) -> None:
    host, port = api.host.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        raw.sendall(f"POST {api.csm('/product')} HTTP/1.1\r\nHost: {api.host}\r\n{head}\r\n".encode())
        answer = raw.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 400 ")
