"""JSM Operations custom user roles."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from reconciler import catalogue
from reconciler.kinds.base import RenamedFrom, Spec


class CustomRoleSpec(Spec):
    name: str = Field(min_length=1)
    extended_role: Literal["user", "observer", "stakeholder"] | None = Field(
        default=None, description="Read-only in the API: a mismatch is reported, never changed."
    )
    granted_rights: list[str] = Field(default_factory=list)
    disallowed_rights: list[str] = Field(default_factory=list)
    renamed_from: RenamedFrom

    @model_validator(mode="after")
    def _check(self) -> CustomRoleSpec:
        for right in [*self.granted_rights, *self.disallowed_rights]:
            if right not in catalogue.CUSTOM_ROLE_RIGHTS:
                raise ValueError(f"unknown right {right!r}")
        both = sorted(set(self.granted_rights) & set(self.disallowed_rights))
        if both:
            raise ValueError(f"rights both granted and disallowed: {', '.join(both)}")
        return self
