"""Addresses: the stable, human-readable identity of a managed object (MANIFEST.md, "Identity").

How a kind's addresses are written, and whether its names compare without case, is the kind's own
`AddressForm` (declared in its module); this module only applies the forms of the registered kinds.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache


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


@cache
def _forms() -> Mapping[str, AddressForm]:
    from reconciler.kinds import KINDS  # noqa: PLC0415 - the kinds import this module

    return {kind.name: kind.address_form for kind in KINDS}


def form_of(kind: str) -> AddressForm:
    return _forms()[kind]


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
        form = _forms().get(kind)
        if form is None or bool(dot) != bool(form.entities):
            raise ValueError(f"address {text!r}: unknown kind {head!r} (expected {_expected_heads()})")
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


def _expected_heads() -> str:
    heads = [f"{form.kind}.ENTITY" if form.entities else form.kind for form in _forms().values()]
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
            or address == self.address
            or address.scope == self.scope
        )

    @classmethod
    def parse(cls, text: str) -> Target:
        """`products`, `detailFields.organization`, `teamRoles/TEAM`, or an address; ValueError if none."""
        forms = _forms()
        if text in forms:
            return cls(text, text)
        head, sep, rest = text.partition("/")
        kind, dot, entity = head.partition(".")
        form = forms.get(kind)
        if form is not None and form.entities and dot and not sep:
            if entity not in form.entities:
                expected = ", ".join(form.entities)
                raise ValueError(f"unknown {form.noun} entity {entity!r} (expected one of {expected})")
            return cls(text, kind, entity)
        if form is not None and form.scope_label and not dot and rest:
            return cls(text, kind, rest, Address.parse(text) if "/" in rest else None)
        if not sep:
            wholes = [*forms, *(f"{f.kind}.{entity}" for f in forms.values() for entity in f.entities)]
            near = difflib.get_close_matches(text, wholes, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"a kind ({_expected_heads()}) or kind/name"
            raise ValueError(f"{text!r} is neither a kind nor an address: {hint}")
        address = Address.parse(text)
        return cls(text, address.kind, None, address)
