"""Serving the sandbox site over HTTP with werkzeug's threaded server, and resetting its state file."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from reconciler.sandbox.app import SandboxSite
from reconciler.sandbox.seed import SeedError, build_state, load_seed_file
from reconciler.sandbox.state import save_state

HOST = "127.0.0.1"


class _Handler(WSGIRequestHandler):
    # HTTP/1.1 like the real sites. Werkzeug still closes every connection after its answer (it cannot
    # drain a request body before the next request line), so clients open one connection per request.
    protocol_version = "HTTP/1.1"


class _PlainLogHandler(_Handler):
    """The access log without werkzeug's ANSI colours, which would land in log files as escape codes."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.log("info", '"%s" %s %s', self.requestline.translate(self._control_char_table), code, size)


class _QuietHandler(_Handler):
    """No access log: tests and the embedded default site should not chatter on stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve_in_thread(site: SandboxSite, port: int = 0) -> Iterator[str]:
    """Serve `site` on 127.0.0.1 (port 0: any free port) in a daemon thread; yields its base URL."""
    server = make_server(HOST, port, site, threaded=True, request_handler=_QuietHandler)
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

    `started` gets the base URL once the port is bound; it replaces werkzeug's coloured startup banner.
    """
    server = make_server(HOST, port, site, threaded=True, request_handler=_PlainLogHandler)
    started(f"http://{HOST}:{server.server_port}")
    server.serve_forever()


def reset_state(state_file: Path, seed_file: Path | None) -> None:
    """`jsm-reconciler sandbox reset`: replace the state with the seed's site, or an empty site."""
    seed: dict[str, Any] = load_seed_file(seed_file) if seed_file is not None else {}
    try:
        state = build_state(seed)
    except SeedError as exc:
        raise SeedError(f"{seed_file}: {exc}") from None
    save_state(state, state_file)
