"""Reading the live site: the lookups the manifests refer to, then every managed object.

This is the last IO before planning. Independent reads run concurrently under the client's shared
limit; each kind waits only for the lookups it needs.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from reconciler.address import Address
from reconciler.allocation import cycle_collection_paused
from reconciler.errors import TerminalSiteError
from reconciler.interruption import thread_pool
from reconciler.kinds.kind import CheckedHolders, LiveObject, Lookups, ResourceKind
from reconciler.policy_rules import ANY_PERMISSION, PolicyRule
from reconciler.site.api import Api, SiteApi
from reconciler.state import DesiredState

T = TypeVar("T")
GROUP_PAGE_SIZE = 50  # the API's default for /group/bulk
# accountId values per GET /user/bulk. The documents state no limit: the `maxLength: 128` on the parameter is
# an account id's length (a string keyword, meaningless on the array that also carries it). What bounds a
# batch is the request line: at 128 characters an id, plus `&accountId=`, 50 of them stay under 7 KB,
# within the 8 KB that HTTP servers and proxies commonly allow a request line; 50 is also how many project
# keys or ids GET /project/search takes at once.
USER_BATCH = 50
NO_HOLDERS = CheckedHolders()


@dataclass(frozen=True)
class LiveState:
    site: str
    lookups: Lookups
    objects: Mapping[str, tuple[LiveObject, ...]]  # kind name -> objects; only the kinds read

    def of(self, kind: str) -> tuple[LiveObject, ...]:
        return self.objects.get(kind, ())

    def fingerprints(self) -> dict[str, str]:
        """Each object's identity (as text) -> its fingerprint, for every object read."""
        return {
            str(obj.identity): obj.fingerprint for kind, objects in self.objects.items() for obj in objects
        }


Progress = Callable[[str], None]


def holders_to_check(kinds: Sequence[ResourceKind], desired: DesiredState) -> CheckedHolders:
    """The holders the manifests name, in the kinds read and in settings.policies, that only the site can
    check."""
    holders = named_by_policies(desired.settings.policies)
    for kind in kinds:
        holders |= kind.holders_to_check(desired)
    return holders


def named_by_policies(rules: Sequence[PolicyRule]) -> CheckedHolders:
    """What the rules name that only the site can check, as a grant's holders are checked: a rule naming a
    group or a permission the site does not have would judge nothing, unseen. Names also match live grants,
    which name groups, project roles and fields by id."""
    named = [holder for rule in rules for holder in rule.holders if holder.ident is not None]
    return CheckedHolders(
        application_roles=any(holder.type == "applicationRole" for holder in named),
        custom_fields=any(holder.type in ("userCustomField", "groupCustomField") for holder in named),
        account_ids=frozenset(holder.ident for holder in named if holder.type == "user" and holder.ident),
        groups=any(holder.type == "group" for holder in named),
        project_roles=any(holder.type == "projectRole" for holder in named),
        permission_keys=any(rule.on_grants and rule.permission != ANY_PERMISSION for rule in rules),
    )


def lookup_reads(kinds: Sequence[ResourceKind], holders: CheckedHolders = NO_HOLDERS) -> set[str]:
    """The lookups to read: what the kinds need, and the holders the manifests' grants name."""
    wanted = {
        "applicationRoles": holders.application_roles,
        "customFields": holders.custom_fields,
        "users": bool(holders.account_ids),
        "groups": holders.groups,
        "projectRoles": holders.project_roles,
        "permissions": holders.permission_keys,
    }
    return {need for kind in kinds for need in kind.needs} | {need for need, used in wanted.items() if used}


@cycle_collection_paused()
def read_live_state(
    client: SiteApi,
    kinds: Sequence[ResourceKind],
    *,
    site: str,
    progress: Progress | None = None,
    holders: CheckedHolders = NO_HOLDERS,
    declared: frozenset[Address] | None = None,
) -> LiveState:
    """`declared`: the addresses the manifests declare, for kinds read one object at a time (projects);
    None reads every object (export)."""
    report = progress or (lambda _message: None)
    needs = lookup_reads(kinds, holders)
    client.cloud_id  # noqa: B018 - read once here, rather than raced by the first concurrent reads
    readers: dict[str, Callable[[], Any]] = {
        "teams": lambda: _read_teams(client),
        "groups": lambda: _read_groups(client),
        "projectRoles": lambda: _read_project_roles(client),
        "permissions": lambda: _read_permission_keys(client),
        "applicationRoles": lambda: _read_application_roles(client),
        "customFields": lambda: _read_custom_fields(client),
        "users": lambda: _read_users(client, holders.account_ids),
    }
    with thread_pool(len(readers) + len(kinds)) as pool:
        lookups_read = {
            need: pool.submit(_reporting(report, need, _shape_checked(client, need, readers[need])))
            for need in sorted(needs)
        }
        started = threading.Lock()

        def on_demand(need: str) -> Future[Any]:
            with started:
                if need not in lookups_read:
                    lookups_read[need] = pool.submit(_shape_checked(client, need, readers[need]))
                return lookups_read[need]

        def read_kind(kind: ResourceKind) -> list[LiveObject]:
            lookups = _lookups(
                {need: lookups_read[need] for need in kind.needs},
                declared,
                {need: functools.partial(on_demand, need) for need in kind.reads_on_demand},
            )
            read = functools.partial(_named, kind.read, client, lookups)
            return _shape_checked(client, kind.name, read)()

        objects = {
            kind.name: pool.submit(_reporting(report, kind.name, functools.partial(read_kind, kind)))
            for kind in kinds
        }
        read = {name: tuple(future.result()) for name, future in objects.items()}
        # What was read, on demand too: the plan that follows does no IO.
        return LiveState(site, _lookups(lookups_read, declared), read)


