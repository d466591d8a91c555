"""JSM Operations custom user roles."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema, model_validator

from reconciler import catalogue
from reconciler.address import Address
from reconciler.errors import Diagnostic, TerminalSiteError, warning
from reconciler.kind_names import CUSTOM_ROLES
from reconciler.kinds import rights
from reconciler.kinds.kind import (
    Action,
    Change,
    DesiredObject,
    Essence,
    LiveObject,
    Lookups,
    ResourceKind,
    by_name,
    create_verified,
    delete_verified,
    found,
    list_items,
    node_at,
    text_list,
    write_data_of,
)
from reconciler.site.api import Api, SiteApi
from reconciler.spec import RenamedFrom, SingleLineName, Spec, problem
from reconciler.state import DesiredState
from reconciler.yamlsource import SourceMap
from reconciler.yamlwrite import entry

PAGE_SIZE = 100  # the API's maximum
# extendedRole values export writes: `user` is the default, so it is left out.
_EXPORTED_EXTENDED_ROLES = ("observer", "stakeholder")


# JSM publishes no list of custom role rights (its own PUT example sends one that no list has), so the
# Opsgenie list is advice (reconciler/kinds/rights.py).
CustomRoleRight = Annotated[
    str,
    Field(min_length=1),
    WithJsonSchema({"type": "string", "minLength": 1, "examples": sorted(catalogue.CUSTOM_ROLE_RIGHTS)}),
]
WHAT = "custom role right"
RIGHT_LISTS = (("grantedRights", "granted_rights"), ("disallowedRights", "disallowed_rights"))


class CustomRoleSpec(Spec):
    name: SingleLineName
    extended_role: Literal["user", "observer", "stakeholder"] | None = Field(
        default=None, description="Read-only in the API: a mismatch is reported, never changed."
    )
    granted_rights: list[CustomRoleRight] = Field(default_factory=list)
    disallowed_rights: list[CustomRoleRight] = Field(default_factory=list)
    renamed_from: RenamedFrom

    @model_validator(mode="after")
    def _check(self) -> CustomRoleSpec:
        both = set(self.granted_rights) & set(self.disallowed_rights)
        if both:
            first = next(index for index, right in enumerate(self.disallowed_rights) if right in both)
            raise problem(
                "conflicting_rights",
                f"rights both granted and disallowed: {', '.join(sorted(both))}",
                "disallowedRights",
                first,
            )
        return self


def unlisted_rights(spec: CustomRoleSpec) -> Iterator[tuple[str, tuple[str, int]]]:
    """(right, its path in the object) of each right outside the list."""
    for key, attribute in RIGHT_LISTS:
        for index, right in enumerate(getattr(spec, attribute)):
            if right not in catalogue.CUSTOM_ROLE_RIGHTS:
                yield right, (key, index)


def _essence(name: str, granted: list[str], disallowed: list[str]) -> Essence:
    return {"name": name, "grantedRights": sorted(set(granted)), "disallowedRights": sorted(set(disallowed))}


class CustomRoleKind(ResourceKind):
    """The list endpoint gives only ids and names, so each role's rights take one GET: the API forces it."""

    name = "customRoles"
    write_data = rights.RightsWrite
    site_decides = frozenset({f"manifest.{rights.UNLISTED_RIGHT}"})
    address_form = CUSTOM_ROLES
    section = list[CustomRoleSpec] | None
    spec = CustomRoleSpec
    export_file = "custom-roles.yaml"
    export_about = (
        "JSM Operations custom user roles. extendedRole is written only where it is not `user`:",
        "the API cannot set it, so plan warns when a site differs instead of changing it.",
    )

    def unlisted(self, section: Any, source_map: SourceMap) -> Iterator[Diagnostic]:
        for index, role in list_items(section):
            address = self.address_at(section, (index,))
            for key in ("grantedRights", "disallowedRights"):
                at = (source_map, (self.name, index, key))
                yield from rights.offline_warnings(
                    node_at(role, key), WHAT, catalogue.CUSTOM_ROLE_RIGHTS, at, address
                )

    def export_section(self, objects: Sequence[LiveObject], lookups: Lookups) -> Any:
        roles = []
        for obj in sorted(objects, key=by_name):
            role = entry(obj.essence, ("name",))
            extended = obj.context.get("extendedRole")
            if extended in _EXPORTED_EXTENDED_ROLES:
                role["extendedRole"] = extended
            role.update(entry(obj.essence, ("grantedRights", "disallowedRights")))
            roles.append(role)
        return roles

    set_fields = frozenset({"grantedRights", "disallowedRights"})

    def read(self, client: SiteApi, lookups: Lookups) -> list[LiveObject]:
        summaries = list(client.paginate_links(Api.OPS, "/roles", size=PAGE_SIZE))
        paths = [f"/roles/{summary['id']}" for summary in summaries]
        return [self._live(role) for role in client.get_each(Api.OPS, paths, {"identifierType": "id"})]

    def _live(self, raw: dict[str, Any]) -> LiveObject:
        essence = _essence(raw["name"], text_list(raw, "grantedRights"), text_list(raw, "disallowedRights"))
        server_id = str(raw["id"])
        return LiveObject(
            address=Address(self.name, "", raw["name"]),
            identity=self.identity("", raw["name"]),
            essence=essence,
            server_id=server_id,
            context={"extendedRole": raw.get("extendedRole")},
        )

    def desired(self, state: DesiredState, lookups: Lookups) -> tuple[list[DesiredObject], list[Diagnostic]]:
        objects = [
            DesiredObject(
                address=address,
                identity=self.identity("", spec.name),
                essence=_essence(spec.name, spec.granted_rights, spec.disallowed_rights),
                renamed_from=tuple(self.identity("", old) for old in spec.renamed_from),
                source=state.locate(address),
                context=_context(state, address, spec),
            )
            for address, spec in state.objects.items()
            if isinstance(spec, CustomRoleSpec)
        ]
        return objects, []

    def review(self, desired: Sequence[DesiredObject], live: Sequence[LiveObject]) -> list[Diagnostic]:
        held = {right for obj in live for key, _ in RIGHT_LISTS for right in obj.essence[key]}
        return rights.review(desired, held, WHAT, catalogue.CUSTOM_ROLE_RIGHTS)

    def notes(self, desired: DesiredObject, live: LiveObject) -> list[Diagnostic]:
        wanted = desired.context.get("extendedRole")
        actual = live.context.get("extendedRole")
        if wanted is None or wanted == actual:
            return []
        return [
            warning(
                "plan.extended_role",
                f"extendedRole is {actual!r} on the site but {wanted!r} in the manifest; "
                "the API cannot change it, so change it in the Operations settings or in the manifest",
                source=desired.source,
                address=str(desired.address),
            )
        ]

    def apply(self, client: SiteApi, change: Change) -> list[Diagnostic] | None:
        data = write_data_of(change, rights.RightsWrite)
        if change.action is Action.DELETE:
            role_id = data.live_id
            by_id = {"identifierType": "id"}
            delete_verified(
                lambda: client.request(Api.OPS, "DELETE", f"/roles/{role_id}", params=by_id),
                lambda: found(lambda: client.get(Api.OPS, f"/roles/{role_id}", by_id)),
            )
            return None
        assert change.after is not None
        body = {
            "name": change.after["name"],
            "grantedRights": change.after["grantedRights"],
            "disallowedRights": change.after["disallowedRights"],
        }
        by_id = {"identifierType": "id"}
        try:
            if change.action is Action.CREATE:
                created = create_verified(
                    lambda: client.request(Api.OPS, "POST", "/roles", json_body=body).body["data"],
                    lambda: self._find(client, body["name"]),
                )
                role_id = str(created["id"])
            else:
                role_id = data.live_id
                client.request(Api.OPS, "PUT", f"/roles/{role_id}", params=by_id, json_body=body)
        except TerminalSiteError as exc:
            raise rights.refusal(exc, data.unlisted_rights) from exc
        # The answer is only {message, data: {id, name}}: the role as the site kept it takes one GET.
        kept = client.get(Api.OPS, f"/roles/{role_id}", by_id)
        return [
            *rights.dropped(
                change, body["grantedRights"], text_list(kept, "grantedRights"), data.unlisted_rights
            ),
            *rights.dropped(
                change, body["disallowedRights"], text_list(kept, "disallowedRights"), data.unlisted_rights
            ),
        ]

    def _find(self, client: SiteApi, name: str) -> dict[str, Any] | None:
        roles = client.paginate_links(Api.OPS, "/roles", size=PAGE_SIZE)
        return next((r for r in roles if r.get("name") == name), None)


def _context(state: DesiredState, address: Address, spec: CustomRoleSpec) -> dict[str, Any]:
    context: dict[str, Any] = {"extendedRole": spec.extended_role} if spec.extended_role else {}
    unlisted = rights.positions(state, address, unlisted_rights(spec))
    if unlisted:
        context[rights.CONTEXT_KEY] = unlisted
    return context
