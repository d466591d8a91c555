"""CSM detail fields of organizations, customers and entitlements."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from reconciler import catalogue
from reconciler.kinds.base import RenamedFrom, Spec

DetailFieldType = Literal["TEXT", "EMAIL", "URL", "DATE", "NUMBER", "BOOLEAN", "PHONE", "SELECT", "MULTISELECT"]


class DetailFieldSpec(Spec):
    name: str
    type: DetailFieldType
    options: list[str] | None = Field(default=None, description="Only for SELECT and MULTISELECT; order is kept.")
    renamed_from: RenamedFrom

    @model_validator(mode="after")
    def _check(self) -> DetailFieldSpec:
        problem = catalogue.detail_field_name_problem(self.name)
        if problem:
            raise ValueError(problem)
        if self.options is not None:
            if self.type not in catalogue.DETAIL_FIELD_TYPES_WITH_OPTIONS:
                raise ValueError(f"options are only for SELECT and MULTISELECT fields, not {self.type}")
            seen: set[str] = set()
            for option in self.options:
                problem = catalogue.detail_field_option_problem(option)
                if problem:
                    raise ValueError(f"option {option!r}: {problem}")
                if option in seen:
                    raise ValueError(f"option {option!r} is listed twice")
                seen.add(option)
        return self


class DetailFieldsSection(Spec):
    organization: list[DetailFieldSpec] = Field(default_factory=list)
    customer: list[DetailFieldSpec] = Field(default_factory=list)
    entitlement: list[DetailFieldSpec] = Field(default_factory=list)
