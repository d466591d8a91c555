"""Addresses: the stable, human-readable identity of a managed object (MANIFEST.md, "Identity")."""

from __future__ import annotations

from dataclasses import dataclass

DETAIL_FIELD_ENTITIES = ("organization", "customer", "entitlement")
KIND_NAMES = ("detailFields", "products", "customRoles", "teamRoles", "permissionSchemes", "projects")


@dataclass(frozen=True, order=True)
class Address:
    """`kind` is one of KIND_NAMES; `scope` is the detail field entity or the team of a team role."""

    kind: str
    scope: str
    name: str

    def __str__(self) -> str:
        if self.kind == "detailFields":
            return f"detailFields.{self.scope}/{self.name}"
        if self.kind == "teamRoles":
            return f"teamRoles/{self.scope}/{self.name}"
        return f"{self.kind}/{self.name}"

    def renamed(self, name: str) -> Address:
        return Address(self.kind, self.scope, name)

    @classmethod
    def parse(cls, text: str) -> Address:
        """Parse the string form; raises ValueError with a message fit for a user."""
        head, sep, rest = text.partition("/")
        if not sep or not rest:
            raise ValueError(f"address {text!r} is not of the form kind/name")
        if head.startswith("detailFields."):
            entity = head.removeprefix("detailFields.")
            if entity not in DETAIL_FIELD_ENTITIES:
                raise ValueError(
                    f"address {text!r}: unknown detail field entity {entity!r}"
                    f" (expected one of {', '.join(DETAIL_FIELD_ENTITIES)})"
                )
            return cls("detailFields", entity, rest)
        if head == "teamRoles":
            # Role names never contain "/" in practice, team names might: split at the last one.
            team, sep, role = rest.rpartition("/")
            if not sep or not team or not role:
                raise ValueError(f"address {text!r} is not of the form teamRoles/TEAM/ROLE")
            return cls("teamRoles", team, role)
        if head not in KIND_NAMES or head == "detailFields":
            raise ValueError(
                f"address {text!r}: unknown kind {head!r} (expected detailFields.ENTITY, "
                "products, customRoles, teamRoles, permissionSchemes or projects)"
            )
        return cls(head, "", rest)
