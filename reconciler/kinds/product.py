"""CSM products."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from reconciler import catalogue
from reconciler.address import Address
from reconciler.errors import Diagnostic
from reconciler.kind_names import PRODUCTS
from reconciler.kinds.kind import (
    Action,
    Change,
    DesiredObject,
    LiveObject,
    Lookups,
    ResourceKind,
    by_name,
    create_verified,
    delete_verified,
    found,
)
from reconciler.site.api import Api, SiteApi
from reconciler.spec import RenamedFrom, SingleLineName, Spec
from reconciler.state import DesiredState
from reconciler.yamlwrite import entry

PAGE_SIZE = 100  # the API's maximum and default


class ProductSpec(Spec):
    name: SingleLineName = Field(max_length=catalogue.PRODUCT_NAME_MAX)
    renamed_from: RenamedFrom


class ProductKind(ResourceKind):
    name = "products"
    address_form = PRODUCTS
    section = list[ProductSpec] | None
    spec = ProductSpec
    export_file = "products.yaml"
    export_about = ("Customer Service Management products.",)

    def export_section(self, objects: Sequence[LiveObject], lookups: Lookups) -> Any:
        return [entry(o.essence, ("name",)) for o in sorted(objects, key=by_name)]

    def read(self, client: SiteApi, lookups: Lookups) -> list[LiveObject]:
        return [self._live(raw) for raw in client.paginate_cursor(Api.CSM, "/product", limit=PAGE_SIZE)]

    def _live(self, raw: dict[str, Any]) -> LiveObject:
        essence = {"name": raw["name"]}
        server_id = str(raw["id"])
        return LiveObject(
            address=Address(self.name, "", raw["name"]),
            identity=self.identity("", raw["name"]),
            essence=essence,
            server_id=server_id,
        )

    def desired(self, state: DesiredState, lookups: Lookups) -> tuple[list[DesiredObject], list[Diagnostic]]:
        objects = [
            DesiredObject(
                address=address,
                identity=self.identity("", spec.name),
                essence={"name": spec.name},
                renamed_from=tuple(self.identity("", old) for old in spec.renamed_from),
                source=state.locate(address),
            )
            for address, spec in state.objects.items()
            if isinstance(spec, ProductSpec)
        ]
        return objects, []

    def apply(self, client: SiteApi, change: Change) -> None:
        if change.action is Action.CREATE:
            assert change.after is not None
            body = {"name": change.after["name"]}
            create_verified(
                lambda: client.request(Api.CSM, "POST", "/product", json_body=body),
                lambda: self._find(client, body["name"]),
            )
        elif change.action is Action.DELETE:
            product_id = change.context.live_id
            delete_verified(
                lambda: client.request(Api.CSM, "DELETE", f"/product/{product_id}"),
                lambda: found(lambda: client.get(Api.CSM, f"/product/{product_id}")),
            )
        else:
            assert change.after is not None
            product_id = change.context.live_id
            client.request(Api.CSM, "PUT", f"/product/{product_id}", json_body={"name": change.after["name"]})

    def _find(self, client: SiteApi, name: str) -> dict[str, Any] | None:
        products = client.paginate_cursor(Api.CSM, "/product", limit=PAGE_SIZE)
        return next((p for p in products if p.get("name") == name), None)
