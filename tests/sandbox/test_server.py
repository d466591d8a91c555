"""The sandbox's HTTP server: connections stay open from one request to the next, as on a real site."""

from __future__ import annotations

import http.client
import http.server
import json
import logging
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from reconciler.sandbox.app import SandboxSite
from reconciler.sandbox.server import serve_in_thread
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


def test_an_unexpected_error_is_answered_500_and_said_in_one_line_without_a_traceback(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "afile").write_text("", encoding="utf-8")
    site = SandboxSite(state_file=tmp_path / "afile" / "s.json")  # a state file no one can look at
    with serve_in_thread(site) as base_url:
        conn = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=10)
        try:
            answer, body = _ask(conn, "GET", "/rest/api/3/role")
        finally:
            conn.close()
    assert answer.status == 500 and json.loads(body)["errorMessages"] == ["Internal server error."]
    assert "Traceback" not in capfd.readouterr().err
    said = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert said == ["sandbox site: answered 500 after an unexpected NotADirectoryError"]


def test_a_logged_request_line_starts_no_workflow_command(
    api: Api, capfd: pytest.CaptureFixture[str]
) -> None:
    host, port = api.host.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(b"GET / HTTP/1.1##[error]fake\r\n\r\n")
        answer = raw.makefile("rb").read()
    assert b"400" in answer  # refused: the request line has no version the server knows
    logged = capfd.readouterr().err
    assert "fake" in logged and "##[" not in logged


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (BrokenPipeError(), []),
        (RuntimeError(), ["sandbox site: answered 500 after an unexpected RuntimeError"]),
    ],
    ids=["client-gone", "bug"],
)
def test_an_error_of_a_connection_is_at_most_one_line_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    error: Exception,
    said: list[str],
) -> None:
    def failing(_: object) -> None:
        raise error

    monkeypatch.setattr(
        http.server.BaseHTTPRequestHandler, "handle", failing
    )  # the sandbox's keep-alive loop
    with serve_in_thread(SandboxSite()) as base_url:
        conn = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=10)
        try:
            with pytest.raises(http.client.RemoteDisconnected):
                _ask(conn, "GET", "/rest/api/3/role")
        finally:
            conn.close()
    assert "Traceback" not in capfd.readouterr().err
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == said
