"""CSM detail fields of organizations, customers and entitlements."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Literal
from urllib.parse import quote

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator
from ruamel.yaml.comments import CommentedMap

from reconciler import catalogue
from reconciler.address import Address
from reconciler.errors import Diagnostic, TerminalSiteError, error
from reconciler.kind_names import DETAIL_FIELDS
from reconciler.kinds.kind import (
    Action,
    Change,
    Declaration,
    DesiredObject,
    Essence,
    LiveObject,
    Lookups,
    ResourceKind,
    Validated,
    by_name,
    create_verified,
    delete_verified,
    list_items,
    name_at,
    valid_spec,
)
from reconciler.site.api import Api, SiteApi
from reconciler.spec import RenamedFrom, Spec, problem, single_line
from reconciler.state import DesiredState, ObjectOrigin
from reconciler.yamlsource import DataPath, SourceMap
from reconciler.yamlwrite import entry

ENTITIES = DETAIL_FIELDS.entities
DetailFieldType = Literal[
    "TEXT", "EMAIL", "URL", "DATE", "NUMBER", "BOOLEAN", "PHONE", "SELECT", "MULTISELECT"
]


def _check_name(name: str) -> str:
    single_line(name)
    reason = catalogue.detail_field_name_problem(name)
    if reason:
        raise problem("invalid", f"detail field name {name!r}: {reason}")
    return name


def _check_option(option: str) -> str:
    single_line(option)
    reason = catalogue.detail_field_option_problem(option)
    if reason:
        raise problem("invalid", f"option {option!r}: {reason}")
    return option


def _any_case(word: str) -> str:
    """`key` -> `[kK][eE][yY]`: editors' regular expressions (ECMA-262) have no inline ignore-case flag."""
    return "".join(f"[{c.lower()}{c.upper()}]" for c in word)


_RESERVED = catalogue.DETAIL_FIELD_RESERVED_NAMES

# The JSON Schema repeats the name and option rules so that editors flag them while typing.
DetailFieldName = Annotated[
    str,
    AfterValidator(_check_name),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": catalogue.DETAIL_FIELD_NAME_MIN,
            "maxLength": catalogue.DETAIL_FIELD_NAME_MAX,
            # None of the forbidden characters needs escaping inside a character class.
            "pattern": f"^[^{''.join(catalogue.DETAIL_FIELD_FORBIDDEN_CHARACTERS)}]*$",
            "not": {"pattern": f"^({'|'.join(map(_any_case, sorted(_RESERVED)))})$"},
        }
    ),
]
DetailFieldOption = Annotated[
    str,
    AfterValidator(_check_option),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": catalogue.DETAIL_FIELD_OPTION_MAX,
            "pattern": "^[^,]*$",
        }
    ),
]


class DetailFieldSpec(Spec):
    name: DetailFieldName
    type: DetailFieldType
    options: list[DetailFieldOption] | None = Field(
        default=None, description="Only for SELECT and MULTISELECT; order is kept."
    )
    renamed_from: RenamedFrom

    @model_validator(mode="after")
    def _check(self) -> DetailFieldSpec:
        if self.options is not None:
            if self.type not in catalogue.DETAIL_FIELD_TYPES_WITH_OPTIONS:
                raise problem(
                    "invalid",
                    f"options are only for SELECT and MULTISELECT fields, not {self.type}",
                    "options",
                )
            seen: set[str] = set()
            for index, option in enumerate(self.options):
                if option in seen:
                    raise problem("invalid", f"option {option!r} is listed twice", "options", index)
                seen.add(option)
        return self


class DetailFieldsSection(Spec):
    organization: list[DetailFieldSpec] = Field(default_factory=list)
    customer: list[DetailFieldSpec] = Field(default_factory=list)
    entitlement: list[DetailFieldSpec] = Field(default_factory=list)


def _essence(name: str, field_type: str, options: list[str] | None) -> Essence:
    essence: Essence = {"name": name, "type": field_type}
    if field_type in catalogue.DETAIL_FIELD_TYPES_WITH_OPTIONS:
        essence["options"] = list(options or [])
    return essence


