"""JSM Customer Service Management API: detail fields and their values, products, entitlements.

Errors use `RestError {errorMessage, errors: [KEY], statusCode}` (jsm-csm.openapi.json). Creates answer
200, deletes 204.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Literal

from pydantic import Field

from reconciler.catalogue import (
    DETAIL_FIELD_TYPES,
    DETAIL_FIELD_TYPES_WITH_OPTIONS,
    MAX_DETAIL_FIELDS_PER_ENTITY,
    PRODUCT_NAME_MAX,
    detail_field_name_problem,
    detail_field_option_problem,
)
from reconciler.sandbox.common import (
    ApiError,
    Ctx,
    Json,
    Reply,
    RequestModel,
    Route,
    bad_request,
    not_found,
    parse_body,
    remove_object,
)
from reconciler.sandbox.state import (
    ENTITY_KINDS,
    DetailField,
    Entitlement,
    Entity,
    EntityKind,
    Product,
    State,
)

PREFIX = "/jsm/csm/cloudid/<cloud_id>/api/v1"
PRODUCT_PAGE_MAX = 100
VALUE_MAX = 255


def error_body(err: ApiError) -> Json:
    return {"errorMessage": err.message, "errors": [err.key], "statusCode": err.status}


# ---- detail fields --------------------------------------------------------------------------------


def _fields(state: State, kind: EntityKind) -> list[DetailField]:
    return state.detail_fields[kind]


def _field(state: State, kind: EntityKind, name: str) -> DetailField:
    # Fields are addressed by their exact name.
    for found in _fields(state, kind):
        if found.name == name:
            return found
    raise not_found(f"The {kind} detail field {name!r} does not exist.")


def _check_name(state: State, kind: EntityKind, name: str, *, other_than: str | None = None) -> None:
    problem = detail_field_name_problem(name)
    if problem:
        raise bad_request(problem)
    if any(f.name.casefold() == name.casefold() and f.id != other_than for f in _fields(state, kind)):
        raise bad_request(f"A {kind} detail field named {name!r} already exists.")


def _check_options(type_name: str, options: list[str]) -> None:
    if options and type_name not in DETAIL_FIELD_TYPES_WITH_OPTIONS:
        raise bad_request(f"Options are only allowed for SELECT and MULTISELECT fields, not {type_name}.")
    for option in options:
        problem = detail_field_option_problem(option)
        if problem:
            raise bad_request(f"{problem}: {option!r}")


def create_field(
    state: State, kind: EntityKind, name: str, type_name: str, options: list[str]
) -> DetailField:
    if len(_fields(state, kind)) >= MAX_DETAIL_FIELDS_PER_ENTITY:
        raise bad_request(f"You can create up to {MAX_DETAIL_FIELDS_PER_ENTITY} {kind} detail fields.")
    _check_name(state, kind, name)
    if type_name not in DETAIL_FIELD_TYPES:
        raise bad_request(f"The field type must be one of {', '.join(DETAIL_FIELD_TYPES)}.")
    _check_options(type_name, options)
    created = DetailField(id=str(state.new_int()), name=name, type=type_name, options=options)
    _fields(state, kind).append(created)
    return created


def _type_json(found: DetailField) -> Json:
    if found.type in DETAIL_FIELD_TYPES_WITH_OPTIONS:
        return {"name": found.type, "options": found.options}
    return {"name": found.type}


def _definition_json(found: DetailField) -> Json:
    return {"name": found.name, "type": _type_json(found)}


class FieldTypeIn(RequestModel):
    name: str
    options: list[str] | None = None


class CreateFieldIn(RequestModel):
    name: str
    type: FieldTypeIn


class EditFieldIn(RequestModel):
    name: str
    options: list[str] | None = None


_KINDS: dict[str, EntityKind] = {kind: kind for kind in ENTITY_KINDS}


def _kind(args: Mapping[str, str]) -> EntityKind:
    return _KINDS[args["kind"]]  # the routes only match these names


def list_fields(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    fields = _fields(ctx.state, _kind(args))
    results = [
        {**_definition_json(found), "configuration": {"position": position}}
        for position, found in enumerate(fields, start=1)
    ]
    return Reply(200, {"results": results})


def post_field(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    body = parse_body(ctx, CreateFieldIn)
    created = create_field(ctx.state, _kind(args), body.name, body.type.name, body.type.options or [])
    return Reply(200, _definition_json(created))


def put_field(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    kind = _kind(args)
    found = _field(ctx.state, kind, args["field_name"])
    body = parse_body(ctx, EditFieldIn)
    _check_name(ctx.state, kind, body.name, other_than=found.id)
    if body.options is not None:
        _check_options(found.type, body.options)
        found.options = body.options
    # The type is not part of the edit body: it cannot change. Values stay, keyed by the field id.
    found.name = body.name
    return Reply(200, _definition_json(found))


def delete_field(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    kind = _kind(args)
    found = _field(ctx.state, kind, args["field_name"])
    remove_object(_fields(ctx.state, kind), found)
    # "Deletes ... and all values stored for it", for every object of that kind.
    for holder in value_holders(ctx.state, kind):
        holder.values.pop(found.id, None)
    return Reply(204)


# ---- values ---------------------------------------------------------------------------------------


def value_holders(state: State, kind: EntityKind) -> list[Entity] | list[Entitlement]:
    if kind == "organization":
        return state.organizations
    if kind == "customer":
        return state.customers
    return state.entitlements


def _holder(state: State, kind: EntityKind, holder_id: str) -> Entity | Entitlement:
    for holder in value_holders(state, kind):
        if holder.id == holder_id:
            return holder
    raise not_found(f"The {kind} {holder_id} does not exist.")


def set_values(
    state: State, kind: EntityKind, holder: Entity | Entitlement, name: str, values: list[str]
) -> Json:
    found = _field(state, kind, name)
    # An empty array, or [""], clears the value.
    kept = [value for value in values if value != ""]
    # The set-value operations declare no 400; bad values are still refused as on every other write.
    if len(kept) > 1 and found.type != "MULTISELECT":
        raise bad_request(f"The {found.type} field {found.name!r} takes a single value.")
    for value in kept:
        if len(value) > VALUE_MAX:
            raise bad_request(f"Values are at most {VALUE_MAX} characters long.")
        if found.type in DETAIL_FIELD_TYPES_WITH_OPTIONS and value not in found.options:
            raise bad_request(f"{value!r} is not an option of the field {found.name!r}.")
    if kept:
        holder.values[found.id] = kept
    else:
        holder.values.pop(found.id, None)
    return {"id": found.id, "name": found.name, "type": _type_json(found), "values": kept}


def _details_json(state: State, kind: EntityKind, holder: Entity | Entitlement) -> list[Json]:
    return [
        {
            "id": found.id,
            **_definition_json(found),
            "values": holder.values[found.id],
            "configuration": {"position": position},
        }
        for position, found in enumerate(_fields(state, kind), start=1)
        if found.id in holder.values
    ]


class ValuesIn(RequestModel):
    values: list[str] = Field(default_factory=list)


def get_entity(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    kind = _kind(args)
    if kind == "entitlement":
        return Reply(200, _entitlement_json(ctx.state, _entitlement(ctx.state, args["entity_id"])))
    _, owner = _owner(ctx, args)
    return Reply(200, {"id": owner.id, "name": owner.name, "details": _details_json(ctx.state, kind, owner)})


def put_values(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    kind = _kind(args)
    holder = _holder(ctx.state, kind, args["entity_id"])
    name = ctx.query.get("fieldName")
    if not name:
        raise bad_request("The fieldName query parameter is required.")
    return Reply(200, set_values(ctx.state, kind, holder, name, parse_body(ctx, ValuesIn).values))


# ---- products -------------------------------------------------------------------------------------


def _product(state: State, product_id: str) -> Product:
    for product in state.products:
        if product.id == product_id:
            return product
    raise not_found(f"The product {product_id} does not exist.")


def _check_product_name(name: str) -> None:
    if not name.strip():
        raise bad_request("The product name must not be empty.")
    if len(name) > PRODUCT_NAME_MAX:
        raise bad_request(f"Product names are at most {PRODUCT_NAME_MAX} characters long.")


def create_product(state: State, name: str, product_id: str | None = None) -> Product:
    # Names need not be unique (nothing says so): a client that re-sends a create makes a twin.
    _check_product_name(name)
    product = Product(id=product_id or state.new_uuid(), name=name, seq=state.new_int())
    state.products.append(product)
    return product


class ProductIn(RequestModel):
    name: str


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"after:{seq}".encode()).decode()


def _after(cursor: str) -> int:
    try:
        tag, _, seq = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if tag == "after":
            return int(seq)
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise bad_request("The cursor is not valid.")


def list_products(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    limit = ctx.query_int("limit", PRODUCT_PAGE_MAX)
    # "Defaults to 100 if not specified or value given is less than 1 or greater than 100."
    if not 1 <= limit <= PRODUCT_PAGE_MAX:
        limit = PRODUCT_PAGE_MAX
    limit = ctx.page_size(limit)
    cursor = ctx.query.get("cursor")
    after = _after(cursor) if cursor else -1
    rest = [p for p in ctx.state.products if p.seq > after]
    page = rest[:limit]
    more = len(rest) > limit
    # PaginatedProducts lists `hasNextPage` as required but never defines it; we send it as a boolean so
    # answers match the document, and clients should still follow `nextPageCursor` only.
    body: dict[str, Json] = {"results": [_product_json(p) for p in page], "hasNextPage": more}
    if more:
        body["nextPageCursor"] = _cursor(page[-1].seq)
    return Reply(200, body)


def _product_json(product: Product) -> Json:
    return {"id": product.id, "name": product.name}


def post_product(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    return Reply(200, _product_json(create_product(ctx.state, parse_body(ctx, ProductIn).name)))


def get_product(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    return Reply(200, _product_json(_product(ctx.state, args["product_id"])))


def put_product(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    product = _product(ctx.state, args["product_id"])
    name = parse_body(ctx, ProductIn).name
    _check_product_name(name)
    product.name = name
    return Reply(200, _product_json(product))


def delete_product(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    product = _product(ctx.state, args["product_id"])
    remove_object(ctx.state.products, product)
    # Deleting a product deletes its entitlements.
    ctx.state.entitlements = [e for e in ctx.state.entitlements if e.product_id != product.id]
    return Reply(204)


# ---- entitlements ---------------------------------------------------------------------------------


def _entitlement(state: State, entitlement_id: str) -> Entitlement:
    for entitlement in state.entitlements:
        if entitlement.id == entitlement_id:
            return entitlement
    raise not_found(f"The entitlement {entitlement_id} does not exist.")


def _entitlement_json(state: State, entitlement: Entitlement) -> Json:
    return {
        "id": entitlement.id,
        "product": _product_json(_product(state, entitlement.product_id)),
        "entitledEntity": {"id": entitlement.entity_id, "type": entitlement.entity_type},
        "details": _details_json(state, "entitlement", entitlement),
    }


def create_entitlement(state: State, kind: EntityKind, entity: Entity, product_id: str) -> Entitlement:
    if not any(p.id == product_id for p in state.products):
        raise bad_request(f"The product {product_id} does not exist.")
    entity_type: Literal["ORGANIZATION", "CUSTOMER"] = (
        "ORGANIZATION" if kind == "organization" else "CUSTOMER"
    )
    entitlement = Entitlement(
        id=state.new_uuid(), product_id=product_id, entity_type=entity_type, entity_id=entity.id
    )
    state.entitlements.append(entitlement)
    return entitlement


class EntitlementIn(RequestModel):
    productId: str


def _owner(ctx: Ctx, args: Mapping[str, str]) -> tuple[EntityKind, Entity]:
    kind = _kind(args)
    owner = _holder(ctx.state, kind, args["entity_id"])
    assert isinstance(owner, Entity)  # only organizations and customers own entitlements
    return kind, owner


def list_entitlements(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    kind, owner = _owner(ctx, args)
    product = ctx.query.get("product")
    found = [
        _entitlement_json(ctx.state, e)
        for e in ctx.state.entitlements
        if e.entity_id == owner.id
        and e.entity_type == kind.upper()
        and (not product or e.product_id == product)
    ]
    return Reply(200, found)


def post_entitlement(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    kind, owner = _owner(ctx, args)
    entitlement = create_entitlement(ctx.state, kind, owner, parse_body(ctx, EntitlementIn).productId)
    return Reply(200, _entitlement_json(ctx.state, entitlement))


def delete_entitlement(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    remove_object(ctx.state.entitlements, _entitlement(ctx.state, args["entity_id"]))
    return Reply(204)


_ANY = "<any(organization,customer,entitlement):kind>"
_OWNER = "<any(organization,customer):kind>"

ROUTES: tuple[Route, ...] = (
    Route(f"{PREFIX}/{_ANY}/details", ("GET",), list_fields),
    Route(f"{PREFIX}/{_ANY}/details", ("POST",), post_field),
    # `path`: a field name may contain a slash.
    Route(f"{PREFIX}/{_ANY}/details/<path:field_name>", ("PUT",), put_field),
    Route(f"{PREFIX}/{_ANY}/details/<path:field_name>", ("DELETE",), delete_field, no_declared_404=True),
    Route(f"{PREFIX}/{_ANY}/<entity_id>", ("GET",), get_entity),
    Route(f"{PREFIX}/{_ANY}/<entity_id>/details", ("PUT",), put_values),
    Route(f"{PREFIX}/{_OWNER}/<entity_id>/entitlement", ("GET",), list_entitlements),
    Route(f"{PREFIX}/{_OWNER}/<entity_id>/entitlement", ("POST",), post_entitlement),
    Route(f"{PREFIX}/<any(entitlement):kind>/<entity_id>", ("DELETE",), delete_entitlement),
    Route(f"{PREFIX}/product", ("GET",), list_products),
    Route(f"{PREFIX}/product", ("POST",), post_product),
    Route(f"{PREFIX}/product/<product_id>", ("GET",), get_product),
    Route(f"{PREFIX}/product/<product_id>", ("PUT",), put_product),
    Route(f"{PREFIX}/product/<product_id>", ("DELETE",), delete_product, no_declared_404=True),
)
