"""Reading the live site: the lookups the manifests refer to, then every managed object.

This is the last IO before planning. Independent reads run concurrently under the client's shared
limit; each kind waits only for the lookups it needs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from reconciler.allocation import cycle_collection_paused
from reconciler.errors import TerminalSiteError
from reconciler.kinds.kind import LiveObject, Lookups, ResourceKind, identity_key
from reconciler.site.http import Api, SiteClient

T = TypeVar("T")
GROUP_PAGE_SIZE = 50  # the API's default for /group/bulk


@dataclass(frozen=True)
class LiveState:
    site: str
    lookups: Lookups
    objects: Mapping[str, tuple[LiveObject, ...]]  # kind name -> objects; only the kinds read

    def of(self, kind: str) -> tuple[LiveObject, ...]:
        return self.objects.get(kind, ())

    def fingerprints(self) -> dict[str, str]:
        """identity_key -> fingerprint, for every object read."""
        return {
            identity_key(kind, obj.identity): obj.fingerprint
            for kind, objects in self.objects.items()
            for obj in objects
        }


Progress = Callable[[str], None]


@cycle_collection_paused()
def read_live_state(
    client: SiteClient, kinds: Sequence[ResourceKind], *, site: str, progress: Progress | None = None
) -> LiveState:
    report = progress or (lambda _message: None)
    needs = {need for kind in kinds for need in kind.needs}
    client.cloud_id  # noqa: B018 - read once here, rather than raced by the first concurrent reads
    readers: dict[str, Callable[[], Any]] = {
        "teams": lambda: _read_teams(client),
        "groups": lambda: _read_groups(client),
        "projectRoles": lambda: _read_project_roles(client),
        "permissions": lambda: _read_permission_keys(client),
    }
    with ThreadPoolExecutor(max_workers=len(readers) + len(kinds)) as pool:
        lookups_read = {
            need: pool.submit(_reporting(report, need, _shape_checked(client, need, readers[need])))
            for need in sorted(needs)
        }

        def read_kind(kind: ResourceKind) -> list[LiveObject]:
            lookups = _lookups({need: lookups_read[need] for need in kind.needs})
            read = functools.partial(_named, kind.read, client, lookups)
            return _shape_checked(client, kind.name, read)()

        objects = {
            kind.name: pool.submit(_reporting(report, kind.name, functools.partial(read_kind, kind)))
            for kind in kinds
        }
        lookups = _lookups(lookups_read)
        return LiveState(site, lookups, {name: tuple(future.result()) for name, future in objects.items()})


# What reading an answer of the wrong shape raises: a missing key, a list for an object, a wrong type.
SHAPE_ERRORS = (KeyError, IndexError, TypeError, AttributeError, ValueError)


def _shape_checked(client: SiteClient, what: str, read: Callable[[], T]) -> Callable[[], T]:
    """`read`, with an answer of the wrong shape turned into an error that names the endpoint."""

    def run() -> T:
        client.forget_last_endpoint()  # pool threads are reused: nothing heard by an earlier task
        try:
            return read()
        except SHAPE_ERRORS as exc:
            endpoint = client.last_endpoint() or f"reading {what}"
            problem = f"{type(exc).__name__}: {exc}"
            raise TerminalSiteError(
                f"{endpoint}: the answer does not have the documented shape ({problem}), "
                f"so {what} cannot be read",
                endpoint=endpoint,
            ) from exc

    return run


def _named(
    read: Callable[[SiteClient, Lookups], list[LiveObject]], client: SiteClient, lookups: Lookups
) -> list[LiveObject]:
    """The objects `read` returns, each with text for a name: a number or a list where the API sends a
    name would otherwise plan a delete of that object and a create of the one it really is."""
    objects = read(client, lookups)
    for obj in objects:
        if not isinstance(obj.address.name, str) or not all(isinstance(part, str) for part in obj.identity):
            raise TypeError(f"the name of {obj.address.kind} {obj.server_id} is not text")
    return objects


def _reporting(report: Progress, what: str, read: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        result = read()
        report(f"read {what}")
        return result

    return run


def _lookups(read: Mapping[str, Future[Any]]) -> Lookups:
    def get(need: str, empty: Any) -> Any:
        return read[need].result() if need in read else empty

    return Lookups(
        teams=get("teams", {}),
        groups=get("groups", {}),
        project_roles=get("projectRoles", {}),
        permission_keys=get("permissions", frozenset()),
    )


def _read_teams(client: SiteClient) -> dict[str, str]:
    body = client.get(Api.OPS, "/teams")
    return {str(t["teamId"]): str(t["teamName"]) for t in body.get("platformTeams") or []}


def _read_groups(client: SiteClient) -> dict[str, str]:
    groups: Iterable[Any] = client.paginate_page_bean(Api.JIRA, "/group/bulk", max_results=GROUP_PAGE_SIZE)
    return {str(g["groupId"]): str(g["name"]) for g in groups}


def _read_project_roles(client: SiteClient) -> dict[str, str]:
    return {str(r["id"]): str(r["name"]) for r in client.get(Api.JIRA, "/role")}


def _read_permission_keys(client: SiteClient) -> frozenset[str]:
    permissions = client.get(Api.JIRA, "/permissions")["permissions"]
    # Global permissions cannot be granted in a permission scheme.
    return frozenset(key for key, p in permissions.items() if p.get("type", "PROJECT") == "PROJECT")
