"""A small fake of the GitHub REST API's issue comments, served by werkzeug on 127.0.0.1.

Enough for the action: list (paginated), create and update comments of an issue or pull request. Every
request needs `Authorization: Bearer <token>`; each one is recorded. The server stops when its context
exits, and a watchdog stops it after `lifetime` seconds in any case.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Recorded:
    method: str
    path: str
    authorization: str


@dataclass
class FakeGitHub:
    token: str
    repository: str = "acme/jsm-config"
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # issue number -> comments
    requests: list[Recorded] = field(default_factory=list)
    page_size_cap: int = 100
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1001))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self, number: int) -> list[str]:
        return [c["body"] for c in self.comments.get(number, [])]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        self.requests.append(Recorded(request.method, request.path, request.headers.get("Authorization", "")))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json({"message": "Bad credentials"}, 401)
        prefix = f"/repos/{self.repository}/issues/"
        if not request.path.startswith(prefix):
            return _json({"message": "Not Found"}, 404)
        rest = request.path[len(prefix) :].split("/")
        if len(rest) == 2 and rest[0].isdigit() and rest[1] == "comments":
            number = int(rest[0])
            if request.method == "GET":
                per_page = min(int(request.args.get("per_page", 30)), self.page_size_cap)
                page = int(request.args.get("page", 1))
                items = self.comments.get(number, [])
                return _json(items[(page - 1) * per_page : page * per_page])
            if request.method == "POST":
                body = (request.get_json(silent=True) or {}).get("body")
                if not isinstance(body, str) or not body:
                    return _json({"message": "body is missing"}, 422)
                if len(body) > 65_536:
                    return _json({"message": "Body is too long (maximum is 65536 characters)"}, 422)
                comment = {"id": next(self._ids), "body": body, "user": {"login": "github-actions[bot]"}}
                self.comments.setdefault(number, []).append(comment)
                return _json(comment, 201)
        if len(rest) == 2 and rest[0] == "comments" and rest[1].isdigit() and request.method == "PATCH":
            body = (request.get_json(silent=True) or {}).get("body")
            if not isinstance(body, str) or len(body) > 65_536:
                return _json({"message": "Validation Failed"}, 422)
            for comment in itertools.chain.from_iterable(self.comments.values()):
                if comment["id"] == int(rest[1]):
                    comment["body"] = body
                    return _json(comment)
        return _json({"message": "Not Found"}, 404)


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve(app: FakeGitHub, *, lifetime: float = 120.0) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 at a free port; yields the API root URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    watchdog = threading.Timer(lifetime, server.shutdown)
    watchdog.daemon = True
    thread.start()
    watchdog.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        watchdog.cancel()
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