class DetailFieldKind(ResourceKind):
    """Detail fields are addressed by name in the API, and names are unique case-insensitively."""

    name = "detailFields"
    address_form = DETAIL_FIELDS
    section = DetailFieldsSection | None
    spec = DetailFieldSpec
    capacity = catalogue.MAX_DETAIL_FIELDS_PER_ENTITY
    export_file = "detail-fields.yaml"
    export_about = ("Customer Service Management detail fields, per entity. Option order is kept.",)

    def declarations(
        self, section: Any, source_map: SourceMap, validated: Validated
    ) -> Iterator[Declaration]:
        for entity in ENTITIES:
            fields = section.get(entity) if isinstance(section, dict) else None
            for index, item in list_items(fields):
                spec = valid_spec(DetailFieldSpec, item, validated)
                if isinstance(spec, DetailFieldSpec):
                    origin = ObjectOrigin(source_map, (self.name, entity, index))
                    yield Declaration(Address(self.name, entity, spec.name), spec, origin)

    def address_at(self, section: Any, path: DataPath) -> Address | None:
        match path:
            case (str(entity), int(index), *_) if entity in ENTITIES:
                name = name_at(section, entity, index)
                return Address(self.name, entity, name) if name else None
        return None

    def declared_problems(self, declared: Sequence[Declaration]) -> Iterator[Diagnostic]:
        totals = Counter(item.address.scope for item in declared)
        counts: Counter[str] = Counter()
        for item in declared:
            entity = item.address.scope
            counts[entity] += 1
            if counts[entity] == self.capacity + 1:
                yield error(
                    "manifest.too_many_fields",
                    f"{totals[entity]} detail fields for {entity}; the API allows at most "
                    f"{self.capacity} per entity (this is the first one over)",
                    source=item.span(),
                    address=str(item.address),
                )

    def export_section(self, objects: Sequence[LiveObject], lookups: Lookups) -> Any:
        section = CommentedMap()
        for entity in ENTITIES:
            fields = sorted((o for o in objects if o.address.scope == entity), key=by_name)
            if fields:
                section[entity] = [entry(o.essence, ("name", "type", "options")) for o in fields]
        return section

    def read(self, client: SiteApi, lookups: Lookups) -> list[LiveObject]:
        # Each entity's answer is read in its own task, so an answer of the wrong shape names its endpoint.
        def read_entity(entity: str) -> list[LiveObject]:
            objects: list[LiveObject] = []
            for raw in client.get(Api.CSM, f"/{entity}/details")["results"]:
                field_type = raw["type"]["name"]
                essence = _essence(raw["name"], field_type, raw["type"].get("options"))
                objects.append(
                    LiveObject(
                        address=Address(self.name, entity, raw["name"]),
                        identity=self.identity(entity, raw["name"]),
                        essence=essence,
                        server_id=raw["name"],
                    )
                )
            return objects

        return [obj for objects in client.map(read_entity, ENTITIES) for obj in objects]

    def desired(self, state: DesiredState, lookups: Lookups) -> tuple[list[DesiredObject], list[Diagnostic]]:
        objects = [
            DesiredObject(
                address=address,
                identity=self.identity(address.scope, spec.name),
                essence=_essence(spec.name, spec.type, spec.options),
                renamed_from=tuple(self.identity(address.scope, old) for old in spec.renamed_from),
                source=state.locate(address),
            )
            for address, spec in state.objects.items()
            if isinstance(spec, DetailFieldSpec)
        ]
        return objects, []

    def can_update_in_place(self, before: Essence, after: Essence) -> bool:
        return bool(before["type"] == after["type"])

    def replace_reason(self, before: Essence, after: Essence) -> str:
        return (
            f"type {before['type']} -> {after['type']} cannot change in place: every stored value is erased"
        )

    def loses_data(self, before: Essence, after: Essence) -> str | None:
        # The API does not say what becomes of the values stored with an option it no longer lists: they may
        # be erased, or kept where no option matches them.
        kept = set(after.get("options", ()))
        dropped = [option for option in before.get("options", ()) if option not in kept]
        if not dropped:
            return None
        names = ", ".join(repr(option) for option in dropped)
        return f"removes option(s) {names}: the values stored with them may be lost or orphaned"

    def apply(self, client: SiteApi, change: Change) -> None:
        entity = change.address.scope
        if change.action in (Action.DELETE, Action.REPLACE):
            assert change.before is not None
            self._delete(client, entity, change.before["name"])
        if change.action in (Action.CREATE, Action.REPLACE):
            assert change.after is not None
            self._create(client, entity, change.after)
        if change.action in (Action.UPDATE, Action.RENAME):
            assert change.before is not None and change.after is not None
            body: dict[str, Any] = {"name": change.after["name"]}
            if "options" in change.after:
                body["options"] = change.after["options"]
            path = f"/{entity}/details/{_segment(change.before['name'])}"
            try:
                client.request(Api.CSM, "PUT", path, json_body=body)
            except TerminalSiteError as exc:
                # The PUT is addressed by the old name. When its answer was lost after the site renamed
                # the field, the PUT sent again finds no field by that name (404): done if the field
                # is already as wanted.
                if (
                    exc.status != 404
                    or self._live_essence(client, entity, change.after["name"]) != change.after
                ):
                    raise

    def _create(self, client: SiteApi, entity: str, after: Essence) -> None:
        field_type: dict[str, Any] = {"name": after["type"]}
        if "options" in after:
            field_type["options"] = after["options"]
        body = {"name": after["name"], "type": field_type}

        def find() -> dict[str, Any] | None:
            fields = client.get(Api.CSM, f"/{entity}/details")["results"]
            return next((f for f in fields if self.name_key(f["name"]) == self.name_key(after["name"])), None)

        create_verified(lambda: client.request(Api.CSM, "POST", f"/{entity}/details", json_body=body), find)

    def _live_essence(self, client: SiteApi, entity: str, name: str) -> Essence | None:
        fields = client.get(Api.CSM, f"/{entity}/details")["results"]
        raw = next((f for f in fields if self.name_key(f["name"]) == self.name_key(name)), None)
        return None if raw is None else _essence(raw["name"], raw["type"]["name"], raw["type"].get("options"))

    def _delete(self, client: SiteApi, entity: str, name: str) -> None:
        delete_verified(
            lambda: client.request(Api.CSM, "DELETE", f"/{entity}/details/{_segment(name)}"),
            lambda: self._live_essence(client, entity, name) is not None,
        )


def _segment(name: str) -> str:
    return quote(name, safe="")
