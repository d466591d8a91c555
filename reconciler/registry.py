"""The registry: the resource kinds, in dependency order. Adding a kind: one module, one line here, its
form in kind_names.py, then `schema`.

Only the floors above the plan's readers import it (render, apply, the command line and the Action): loading,
reading, planning, export and the schema are handed the kinds (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.kind_names import ADDRESS_FORMS
from reconciler.kinds.custom_role import CustomRoleKind
from reconciler.kinds.detail_field import DetailFieldKind
from reconciler.kinds.kind import ResourceKind
from reconciler.kinds.permission_scheme import PermissionSchemeKind
from reconciler.kinds.product import ProductKind
from reconciler.kinds.project import ProjectKind
from reconciler.kinds.team_role import TeamRoleKind
from reconciler.policy_rules import kinds_judged
from reconciler.state import DesiredState

KINDS: tuple[ResourceKind, ...] = (
    DetailFieldKind(),
    ProductKind(),
    CustomRoleKind(),
    TeamRoleKind(),
    PermissionSchemeKind(),
    ProjectKind(),
)

_BY_NAME = {kind.name: kind for kind in KINDS}
if len(_BY_NAME) != len(KINDS):
    raise RuntimeError("two resource kinds share a name")
if [(kind.name, kind.address_form) for kind in KINDS] != list(ADDRESS_FORMS.items()):
    raise RuntimeError("the registry and reconciler/kind_names.py list different kinds or forms")
KIND_INDEX = {kind.name: index for index, kind in enumerate(KINDS)}


def get_kind(name: str) -> ResourceKind:
    return _BY_NAME[name]


def kinds_for(names: Iterable[str] | None) -> tuple[ResourceKind, ...]:
    """The kinds to read: all of them, or the named ones in registry order."""
    if names is None:
        return KINDS
    chosen = set(names)
    return tuple(kind for kind in KINDS if kind.name in chosen)


def kinds_to_read(desired: DesiredState) -> frozenset[str]:
    """The kinds a plan reads (MANIFEST.md, "Kinds the manifests name"): those the manifests name, the
    kinds their objects refer to (a project's scheme), and those settings.policies judge."""
    named = desired.named_kinds
    return named.union(*(get_kind(name).refers_to for name in named), kinds_judged(desired.settings.policies))
