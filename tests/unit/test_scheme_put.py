"""PUT /permissionscheme/{id} sends every field the scheme should keep: the document does not say that a field
left out is kept (only that `permissions`, when present, replaces every grant). The other PUTs and the PATCH
already send their whole object: a product its name (all ProductRequest has), a detail field its name with
its options, a custom role its name and both rights lists, a team role its name and all 17 rights."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

from reconciler.address import Address
from reconciler.kinds.kind import Action, Change, DesiredObject, Lookups
from reconciler.kinds.permission_scheme import PermissionSchemeKind
from reconciler.site.api import Api, Response, SiteApi

T = TypeVar("T")
R = TypeVar("R")
KIND = PermissionSchemeKind()
SCOPE = {"type": "PROJECT", "project": {"id": "10001"}}


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    def request(
        self,
        api: Api,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> Response:
        self.sent.append((method, path, json_body))
        return Response(200, {}, None)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        return [fn(item) for item in items]


def rename(raw: dict[str, Any], wanted: dict[str, Any]) -> list[tuple[str, str, Any]]:
    live = KIND._live(raw, Lookups())
    desired = DesiredObject(
        Address(KIND.name, "", wanted["name"]),
        KIND.identity("", wanted["name"]),
        wanted,
        context={"grantBodies": {}},
    )
    change = Change(
        key=str(desired.address),
        address=desired.address,
        action=Action.RENAME,
        before=dict(live.essence),
        after={**live.essence, **wanted},
        context=KIND.write_context(desired, live),
    )
    client = Recorder()
    KIND.apply(cast(SiteApi, client), change)
    return client.sent


def test_a_rename_sends_the_description_and_scope_the_site_has() -> None:
    raw = {"id": 10000, "name": "Old", "description": "Keep these words", "scope": SCOPE, "permissions": []}
    sent = rename(raw, {"name": "New", "grants": []})
    assert sent == [
        ("PUT", "/permissionscheme/10000", {"name": "New", "description": "Keep these words", "scope": SCOPE})
    ]


def test_a_declared_description_is_sent_and_an_unscoped_scheme_sends_no_scope() -> None:
    raw = {"id": 10000, "name": "Old", "description": "Old words", "permissions": []}
    sent = rename(raw, {"name": "New", "description": "New words", "grants": []})
    assert sent == [("PUT", "/permissionscheme/10000", {"name": "New", "description": "New words"})]
