"""The desired state: what a manifest set declares, with its settings and where each object was declared.

These are the types the kinds read; loading builds them (reconciler/manifest/), and the plan and its readers
take them. They sit below the kinds, so a kind imports them like any other type (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from reconciler.address import Address
from reconciler.errors import SourceSpan
from reconciler.kind_names import NEVER_PRUNED, PRUNABLE
from reconciler.policy_rules import PolicyRule
from reconciler.spec import Spec, problem
from reconciler.yamlsource import DataPath, PathSegment, SourceMap

if TYPE_CHECKING:
    KindName = str
else:
    KindName = Literal[PRUNABLE]


def _check_protect_entry(text: str) -> str:
    try:
        Address.parse(text)
    except ValueError as exc:
        raise problem("settings", str(exc)) from None
    return text


ProtectEntry = Annotated[str, AfterValidator(_check_protect_entry)]


def _check_prunable(value: Any) -> Any:
    if isinstance(value, str) and value in NEVER_PRUNED:
        raise problem(
            "settings", f"{value} are never created or deleted, so `{value}` cannot be in settings.prune"
        )
    return value


PrunableKind = Annotated[KindName, BeforeValidator(_check_prunable)]


class Thresholds(Spec):
    max_delete_percent: int | None = Field(default=None, ge=0, le=100)
    max_update_percent: int | None = Field(default=None, ge=0, le=100)
    min_existing: int = Field(
        default=10, ge=0, description="Thresholds apply to kinds with this many objects."
    )


class Settings(Spec):
    prune: list[PrunableKind] = Field(
        default_factory=list, description="Kinds whose live objects that no manifest declares are deleted."
    )
    protect: list[ProtectEntry] = Field(
        default_factory=list, description="Addresses never deleted or replaced, e.g. products/Acme Widget."
    )
    thresholds: Thresholds | None = None
    exposure: Literal["warn", "deny"] = Field(
        default="warn",
        description="deny: a plan that adds a grant to anyone or applicationRole is an error.",
    )
    policies: list[PolicyRule] = Field(
        default_factory=list, description="Rules on the site as it will be after the plan (docs/policies.md)."
    )


@dataclass(frozen=True)
class ObjectOrigin:
    """Where an object was declared: its node, and for a scoped object also the node of its scope block."""

    source_map: SourceMap
    path: DataPath
    scope_path: DataPath | None = None


@dataclass(frozen=True)
class DesiredState:
    objects: Mapping[Address, Spec]
    settings: Settings
    protected: frozenset[Address]
    prune: frozenset[str]
    files: tuple[str, ...]
    origins: Mapping[Address, ObjectOrigin] = field(default_factory=dict, repr=False, compare=False)
    # The kinds the manifests name (MANIFEST.md, "Kinds the manifests name"): a section present in some
    # file, even empty, or a kind in settings.prune. Only these are planned.
    named_kinds: frozenset[str] = frozenset()
    # The file that gives the settings, for the positions of settings.policies.
    settings_source: SourceMap | None = field(default=None, repr=False, compare=False)

    @classmethod
    def empty(cls) -> DesiredState:
        return cls({}, Settings(), frozenset(), frozenset(), ())

    def protects(self, address: Address) -> bool:
        """Whether settings.protect lists the object, its name compared as the API compares it: a protected
        object is never deleted or replaced."""
        return address.key in self._protected_keys

    @cached_property
    def _protected_keys(self) -> frozenset[tuple[str, str, str]]:
        return frozenset(address.key for address in self.protected)

    def locate_setting(self, *path: PathSegment) -> SourceSpan | None:
        """The position of a value in `settings` (`locate_setting("policies", 0, "deny", "holder")`), or None
        when no file gives settings."""
        if self.settings_source is None:
            return None
        return self.settings_source.locate(("settings", *path))

    def locate(self, address: Address, *path: PathSegment) -> SourceSpan | None:
        """The position of an object, or of the deepest existing node along `path` below it.

        `path` uses the manifest's keys (camelCase) and list indices: `locate(a, "grants", "BROWSE_PROJECTS",
        1)` is the second holder of that grant. A final key gives the position of the key itself; `"team"`
        of a team role (a scoped object) is the `team:` of its scope block. None for an object that no file
        declares.
        """
        origin = self.origins.get(address)
        if origin is None:
            return None
        base = origin.path
        if origin.scope_path is not None and path[:1] == ("team",):
            base = origin.scope_path
        full = (*base, *path)
        return origin.source_map.locate(full, key=bool(path) and isinstance(path[-1], str))
