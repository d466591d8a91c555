"""The seam between the kinds and HTTP: what reading and writing a site needs, and nothing of how.

`SiteClient` (site/http.py) implements it over urllib3 and an event loop (site/aio.py); tests run the same
client over the sandbox's WSGI app in-process (tests/inprocess.py), so planning and applying are tested
without a server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Api(StrEnum):
    JIRA = "jira"
    CSM = "csm"
    OPS = "ops"


def display_path(api: Api, path: str) -> str:
    """An API path as messages name it, without the site's cloud id."""
    prefix = {Api.JIRA: "/rest/api/3", Api.CSM: "/jsm/csm/.../api/v1", Api.OPS: "/jsm/ops/.../v1"}[api]
    return prefix + path


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    request_id: str | None


class SiteApi(Protocol):
    """One site's three API families. Every method raises SiteError for anything but a 2xx."""

    @property
    def cloud_id(self) -> str: ...

    def request(
        self,
        api: Api,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> Response: ...

    def get(self, api: Api, path: str, params: Mapping[str, Any] | None = None) -> Any: ...

    def get_each(
        self,
        api: Api,
        paths: Sequence[str],
        params: Mapping[str, Any] | None = None,
        *,
        missing_ok: bool = False,
    ) -> Iterator[Any]:
        """GETs every path at once; the bodies in order (None for a 404 when `missing_ok`). Every error is
        raised before the first body; while the caller reads a body, `last_endpoint` names its request."""
        ...

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """`fn` over items concurrently, results in order, under the site's concurrency limit."""
        ...

    def paginate_cursor(self, api: Api, path: str, *, limit: int, key: str = "results") -> Iterator[Any]: ...

    def paginate_links(self, api: Api, path: str, *, size: int) -> Iterator[Any]: ...

    def paginate_page_bean(
        self, api: Api, path: str, *, max_results: int, params: Mapping[str, Any] | None = None
    ) -> Iterator[Any]: ...

    def last_endpoint(self) -> str:
        """The endpoint whose answer this thread last read: the one to name when it has the wrong shape."""
        ...

    def forget_last_endpoint(self) -> None: ...

    def recording_request_ids(self) -> AbstractContextManager[list[str]]:
        """Collects the request ids of the answers this thread gets meanwhile."""
        ...
