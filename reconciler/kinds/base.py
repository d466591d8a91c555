"""What every resource kind shares: the manifest model base and the holder of a permission grant."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from reconciler import catalogue


class Spec(BaseModel):
    """Base of every manifest model: strict, frozen, no unknown keys, camelCase keys like the APIs."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        alias_generator=to_camel,
        populate_by_name=True,
    )


NonEmptyName = Annotated[str, Field(min_length=1)]
RenamedFrom = Annotated[list[NonEmptyName], Field(default_factory=list, description="Earlier names.")]


class Holder(Spec):
    """Who a permission grant is for, in the API's own `{type, parameter?, value?}` form."""

    type: str
    parameter: str | None = None
    value: str | None = None

    @model_validator(mode="after")
    def _check_parameter(self) -> Holder:
        has_parameter = self.parameter is not None or self.value is not None
        if self.type not in catalogue.HOLDER_TYPES:
            raise ValueError(
                f"unknown holder type {self.type!r} (expected one of {', '.join(sorted(catalogue.HOLDER_TYPES))})"
            )
        if self.type in catalogue.HOLDER_TYPES_WITHOUT_PARAMETER and has_parameter:
            raise ValueError(f"holder type {self.type!r} takes no parameter")
        if self.type in catalogue.HOLDER_TYPES_WITH_PARAMETER and not has_parameter:
            raise ValueError(f"holder type {self.type!r} needs a parameter, e.g. {self.type}:NAME")
        return self

    @classmethod
    def parse(cls, text: str) -> Holder:
        """`group:NAME` -> Holder(type="group", parameter="NAME"); the text before the first colon is the type."""
        kind, sep, parameter = text.partition(":")
        return cls(type=kind, parameter=parameter if sep else None)

    def readable(self) -> str:
        """The short string form, when it says the same as the mapping form."""
        if self.value is None:
            return self.type if self.parameter is None else f"{self.type}:{self.parameter}"
        return f"{{type: {self.type}, value: {self.value}}}"


def _holder_from_text(value: Any) -> Any:
    if isinstance(value, str):
        kind, sep, parameter = value.partition(":")
        return {"type": kind, "parameter": parameter} if sep else {"type": kind}
    return value


HolderRef = Annotated[
    Holder,
    BeforeValidator(_holder_from_text, json_schema_input_type=str | Holder),
]
