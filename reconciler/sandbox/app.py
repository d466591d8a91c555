"""The sandbox site as a WSGI application: routing, authentication, fault knobs and persistence."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from reconciler.sandbox import auth, csm, jira, members, ops, projects, schemes
from reconciler.sandbox.common import (
    SANDBOX_API_TOKEN,
    SANDBOX_EMAIL,
    SANDBOX_OAUTH_TOKEN,
    SANDBOX_SCOPED_TOKEN,
    ApiError,
    Ctx,
    Json,
    ProjectAccess,
    Reply,
    Route,
)
from reconciler.sandbox.seed import build_state
from reconciler.sandbox.state import EntityKind, State, load_state, save_state

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TENANT_INFO = "/_edge/tenant_info"
# Jira through the API gateway, for OAuth and scoped tokens (CLI.md, URL layout).
JIRA_GATEWAY = "/ex/jira/<cloud_id>"


CONNECTION_KEY = "jsm.sandbox.connection"  # the client's socket, in the WSGI environment


@dataclass
class Knobs:
    """Faults and limits for tests and benchmarks. All off by default; tests may change them at run time."""

    max_page_size: int | None = None
    latency_s: float = 0.0  # each answer leaves this long after its request came (processing included)
    rate_limit_every: int = 0
    retry_after_s: float = 1  # sent as written (`1.5` too), whatever the documents allow
    error_every: int = 0
    error_status: int = 503
    drop_after_write_every: int = 0
    slow_every: int = 0
    slow_s: float = 0.0
    record_calls: bool = False
    # (method, path suffix) -> status: matching requests fail with that status and change nothing.
    fail_on: dict[tuple[str, str], int] = field(default_factory=dict)
    # What a DELETE of a missing detail field, product or team role answers. Their documents declare
    # no 404 (only 400 among the 4xx for CSM), so a real site may well answer a repeated DELETE with 400.
    delete_missing_status: int = 404
    # Project key -> what the caller may do there short of administering it (a partly privileged account):
    # "browse" answers 403 to its permission scheme, "none" hides it (404, left out of searches).
    project_access: dict[str, ProjectAccess] = field(default_factory=dict)
    # Custom-role and team-role rights the site does not know are dropped from a write instead of refused:
    # the documents do not say which a site does (API-FACTS.md section 1).
    drop_unknown_rights: bool = False


@dataclass(frozen=True)
class Call:
    """One request as the site answered it. A dropped write shows the status it committed with."""

    method: str
    path: str
    query: str
    status: int


class Family(Enum):
    JIRA = "jira"
    CSM = "csm"
    OPS = "ops"

    @staticmethod
    def of(path: str) -> Family:
        if path.startswith("/jsm/csm/"):
            return Family.CSM
        if path.startswith("/jsm/ops/"):
            return Family.OPS
        # The site host (Jira, tenant_info, anything unknown) answers in Jira's style.
        return Family.JIRA

    def error_body(self, err: ApiError) -> Json:
        render: Callable[[ApiError], Json] = {
            Family.JIRA: jira.error_body,
            Family.CSM: csm.error_body,
            Family.OPS: ops.error_body,
        }[self]
        return render(err)

    def unauthorised(self) -> ApiError:
        message = jira.UNAUTHENTICATED if self is Family.JIRA else "Unauthorized"
        return ApiError(401, message, "UNAUTHORIZED")


def _tenant_info(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    return Reply(200, {"cloudId": ctx.state.cloud_id})


# Paths that need no credentials: tenant_info (documented), and GET /permissions, whose security list
# includes anonymous access.
# The token endpoint takes the client credentials in its body.
_ANONYMOUS = frozenset({TENANT_INFO, f"{jira.PREFIX}/permissions", auth.TOKEN_PATH})


class _ReadWriteLock:
    """Any number of readers at once, or one writer. A writer that waits goes before the readers that come
    after it, so a steady stream of reads cannot hold writes off for ever."""

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._changed:
            while self._writing or self._writers_waiting:
                self._changed.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._changed:
                self._readers -= 1
                if not self._readers:
                    self._changed.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._changed:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._changed.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()


class SandboxSite:
    """The embedded sandbox site: a WSGI application and its state.

    Like a real site, it serves reads side by side: a read shares the state with the other reads, while
    writes take it one at a time, so a read sees the state before a write or after it, never half of one.
    (A copy of the state per write, for reads to use while the next write runs, would cost 0.2 s at the
    benchmark's scale 1, and 1.5 s at scale 10.)

    With `state_file`, the state is loaded from it when it exists, written to it atomically after every
    committed write (before the answer is sent), and re-read when another process has replaced it.
    """

    def __init__(
        self,
        *,
        state_file: Path | None = None,
        seed: Mapping[str, Any] | None = None,
        knobs: Knobs | None = None,
    ) -> None:
        self.knobs = knobs or Knobs()
        self.calls: list[Call] = []
        self._lock = threading.Lock()  # the counters and `calls`
        self._state_lock = _ReadWriteLock()
        self._requests = 0
        self._writes = 0
        self._state_file = state_file
        self._file_stamp: tuple[int, int, int] | None = None
        if state_file is not None and os.path.lexists(state_file):  # a link is read, to be refused
            self._state = load_state(state_file)
            self._file_stamp = self._stamp()
        elif seed is not None:
            self._state = build_state(seed)
            self._persist()
        else:  # an empty site, as a missing state file means: nothing to write until something changes
            self._state = State()
        routes = [
            Route(TENANT_INFO, ("GET",), _tenant_info),
            *auth.ROUTES,
            *jira.ROUTES,
            *schemes.ROUTES,
            *projects.ROUTES,
            *members.ROUTES,
            *(
                Route(JIRA_GATEWAY + r.rule, r.methods, r.handler)
                for r in (*jira.ROUTES, *schemes.ROUTES, *projects.ROUTES, *members.ROUTES)
            ),
            *csm.ROUTES,
            *ops.ROUTES,
        ]
        rules = [Rule(route.rule, methods=list(route.methods), endpoint=route) for route in routes]
        self._urls = Map(rules, strict_slashes=False, merge_slashes=False)

    @property
    def cloud_id(self) -> str:
        with self._reading():
            return self._state.cloud_id

    # ---- read helpers for tests ------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._reading():
            return self._state.model_dump(mode="json")

    def detail_values(self, entity: EntityKind, entity_id: str) -> dict[str, list[str]]:
        """The stored detail values of one organization, customer or entitlement, by field name."""
        with self._reading():
            holder = next((h for h in csm.value_holders(self._state, entity) if h.id == entity_id), None)
            if holder is None:
                raise KeyError(f"no {entity} {entity_id}")
            names = {f.id: f.name for f in self._state.detail_fields[entity]}
            return {names[field_id]: values for field_id, values in holder.values.items()}

    # ---- WSGI ------------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        arrived = time.monotonic()
        request = Request(environ)
        family = Family.of(request.path)
        knobs = self.knobs
        with self._lock:
            # Every request counts, tenant_info included: a client's very first call can be throttled too.
            self._requests += 1
            number = self._requests
        if knobs.slow_every and number % knobs.slow_every == 0:
            time.sleep(knobs.slow_s)

        committed = False
        if knobs.rate_limit_every and number % knobs.rate_limit_every == 0:
            reply = self._error(family, ApiError(429, "Rate limit exceeded.", "TOO_MANY_REQUESTS"))
            reply.headers["Retry-After"] = f"{knobs.retry_after_s:g}"
        elif knobs.error_every and number % knobs.error_every == 0:
            reply = self._error(
                family, ApiError(knobs.error_status, "Simulated server error.", "SERVER_ERROR")
            )
            if knobs.error_status == 503:
                reply.headers["Retry-After"] = f"{knobs.retry_after_s:g}"
        elif forced := self._forced_status(request):
            reply = self._error(family, ApiError(forced, "Simulated failure.", "SIMULATED_FAILURE"))
        else:
            try:
                reply, committed = self._dispatch(request, family)
            except Exception as exc:
                # A bug, or a state file that cannot be read or written: never the client's fault. Answer
                # with the family's 500 body. A write whose state could not be saved stays in memory for this
                # run, unsaved: as a real site may keep a change it answered 500 to, which clients look for.
                log_unexpected(exc)
                reply = self._error(family, ApiError(500, "Internal server error.", "INTERNAL_ERROR"))

        drop = False
        with self._lock:
            if committed and knobs.drop_after_write_every:
                self._writes += 1
                drop = self._writes % knobs.drop_after_write_every == 0
            if knobs.record_calls:
                query = request.query_string.decode("latin-1")
                self.calls.append(Call(request.method, request.path, query, reply.status))

        response = Response(status=reply.status, headers=reply.headers)
        # Jira sends a request id with every answer; the apply journal records it.
        response.headers["X-ARequestId"] = f"sandbox-{number}"
        if reply.body is None:
            del response.headers["Content-Type"]  # a 204 has no body, so no body type either
        else:
            response.set_data(json.dumps(reply.body))
            response.mimetype = "application/json"
        # The answer leaves `latency_s` after the request came, however long the sandbox itself took: the
        # benchmark's lower bound counts exactly that much per round trip.
        if knobs.latency_s:
            time.sleep(max(0.0, knobs.latency_s - (time.monotonic() - arrived)))
        if drop:
            self._drop_connection(environ)
        return response(environ, start_response)

    def _dispatch(self, request: Request, family: Family) -> tuple[Reply, bool]:
        """The answer, and whether it committed a write."""
        try:
            route, args = self._urls.bind_to_environ(request.environ).match()
        except NotFound:
            return self._error(family, ApiError(404, f"No resource at {request.path}.", "NOT_FOUND")), False
        except MethodNotAllowed:
            return self._error(
                family, ApiError(405, f"{request.method} is not allowed here.", "METHOD_NOT_ALLOWED")
            ), False
        anonymous = request.path in _ANONYMOUS and "Authorization" not in request.headers
        at_site = request.path.startswith(jira.PREFIX)
        if not anonymous and not _authorised(request.headers.get("Authorization"), at_site=at_site):
            return self._error(family, family.unauthorised()), False
        if family is Family.OPS and auth.is_client_credentials_bearer(request.headers.get("Authorization")):
            # Service accounts cannot call JSM Operations (JSDCLOUD-17685). The status is our choice: Ops
            # answers a credential it does not take with 401 ("Unauthorized; scope does not match").
            refused = ApiError(
                401, "Unauthorized: service accounts cannot use JSM Operations.", "UNAUTHORIZED"
            )
            return self._error(family, refused), False
        args = dict(args)
        writes = request.method in WRITE_METHODS and not route.read_only
        body = request.get_data()  # read before taking the lock: a slow sender must not stall the site
        with self._writing() if writes else self._reading():
            if args.pop("cloud_id", self._state.cloud_id) != self._state.cloud_id:
                return self._error(family, ApiError(404, "No site with this cloud id.", "NOT_FOUND")), False
            if route.experimental and request.headers.get("X-ExperimentalApi") != "opt-in":
                refused = ApiError(
                    412,
                    "This API is experimental: send the header X-ExperimentalApi: opt-in.",
                    "PRECONDITION_FAILED",
                )
                return self._error(family, refused), False
            base_url = request.host_url.rstrip("/")
            if request.path.startswith("/ex/jira/"):
                base_url += f"/ex/jira/{self._state.cloud_id}"  # `self` links stay on the gateway
            ctx = Ctx(
                state=self._state,
                base_url=base_url,
                query=request.args,
                body=body,
                page_cap=self.knobs.max_page_size,
                project_access=self.knobs.project_access,
                drop_unknown_rights=self.knobs.drop_unknown_rights,
            )
            try:
                reply = route.handler(ctx, args)
            except ApiError as err:
                if err.status == 404 and route.no_declared_404:
                    err = ApiError(self.knobs.delete_missing_status, err.message, "BAD_REQUEST")
                return self._error(family, err), False
            if writes and reply.status < 300:
                # Handlers check everything before they change anything, so a refused write changed
                # nothing; no copy of the state is needed, which keeps writes cheap on a large site.
                self._persist()
                return reply, True
            return reply, False

    def _forced_status(self, request: Request) -> int | None:
        for (method, suffix), status in self.knobs.fail_on.items():
            if request.method == method and request.path.endswith(suffix):
                return status
        return None

    @staticmethod
    def _error(family: Family, err: ApiError) -> Reply:
        return Reply(err.status, family.error_body(err))

    @staticmethod
    def _drop_connection(environ: WSGIEnvironment) -> None:
        # The server puts the connection in the environment; shutting it down makes the answer's write
        # fail, and the client sees the connection break before any answer.
        sock: socket.socket | None = environ.get(CONNECTION_KEY)
        if sock is None:
            raise RuntimeError(
                "drop_after_write_every needs the sandbox's server (serve_in_thread/serve_forever)"
            )
        sock.shutdown(socket.SHUT_RDWR)

    # ---- the state's lock and persistence --------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[None]:
        if self._replaced_stamp() is not None:
            with self._writing():  # reloads the file, as only a writer may
                pass
        with self._state_lock.reading():
            yield

    @contextmanager
    def _writing(self) -> Iterator[None]:
        with self._state_lock.writing():
            self._reload_if_changed()
            yield

    def _stamp(self) -> tuple[int, int, int] | None:
        assert self._state_file is not None
        try:
            st = os.lstat(self._state_file)  # a link put in its place is noticed, and refused
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _persist(self) -> None:
        if self._state_file is not None:
            save_state(self._state, self._state_file)
            self._file_stamp = self._stamp()

    def _replaced_stamp(self) -> tuple[int, int, int] | None:
        """The state file's stamp, if another process (a second CLI run, `sandbox reset`) replaced it."""
        if self._state_file is None:
            return None
        stamp = self._stamp()
        return stamp if stamp is not None and stamp != self._file_stamp else None

    def _reload_if_changed(self) -> None:
        stamp = self._replaced_stamp()
        if stamp is not None:
            assert self._state_file is not None
            self._state = load_state(self._state_file)
            self._file_stamp = stamp


def log_unexpected(exc: BaseException) -> None:
    """One line on stderr for an error the sandbox did not expect, never a traceback (that with -v only).
    The line holds no request data: under GitHub Actions a printed line could be a workflow command."""
    log.error("sandbox site: answered 500 after an unexpected %s", type(exc).__name__)
    log.debug("the sandbox's unexpected error", exc_info=exc)


def _authorised(header: str | None, *, at_site: bool) -> bool:
    """The site URL (`at_site`) takes only a classic API token; the gateway takes every form. Like Atlassian
    Cloud, the site answers 401 to an OAuth token and to an API token with scopes."""
    if not header:
        return False
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        token = credentials.strip()
        fixed = hmac.compare_digest(token.encode(), SANDBOX_OAUTH_TOKEN.encode())
        return not at_site and (fixed or auth.is_issued_token(token, time.time()))
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        classic = hmac.compare_digest(decoded, f"{SANDBOX_EMAIL}:{SANDBOX_API_TOKEN}".encode())
        scoped = hmac.compare_digest(decoded, f"{SANDBOX_EMAIL}:{SANDBOX_SCOPED_TOKEN}".encode())
        return classic or (scoped and not at_site)
    return False
