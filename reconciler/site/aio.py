"""The client's event loop, for the per-object reads: a role's rights, a project's scheme, a team's roles.
They are most of a plan's requests, and all of them are known before the first is sent.

A thread per request in flight costs a wake-up and a hand-over of the GIL per answer. Here one event loop
reads the answers of every connection in one thread, over keep-alive connections, with httptools (llhttp,
the parser of Node.js) reading the answers: less than half the CPU per request of urllib3's threads
(`python -m bench.floor`). aiohttp was measured too: a fifth less than the threads once the client's care
was around it, not enough to pay for itself. The loop runs in a thread of its own for the client's life.

Only GETs go this way, and only straight to the site: through a proxy, every request goes through urllib3's
pools. Only the wire is here. An answer comes back as a urllib3 response, and a failure as the urllib3
exception for it, so site/http.py applies one retry policy and one set of error messages to both ways of
sending. The wire keeps http.client's rules, as urllib3 does: interim 1xx answers are skipped, a gzip or
deflate body is decoded (by urllib3's decoders), an answer's head is limited to 100 header lines of at most
64 KiB each, and a body delimited by the end of the connection counts only if the connection ended cleanly
(a FIN); after a reset the answer may be cut short, and the GET is retried. Over TLS, asyncio reports a FIN
without close_notify as a clean end, as Python's ssl sockets under urllib3 do: a body cut that way fails as
a body that does not parse. Atlassian's answers carry a length or chunks, so neither way meets one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import os
import socket
import ssl
import threading
from collections import defaultdict
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from http.client import HTTPException, LineTooLong
from typing import Any, TypeVar, cast
from urllib.parse import quote, urlsplit

import httptools
import urllib3
from urllib3 import HTTPHeaderDict
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.exceptions import SSLError as TlsError
from urllib3.util.retry import Retry

from reconciler.interruption import POLL_S, Interrupted

T = TypeVar("T")

CLOSE_TIMEOUT_S = 10.0
# What a request target may hold as it is: urllib3 percent-encodes anything else, and so does this module.
TARGET_SAFE = "/?:@!$&'()*+,;=-._~%"
Origin = tuple[str, str, int]  # scheme, host, port
# http.client's limits on an answer's head, which urllib3 inherits: header lines, and bytes per line.
MAX_HEADERS = 100
MAX_LINE = 65536
MAX_HEAD_BYTES = (MAX_HEADERS + 1) * MAX_LINE  # the status line and the headers, interim answers included


class EventLoop:
    """An event loop running in its own thread, with keep-alive connections to every origin it was asked
    about."""

    def __init__(self, *, connect_timeout_s: float, read_timeout_s: float, ca_bundle: str) -> None:
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._tls: ssl.SSLContext | None = None
        self._ca_bundle = ca_bundle
        self._idle: defaultdict[Origin, list[_Connection]] = defaultdict(list)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="site event loop", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], *, interrupted: Callable[[], bool] = lambda: False) -> T:
        """Runs `coroutine` on the loop; the calling thread waits for its result. When `interrupted()` comes
        true meanwhile (Ctrl-C), the coroutine is cancelled and Interrupted raised."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            while not future.done():
                concurrent.futures.wait([future], timeout=POLL_S)
                if interrupted() and not future.done():
                    raise Interrupted
        except BaseException:  # Ctrl-C, seen here or raised in the main thread: what waits stops too
            future.cancel()
            raise
        if interrupted():  # the coroutine's tasks may have stopped short because of it
            raise Interrupted
        return future.result()

    def close(self) -> None:
        self.run(self._shut_down())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=CLOSE_TIMEOUT_S)
        if not self._thread.is_alive():
            self._loop.close()

    async def _shut_down(self) -> None:
        """Cancels what still runs (reads a Ctrl-C interrupted) and closes every connection."""
        running = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    async def fetch(self, url: str, headers: bytes, retries: Retry) -> urllib3.HTTPResponse:
        """One GET with these `headers` (see `header_lines`), and its whole answer, as urllib3 would return it
        (`retries` is the policy it was sent under); a failure raises the urllib3 exception for it. Runs on
        the loop."""
        parts = urlsplit(url)
        origin = (parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        target = quote(parts.path or "/", safe=TARGET_SAFE)
        if parts.query:
            target += "?" + quote(parts.query, safe=TARGET_SAFE)
        request = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc.rpartition('@')[2]}\r\n".encode() + headers
        connection = await self._connection(origin)
        answer = await connection.exchange(request, url)
        if answer.reusable:
            self._idle[origin].append(connection)
        else:
            connection.close()
        # urllib3 decodes a body it reads (and raises DecodeError for a corrupt one), not one it is given.
        encoded = "content-encoding" in answer.headers
        return urllib3.HTTPResponse(
            body=io.BytesIO(answer.body) if encoded else answer.body,
            headers=answer.headers,
            status=answer.status,
            reason=answer.reason,
            preload_content=True,
            retries=retries,
            request_method="GET",
            request_url=url,
        )

    async def _connection(self, origin: Origin) -> _Connection:
        idle = self._idle[origin]
        while idle:
            connection = idle.pop()
            if connection.open:
                return connection
        scheme, host, port = origin
        tls = self._tls_context() if scheme == "https" else None
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                _, connection = await self._loop.create_connection(
                    lambda: _Connection(self._read_timeout_s),
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls else None,
                )
        except TimeoutError:
            raise ConnectTimeoutError(
                f"no connection to {host} within {self._connect_timeout_s:g} s"
            ) from None
        except socket.gaierror as exc:
            raise NameResolutionError(host, None, exc) from None  # type: ignore[arg-type]
        except ssl.SSLError as exc:
            raise TlsError(type(exc).__name__) from None
        except OSError as exc:
            raise NewConnectionError(None, type(exc).__name__) from None  # type: ignore[arg-type]
        return connection

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            bundle = self._ca_bundle
            if os.path.isdir(bundle):
                self._tls = ssl.create_default_context(capath=bundle)
            else:
                self._tls = ssl.create_default_context(cafile=bundle)
        return self._tls