# What reading an answer of the wrong shape raises: a missing key, a list for an object, a wrong type.
SHAPE_ERRORS = (KeyError, IndexError, TypeError, AttributeError, ValueError)


def _shape_checked(client: SiteApi, what: str, read: Callable[[], T]) -> Callable[[], T]:
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
    read: Callable[[SiteApi, Lookups], list[LiveObject]], client: SiteApi, lookups: Lookups
) -> list[LiveObject]:
    """The objects `read` returns, each with text for a name: a number or a list where the API sends a
    name would otherwise plan a delete of that object and a create of the one it really is."""
    objects = read(client, lookups)
    for obj in objects:
        if not all(
            isinstance(part, str) for part in (obj.address.name, obj.identity.scope, obj.identity.name)
        ):
            raise TypeError(f"the name of {obj.address.kind} {obj.server_id} is not text")
    return objects


def _reporting(report: Progress, what: str, read: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        result = read()
        report(f"read {what}")
        return result

    return run


class _OnDemand(Mapping[str, str]):
    """A lookup (id -> name) read the first time it is used."""

    def __init__(self, start: Callable[[], Future[Mapping[str, str]]]) -> None:
        self._start = start

    def _read(self) -> Mapping[str, str]:
        return self._start().result()

    def __getitem__(self, key: str) -> str:
        return self._read()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())


def _lookups(
    read: Mapping[str, Future[Any]],
    declared: frozenset[Address] | None,
    on_demand: Mapping[str, Callable[[], Future[Any]]] | None = None,
) -> Lookups:
    def get(need: str, empty: Any) -> Any:
        if on_demand and need in on_demand:
            return _OnDemand(on_demand[need])
        return read[need].result() if need in read else empty

    return Lookups(
        teams=get("teams", {}),
        groups=get("groups", {}),
        project_roles=get("projectRoles", {}),
        permission_keys=get("permissions", frozenset()),
        application_roles=get("applicationRoles", frozenset()),
        custom_fields=get("customFields", {}),
        users=get("users", frozenset()),
        declared=declared,
    )


def _read_teams(client: SiteApi) -> dict[str, str]:
    body = client.get(Api.OPS, "/teams")
    return {str(t["teamId"]): str(t["teamName"]) for t in body.get("platformTeams") or []}


def _read_groups(client: SiteApi) -> dict[str, str]:
    groups: Iterable[Any] = client.paginate_page_bean(Api.JIRA, "/group/bulk", max_results=GROUP_PAGE_SIZE)
    return {str(g["groupId"]): str(g["name"]) for g in groups}


def _read_project_roles(client: SiteApi) -> dict[str, str]:
    return {str(r["id"]): str(r["name"]) for r in client.get(Api.JIRA, "/role")}


def _read_permission_keys(client: SiteApi) -> frozenset[str]:
    permissions = client.get(Api.JIRA, "/permissions")["permissions"]
    # Global permissions cannot be granted in a permission scheme.
    return frozenset(key for key, p in permissions.items() if p.get("type", "PROJECT") == "PROJECT")


def _read_application_roles(client: SiteApi) -> frozenset[str]:
    return frozenset(str(role["key"]) for role in client.get(Api.JIRA, "/applicationrole"))


def _read_custom_fields(client: SiteApi) -> dict[str, str]:
    # System fields cannot hold a permission: only custom fields are userCustomField/groupCustomField.
    return {str(f["id"]): str(f["name"]) for f in client.get(Api.JIRA, "/field") if f.get("custom")}


def _read_users(client: SiteApi, account_ids: frozenset[str]) -> frozenset[str]:
    """The account ids that the site has, USER_BATCH per request (the ids the site lacks are left out)."""
    ordered = sorted(account_ids)
    batches = [ordered[i : i + USER_BATCH] for i in range(0, len(ordered), USER_BATCH)]

    def read(batch: list[str]) -> list[str]:
        users = client.paginate_page_bean(
            Api.JIRA, "/user/bulk", max_results=len(batch), params={"accountId": batch}
        )
        return [str(user["accountId"]) for user in users]

    return frozenset(account_id for found in client.map(read, batches) for account_id in found)
