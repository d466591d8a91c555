"""Fixtures for the client tests: a served sandbox site with knobs, clients for it, and tiny servers of our
own for the answers the sandbox never gives (malformed bodies, echoed credentials).

Every server binds 127.0.0.1 on a free port and is shut down by its fixture; nothing else uses the network.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from reconciler import registry
from reconciler.kinds import kind as kind_module
from reconciler.sandbox.app import Call, Knobs, SandboxSite
from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from reconciler.sandbox.seed import load_seed_file
from reconciler.sandbox.server import serve_in_thread
from reconciler.site.config import Credentials
from reconciler.site.http import SiteClient
from reconciler.site.settings import ClientSettings

DEMO_SEED = Path(__file__).parents[2] / "examples" / "sandbox-seed.yaml"
CLOUD_ID = "5c1e0f4a-7b2d-4c8e-9f10-a1b2c3d4e5f6"
# Fast, bounded defaults for tests: tiny backoff, short timeouts.
FAST = ClientSettings(concurrency=4, connect_timeout_s=2.0, read_timeout_s=5.0, max_retries=3, backoff_s=0.01)
BASIC = Credentials(email=SANDBOX_EMAIL, secret=SANDBOX_API_TOKEN)

N_PRODUCTS = 23
N_ROLES = 22
N_GROUPS = 31


def many_seed() -> dict[str, Any]:
    """The demo site plus enough products, custom roles and groups to take many small pages."""
    seed = load_seed_file(DEMO_SEED)
    seed["products"] = [{"name": f"Product {i:02d}"} for i in range(N_PRODUCTS)]
    seed["customRoles"] = [
        {"name": f"Role {i:02d}", "grantedRights": ["alert-action"]} for i in range(N_ROLES)
    ]
    seed["groups"] = [*seed["groups"], *({"name": f"group-{i:02d}"} for i in range(N_GROUPS - 3))]
    return seed


@dataclass
class Served:
    """A sandbox site served over HTTP, and a factory of clients for it (closed at teardown)."""

    site: SandboxSite
    url: str
    _stack: ExitStack = field(default_factory=ExitStack)

    @property
    def knobs(self) -> Knobs:
        return self.site.knobs

    def client(
        self,
        credentials: Credentials = BASIC,
        *,
        cloud_id: str | None = CLOUD_ID,
        **settings: Any,
    ) -> SiteClient:
        client = SiteClient(
            self.url, self.url, credentials, cloud_id=cloud_id, settings=replace(FAST, **settings)
        )
        return self._stack.enter_context(client)

    def calls(self, method: str | None = None, contains: str = "") -> list[Call]:
        return [
            c for c in list(self.site.calls) if (method is None or c.method == method) and contains in c.path
        ]


def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    """Whether `condition` comes to hold within `timeout_s`, looking every few milliseconds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


@pytest.fixture(scope="session")
def demo_seed() -> dict[str, Any]:
    return load_seed_file(DEMO_SEED)


@pytest.fixture
def serve_site() -> Iterator[Callable[..., Served]]:
    """`serve_site(seed=..., **knobs)` serves a fresh sandbox site that records its calls."""
    with ExitStack() as stack:

        def serve(seed: dict[str, Any] | None = None, **knobs: Any) -> Served:
            site = SandboxSite(seed=seed if seed is not None else {}, knobs=Knobs(record_calls=True, **knobs))
            url = stack.enter_context(serve_in_thread(site))
            served = Served(site, url)
            stack.enter_context(served._stack)
            return served

        yield serve


@pytest.fixture
def served(serve_site: Callable[..., Served], demo_seed: dict[str, Any]) -> Served:
    return serve_site(seed=demo_seed)


@pytest.fixture
def no_create_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """create_verified pauses before it looks; tests need no pause."""
    monkeypatch.setattr(kind_module, "CREATE_RETRY_PAUSE_S", 0.0)


ALL_KINDS = registry.KINDS


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


Handler = Callable[[Request], Response]


@contextmanager
def serve_app(handler: Handler) -> Iterator[str]:
    """Serve a tiny app of our own on 127.0.0.1 (any free port); yields its base URL."""

    def app(environ: Any, start_response: Any) -> Any:
        return handler(Request(environ))(environ, start_response)

    with serve_wsgi(app) as url:
        yield url


@contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """Serve a WSGI application on 127.0.0.1 (any free port); yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, name="test-app", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def app_client(
    handler: Handler, *, credentials: Credentials = BASIC, cloud_id: str | None = None, **settings: Any
) -> Iterator[SiteClient]:
    """A client for a tiny app of our own (see `serve_app`)."""
    with (
        serve_app(handler) as url,
        SiteClient(url, url, credentials, cloud_id=cloud_id, settings=replace(FAST, **settings)) as client,
    ):
        yield client