def header_lines(headers: Mapping[str, str]) -> bytes:
    """The header lines of a request, and the blank line that ends them: made once for many requests."""
    return "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode("latin-1") + b"\r\n"


def _over_limits(problem: HTTPException) -> ProtocolError:
    """An answer's head over http.client's limits, as urllib3 reports one."""
    return ProtocolError("Connection aborted.", problem)


@dataclass(slots=True)
class _Answer:
    status: int
    reason: str
    headers: HTTPHeaderDict
    body: bytes
    reusable: bool  # the connection can carry the next request


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection, one request at a time. httptools calls the `on_` methods as it reads."""

    def __init__(self, read_timeout_s: float) -> None:
        self._read_timeout_s = read_timeout_s
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[_Answer] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._url = ""
        self._reason = ""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._headers_done = False
        self._head_bytes = 0  # read before the answer's final head was complete
        self._clean_close = False  # the server ended the connection with a FIN, not a reset
        self._heard = False  # whether any of the answer came since the read timer was set
        self.open = False

    # --- asyncio's side --------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # a stream's: it writes
        self.open = True

    def data_received(self, data: bytes) -> None:
        self._heard = True
        if not self._headers_done:
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            over = exc.__context__  # what a callback below raised
            if isinstance(over, HTTPException):
                self._fail(_over_limits(over))
            else:
                self._fail(ProtocolError(f"the answer is not HTTP ({type(exc).__name__})"))
            return
        if not self._headers_done and self._head_bytes > MAX_HEAD_BYTES:
            self._fail(_over_limits(HTTPException(f"got more than {MAX_HEAD_BYTES} bytes of headers")))

    def eof_received(self) -> None:
        self._clean_close = True  # returning None closes the transport: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        if self._answer is None or self._answer.done():
            return
        if exc is None and self._clean_close and self._headers_done and self._delimited_by_close():
            self._finish(reusable=False)
        else:
            self._fail(ProtocolError("the connection broke before the answer came"))

    # --- httptools' side -------------------------------------------------------------------------------

    def on_status(self, reason: bytes) -> None:
        self._reason += reason.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self._headers) >= MAX_HEADERS:
            raise HTTPException(f"got more than {MAX_HEADERS} headers")
        if len(name) + len(value) > MAX_LINE:
            raise LineTooLong("header line")
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self._parser.get_status_code() < 200:  # interim (100 Continue, 103 Early Hints): skipped
            self._reason, self._headers, self._body, self._headers_done = "", [], [], False
            return
        self._finish(reusable=self._parser.should_keep_alive())

    # --- the exchange ----------------------------------------------------------------------------------

    async def exchange(self, request: bytes, url: str) -> _Answer:
        assert self._transport is not None
        self._answer = asyncio.get_running_loop().create_future()
        self._url = url
        self._transport.write(request)
        self._set_timer()
        try:
            return await self._answer
        except asyncio.CancelledError:
            self.close()  # an answer may still be on its way: this connection cannot be reused
            raise

    def close(self) -> None:
        self.open = False
        self._stop_timer()
        if self._transport is not None:
            self._transport.close()

    def _finish(self, *, reusable: bool) -> None:
        self._stop_timer()
        headers = HTTPHeaderDict()
        for name, value in self._headers:
            headers.add(name.decode("latin-1"), value.decode("latin-1"))
        answer = _Answer(
            self._parser.get_status_code(), self._reason, headers, b"".join(self._body), reusable
        )
        self._reason, self._headers, self._body, self._headers_done = "", [], [], False
        self._head_bytes = 0
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(answer)

    def _fail(self, error: HTTPError) -> None:
        self.close()
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(error)

    def _delimited_by_close(self) -> bool:
        names = {name.lower(): value.lower() for name, value in self._headers}
        return b"content-length" not in names and b"chunked" not in names.get(b"transfer-encoding", b"")

    def _set_timer(self) -> None:
        """The read timeout: no byte of the answer for `read_timeout_s`, noticed within twice that. One timer
        per answer, not one per chunk read."""
        self._heard = False
        self._timer = asyncio.get_running_loop().call_later(self._read_timeout_s, self._timed_out)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        if self._heard:
            self._set_timer()
            return
        self._fail(ReadTimeoutError(None, self._url, f"no answer within {self._read_timeout_s:g} s"))  # type: ignore[arg-type]
