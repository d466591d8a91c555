"""The kinds by name: what the ground floor knows of each kind, without any of its behaviour.

Addresses (address.py) and the settings (state.py) need the closed set of kinds below the kinds themselves,
which import both: how each kind's addresses are written, and which kinds settings.prune may list. A kind's
module takes its form from here, and reconciler/registry.py checks that the two lists agree (like
SnowDDL's `ObjectType`; docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AddressForm:
    """How one kind's addresses look. Without scopes: `kind/NAME`."""

    kind: str
    noun: str  # one object, in messages: "detail field"
    entities: tuple[str, ...] = ()  # `kind.ENTITY/NAME`, one of these fixed entities (detail fields)
    scope_label: str = ""  # scoped: `kind/SCOPE/NAME`, with these labels in messages (`teamRoles/TEAM/ROLE`)
    name_label: str = "NAME"
    ignore_case: bool = False  # names compare without case, as the API compares them

    def name_key(self, name: str) -> str:
        return name.casefold() if self.ignore_case else name


DETAIL_FIELDS = AddressForm(
    "detailFields", "detail field", entities=("organization", "customer", "entitlement"), ignore_case=True
)
PRODUCTS = AddressForm("products", "product")
CUSTOM_ROLES = AddressForm("customRoles", "custom role")
TEAM_ROLES = AddressForm("teamRoles", "team role", scope_label="TEAM", name_label="ROLE")
PERMISSION_SCHEMES = AddressForm("permissionSchemes", "permission scheme")
PROJECTS = AddressForm("projects", "project", name_label="KEY")

# Every kind's form, in the registry's order (the order messages list them in).
ADDRESS_FORMS = {
    form.kind: form
    for form in (DETAIL_FIELDS, PRODUCTS, CUSTOM_ROLES, TEAM_ROLES, PERMISSION_SCHEMES, PROJECTS)
}
# Projects are never created or deleted here, so settings.prune may not list them.
NEVER_PRUNED = frozenset({PROJECTS.kind})
PRUNABLE = tuple(kind for kind in ADDRESS_FORMS if kind not in NEVER_PRUNED)
