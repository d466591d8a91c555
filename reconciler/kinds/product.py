"""CSM products."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from reconciler import catalogue
from reconciler.address import Address
from reconciler.errors import Diagnostic
from reconciler.kinds.base import RenamedFrom, SingleLineName, Spec
from reconciler.kinds.kind import (
    Action,
    Change,
    DesiredObject,
    LiveObject,
    Lookups,
    ResourceKind,
    create_verified,
    delete_idempotent,
)
from reconciler.site.http import Api, SiteClient

if TYPE_CHECKING:
    from reconciler.manifest import DesiredState

PAGE_SIZE = 100  # the API's maximum and default


class ProductSpec(Spec):
    name: SingleLineName = Field(max_length=catalogue.PRODUCT_NAME_MAX)
    renamed_from: RenamedFrom


class ProductKind(ResourceKind):
    name = "products"

    def read(self, client: SiteClient, lookups: Lookups) -> list[LiveObject]:
        return [self._live(raw) for raw in client.paginate_cursor(Api.CSM, "/product", limit=PAGE_SIZE)]

    def _live(self, raw: dict[str, Any]) -> LiveObject:
        essence = {"name": raw["name"]}
        server_id = str(raw["id"])
        return LiveObject(
            address=Address(self.name, "", raw["name"]),
            identity=("", raw["name"]),
            essence=essence,
            server_id=server_id,
        )

    def desired(self, state: DesiredState, lookups: Lookups) -> tuple[list[DesiredObject], list[Diagnostic]]:
        objects = [
            DesiredObject(
                address=address,
                identity=("", spec.name),
                essence={"name": spec.name},
                renamed_from=tuple(("", old) for old in spec.renamed_from),
                source=state.locate(address),
            )
            for address, spec in state.objects.items()
            if isinstance(spec, ProductSpec)
        ]
        return objects, []

    def apply(self, client: SiteClient, change: Change) -> None:
        if change.action is Action.CREATE:
            assert change.after is not None
            body = {"name": change.after["name"]}
            create_verified(
                lambda: client.request(Api.CSM, "POST", "/product", json_body=body),
                lambda: self._find(client, body["name"]),
            )
        elif change.action is Action.DELETE:
            product_id = change.context["serverId"]
            delete_idempotent(lambda: client.request(Api.CSM, "DELETE", f"/product/{product_id}"))
        else:
            assert change.after is not None
            product_id = change.context["serverId"]
            client.request(Api.CSM, "PUT", f"/product/{product_id}", json_body={"name": change.after["name"]})

    def _find(self, client: SiteClient, name: str) -> dict[str, Any] | None:
        products = client.paginate_cursor(Api.CSM, "/product", limit=PAGE_SIZE)
        return next((p for p in products if p.get("name") == name), None)
