"""Serving the sandbox site over HTTP/1.1, and resetting its state file.

Connections stay open from one request to the next, as on Atlassian's front ends, so a client pays for a
connection once rather than per request. werkzeug's development server cannot do that (it closes every
connection, not knowing how much of a request body the app left unread), so the standard library's WSGI
server serves here, one thread per connection, reading each request body whole before the app runs.
"""

from __future__ import annotations

import io
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any, ClassVar
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from reconciler.sandbox.app import CONNECTION_KEY, SandboxSite, log_unexpected
from reconciler.sandbox.seed import SeedError, build_state, load_seed_file
from reconciler.sandbox.state import save_state

HOST = "127.0.0.1"
IDLE_TIMEOUT_S = 60  # a connection nobody uses for this long is closed, and its thread ends
MAX_REQUEST_LINE = 65536
MAX_BODY_BYTES = 10 * 1024 * 1024


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops the SYNs of a client that opens ten connections at once,
    # and each dropped one costs a second's retransmission.
    request_queue_size = socket.SOMAXCONN

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints the traceback of a connection's error on stderr, the user's terminal. A client
        # that went away before its answer was sent is no error of the site.
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, ConnectionError):
            log_unexpected(error)


class _Answer(ServerHandler):
    """Sends an answer in one piece: its status line, headers and body leave the buffer together."""

    def _flush(self) -> None:
        pass

    def log_exception(self, exc_info: Any) -> None:
        # wsgiref prints the traceback of an error while answering on stderr, the user's terminal.
        log_unexpected(exc_info[1])


class _Handler(WSGIRequestHandler):
    """One connection: its requests one after another, until the client closes it or it idles out."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # an answer's pieces go out at once, not after a delayed ACK
    timeout = IDLE_TIMEOUT_S
    wbufsize = -1  # buffered: _Answer and the keep-alive loop flush once per answer
    log_requests = False
    # http.server writes control characters of a logged request as \xNN; `#` too, so that no `##[` (a
    # workflow command anywhere in a line under GitHub Actions) comes from a request.
    _control_char_table: ClassVar[dict[int, str]] = {
        **BaseHTTPRequestHandler._control_char_table,  # type: ignore[attr-defined]
        ord("#"): r"\x23",
    }

    def handle(self) -> None:
        BaseHTTPRequestHandler.handle(self)  # the keep-alive loop, which wsgiref's handler replaces

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
        except TimeoutError:
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > MAX_REQUEST_LINE:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():  # it has answered, and closes the connection
            return
        length = self.headers.get("Content-Length") or "0"
        if "Transfer-Encoding" in self.headers or not length.isdigit() or int(length) > MAX_BODY_BYTES:
            self.close_connection = True  # the next request line cannot be found after such a body
            self.send_error(400, "send a body of at most 10 MB with a Content-Length")
            return
        # Read the body whole, so the next request starts where this one ends whatever the app reads.
        body = self.rfile.read(int(length))
        environ = self.get_environ()
        environ[CONNECTION_KEY] = self.connection
        handler = _Answer(io.BytesIO(body), self.wfile, self.get_stderr(), environ, multithread=True)  # type: ignore[arg-type]
        handler.http_version = "1.1"
        handler.request_handler = self  # type: ignore[attr-defined]  # wsgiref logs the request through it
        handler.run(self.server.get_app())  # type: ignore[attr-defined]
        try:
            self.wfile.flush()
        except OSError:  # the client went away, or the app dropped the connection on purpose
            self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.log_requests:
            super().log_request(code, size)


class _LoggingHandler(_Handler):
    """`sandbox serve` logs each request line and status (never headers), without colours."""

    log_requests = True


@contextmanager
def serve_in_thread(site: SandboxSite, port: int = 0) -> Iterator[str]:
    """Serve `site` on 127.0.0.1 (port 0: any free port) in a daemon thread; yields its base URL."""
    server = _serve(site, port, _Handler)
    # A short poll interval: shutdown() waits for the serving loop's next poll.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="jsm-sandbox", daemon=True
    )
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def serve_forever(site: SandboxSite, port: int, *, started: Callable[[str], None]) -> None:
    """`jsm-reconciler sandbox serve`: serve until interrupted, logging each request (never headers).

    `started` gets the base URL once the port is bound.
    """
    server = _serve(site, port, _LoggingHandler)
    started(f"http://{HOST}:{server.server_port}")
    server.serve_forever()


def _serve(site: SandboxSite, port: int, handler: type[_Handler]) -> _Server:
    server = _Server((HOST, port), handler)
    server.set_app(site)
    return server


def reset_state(state_file: Path, seed_file: Path | None) -> None:
    """`jsm-reconciler sandbox reset`: replace the state with the seed's site, or an empty site."""
    seed: dict[str, Any] = load_seed_file(seed_file) if seed_file is not None else {}
    try:
        state = build_state(seed)
    except SeedError as exc:
        raise SeedError(f"{seed_file}: {exc}") from None
    save_state(state, state_file)
