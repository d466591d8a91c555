"""JSM Operations team roles, per team."""

from __future__ import annotations

from pydantic import Field, model_validator

from reconciler import catalogue
from reconciler.kinds.base import RenamedFrom, Spec


class TeamRoleEntry(Spec):
    """One role in a team's `roles` list."""

    name: str = Field(min_length=1)
    granted: list[str] = Field(default_factory=list, description="Every right not listed is not granted.")
    renamed_from: RenamedFrom

    @model_validator(mode="after")
    def _check(self) -> TeamRoleEntry:
        for right in self.granted:
            if right not in catalogue.TEAM_ROLE_RIGHTS:
                raise ValueError(f"unknown team role right {right!r}")
        return self


class TeamRolesBlock(Spec):
    team: str = Field(min_length=1, description="Team name, or the team id (UUID).")
    roles: list[TeamRoleEntry] = Field(default_factory=list)


class TeamRoleSpec(Spec):
    """One team role as the planner sees it: the manifest entry together with its team."""

    team: str
    name: str
    granted: list[str]
    renamed_from: RenamedFrom
