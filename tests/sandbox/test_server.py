"""The sandbox's HTTP server: connections stay open from one request to the next, as on a real site."""

from __future__ import annotations

import http.client
import json

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
        socket = conn.sock
        for _ in range(3):
            answer, _ = _ask(conn, "GET", api.csm("/product"))
            assert answer.status == 200 and answer.getheader("Connection") is None
        assert first.status == 200 and conn.sock is socket  # never reconnected
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
