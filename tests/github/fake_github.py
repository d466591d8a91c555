"""A small fake of the GitHub API, served by werkzeug on 127.0.0.1.

Enough for the action: list (paginated), create and update comments of an issue or pull request; the pull
requests associated with a commit; and GraphQL's `viewer` (who the token is) and a comment's last `editor`.
Comments carry their author (`user`) as GitHub's REST API does. Every request needs
`Authorization: Bearer <token>`; each one is recorded. The server stops when its context exits, and a
watchdog stops it after `lifetime` seconds in any case.
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


ACTIONS_BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}  # who GITHUB_TOKEN writes as


@dataclass
class FakeGitHub:
    token: str
    repository: str = "acme/jsm-config"
    identity: dict[str, Any] = field(default_factory=lambda: dict(ACTIONS_BOT))  # the token's user
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # issue number -> comments
    pulls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # commit sha -> pull requests
    requests: list[Recorded] = field(default_factory=list)
    page_size_cap: int = 100
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1001))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self, number: int) -> list[str]:
        return [c["body"] for c in self.comments.get(number, [])]

    def add_comment(self, number: int, body: str, user: dict[str, Any]) -> dict[str, Any]:
        """A comment posted by `user` (someone else than the token, as a test arranges)."""
        with self._lock:
            return self._new_comment(number, body, user)

    def edit_comment(self, comment_id: int, body: str, user: dict[str, Any]) -> None:
        """`user` edits a comment, as anyone with write access to the repository may."""
        with self._lock:
            comment = self._comment(comment_id)
            assert comment is not None
            comment["body"], comment["_editor"] = body, user

    def _new_comment(self, number: int, body: str, user: dict[str, Any]) -> dict[str, Any]:
        comment_id = next(self._ids)
        comment = {"id": comment_id, "node_id": f"IC_kwDO{comment_id}", "body": body, "user": dict(user)}
        self.comments.setdefault(number, []).append(comment)
        return comment

    def _comment(self, comment_id: int) -> dict[str, Any] | None:
        return next(
            (c for c in itertools.chain.from_iterable(self.comments.values()) if c["id"] == comment_id), None
        )

    def _graphql(self, request: Request) -> Response:
        payload = request.get_json(silent=True) or {}
        query = str(payload.get("query", ""))
        if "viewer" in query:
            viewer = {"login": self.identity["login"], "databaseId": self.identity["id"]}
            return _json({"data": {"viewer": viewer}})
        if "node(" in query and "editor" in query:
            node_id = (payload.get("variables") or {}).get("id")
            found = next(
                (c for c in itertools.chain.from_iterable(self.comments.values()) if c["node_id"] == node_id),
                None,
            )
            if found is None:
                return _json({"data": {"node": None}})
            editor = found.get("_editor")
            shown = {"login": editor["login"], "databaseId": editor["id"]} if editor else None
            return _json({"data": {"node": {"editor": shown}}})
        return _json({"errors": [{"message": "the fake knows no such query"}]})

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        self.requests.append(Recorded(request.method, request.path, request.headers.get("Authorization", "")))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json({"message": "Bad credentials"}, 401)
        if request.path == "/graphql" and request.method == "POST":
            return self._graphql(request)
        commits = f"/repos/{self.repository}/commits/"
        if request.path.startswith(commits) and request.path.endswith("/pulls") and request.method == "GET":
            return _json(self.pulls.get(request.path[len(commits) : -len("/pulls")], []))
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
                return _json([_public(c) for c in items[(page - 1) * per_page : page * per_page]])
            if request.method == "POST":
                body = (request.get_json(silent=True) or {}).get("body")
                if not isinstance(body, str) or not body:
                    return _json({"message": "body is missing"}, 422)
                if len(body) > 65_536:
                    return _json({"message": "Body is too long (maximum is 65536 characters)"}, 422)
                return _json(_public(self._new_comment(number, body, self.identity)), 201)
        if len(rest) == 2 and rest[0] == "comments" and rest[1].isdigit() and request.method == "PATCH":
            body = (request.get_json(silent=True) or {}).get("body")
            if not isinstance(body, str) or len(body) > 65_536:
                return _json({"message": "Validation Failed"}, 422)
            comment = self._comment(int(rest[1]))
            if comment is not None:
                comment["body"], comment["_editor"] = body, self.identity
                return _json(_public(comment))
        return _json({"message": "Not Found"}, 404)


def _public(comment: dict[str, Any]) -> dict[str, Any]:
    """A comment as the REST API shows it: the last editor is only known to GraphQL."""
    return {k: v for k, v in comment.items() if not k.startswith("_")}


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
