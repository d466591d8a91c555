"""Jira permission schemes and their grants."""

from __future__ import annotations

from pydantic import Field

from reconciler.kinds.base import HolderRef, RenamedFrom, Spec


class PermissionSchemeSpec(Spec):
    name: str = Field(min_length=1)
    description: str | None = None
    renamed_from: RenamedFrom
    grants: dict[str, list[HolderRef]] = Field(
        default_factory=dict, description="Permission key -> holders. Live grants not listed are removed."
    )
