"""The resource kinds, in dependency order. Adding a kind: one module, one line here, then `schema`."""

from __future__ import annotations

from reconciler.kind_names import ADDRESS_FORMS
from reconciler.kinds.custom_role import CustomRoleKind
from reconciler.kinds.detail_field import DetailFieldKind
from reconciler.kinds.kind import ResourceKind
from reconciler.kinds.permission_scheme import PermissionSchemeKind
from reconciler.kinds.product import ProductKind
from reconciler.kinds.project import ProjectKind
from reconciler.kinds.team_role import TeamRoleKind

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
