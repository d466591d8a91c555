"""Addresses: the stable, human-readable identity of a managed object (MANIFEST.md, "Identity").

How a kind's addresses are written, and whether its names compare without case, is the kind's `AddressForm`
(reconciler/kind_names.py, the ground floor's list of kinds by name); this module applies them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from reconciler.kind_names import ADDRESS_FORMS, AddressForm


def form_of(kind: str) -> AddressForm:
    return ADDRESS_FORMS[kind]


@dataclass(frozen=True, order=True)
class Address:
    """`kind` is a registered kind's name; `scope` is its entity or scope (a team), else empty."""

    kind: str
    scope: str
    name: str

    def __str__(self) -> str:
        form = form_of(self.kind)
        if form.entities:
            return f"{self.kind}.{self.scope}/{self.name}"
        if form.scope_label:
            return f"{self.kind}/{self.scope}/{self.name}"
        return f"{self.kind}/{self.name}"

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two addresses the same object: the name compared as the API compares it."""
        return (self.kind, self.scope, form_of(self.kind).name_key(self.name))

    def renamed(self, name: str) -> Address:
        return Address(self.kind, self.scope, name)

    @classmethod
    def parse(cls, text: str) -> Address:
        """Parse the string form; raises ValueError with a message fit for a user."""
        head, sep, rest = text.partition("/")
        if not sep or not rest:
            raise ValueError(f"address {text!r} is not of the form kind/name")
        kind, dot, entity = head.partition(".")
        form = ADDRESS_FORMS.get(kind)
        if form is None or bool(dot) != bool(form.entities):
            near = difflib.get_close_matches(head, _heads(), n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"expected {_expected_heads()}"
            raise ValueError(f"address {text!r}: unknown kind {head!r} ({hint})")
        if form.entities:
            if entity not in form.entities:
                raise ValueError(
                    f"address {text!r}: unknown {form.noun} entity {entity!r}"
                    f" (expected one of {', '.join(form.entities)})"
                )
            return cls(kind, entity, rest)
        if form.scope_label:
            # Names never contain "/" in practice, scopes (team names) might: split at the last one.
            scope, sep, name = rest.rpartition("/")
            if not sep or not scope or not name:
                raise ValueError(
                    f"address {text!r} is not of the form {kind}/{form.scope_label}/{form.name_label}"
                )
            return cls(kind, scope, name)
        return cls(kind, "", rest)


def _heads() -> list[str]:
    """Every kind as an address starts: `products`, `detailFields.organization`, ..."""
    return [*(f"{f.kind}.{e}" for f in ADDRESS_FORMS.values() for e in f.entities), *ADDRESS_FORMS]


def _expected_heads() -> str:
    heads = [f"{form.kind}.ENTITY" if form.entities else form.kind for form in ADDRESS_FORMS.values()]
    return ", ".join(heads[:-1]) + f" or {heads[-1]}"


@dataclass(frozen=True)
class Target:
    """What `--target` selects: one object, a whole kind, an entity of a kind, or a scope's objects."""

    text: str
    kind: str
    scope: str | None = None
    address: Address | None = None

    @property
    def names_something(self) -> bool:
        """Whether a typo could make it select nothing: an object or a scope, not a kind or an entity."""
        return self.address is not None or (bool(form_of(self.kind).scope_label) and self.scope is not None)

    def matches(self, address: Address) -> bool:
        if address.kind != self.kind:
            return False
        # teamRoles/A/B is role B of team A, or every role of a team called "A/B".
        return (
            (self.scope is None and self.address is None)
            or (self.address is not None and address.key == self.address.key)
            or address.scope == self.scope
        )

    @classmethod
    def parse(cls, text: str) -> Target:
        """`products`, `detailFields.organization`, `teamRoles/TEAM`, or an address; ValueError if none."""
        if text in ADDRESS_FORMS:
            return cls(text, text)
        head, sep, rest = text.partition("/")
        kind, dot, entity = head.partition(".")
        form = ADDRESS_FORMS.get(kind)
        if form is not None and form.entities and dot and not sep:
            if entity not in form.entities:
                expected = ", ".join(form.entities)
                raise ValueError(f"unknown {form.noun} entity {entity!r} (expected one of {expected})")
            return cls(text, kind, entity)
        if form is not None and form.scope_label and not dot and rest:
            return cls(text, kind, rest, Address.parse(text) if "/" in rest else None)
        if not sep:
            near = difflib.get_close_matches(text, _heads(), n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"a kind ({_expected_heads()}) or kind/name"
            raise ValueError(f"{text!r} is neither a kind nor an address: {hint}")
        address = Address.parse(text)
        return cls(text, address.kind, None, address)
