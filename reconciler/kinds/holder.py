"""The holder of a permission grant, as the manifests write it: `group:NAME`, or the API's own mapping."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationError, model_validator

from reconciler import catalogue
from reconciler.errors import shortened
from reconciler.spec import Spec, did_you_mean, problem


class Holder(Spec):
    """Who a permission grant is for, in the API's own `{type, parameter?, value?}` form."""

    type: str
    parameter: str | None = None
    value: str | None = None

    @model_validator(mode="after")
    def _check_parameter(self) -> Holder:
        has_parameter = self.parameter is not None or self.value is not None
        shown = shortened(self.type)
        if self.type not in catalogue.HOLDER_TYPES:
            hint = did_you_mean(self.type, catalogue.HOLDER_TYPES) or (
                f" (expected one of {', '.join(sorted(catalogue.HOLDER_TYPES))})"
            )
            raise problem("holder", f"unknown holder type {shown!r}{hint}")
        if self.parameter == "" or self.value == "":
            raise problem("holder", f"holder {shown!r} has an empty parameter")
        if self.type in catalogue.HOLDER_TYPES_WITHOUT_PARAMETER and has_parameter:
            raise problem("holder", f"holder type {shown!r} takes no parameter")
        if self.type in catalogue.HOLDER_TYPES_WITH_PARAMETER and not has_parameter:
            raise problem("holder", f"holder type {shown!r} needs a parameter, e.g. {shown}:NAME")
        return self

    @classmethod
    def parse(cls, text: str) -> Holder:
        """`group:NAME` -> Holder(type="group", parameter="NAME").

        The text before the first colon is the type.
        """
        kind, sep, parameter = text.partition(":")
        return cls(type=kind, parameter=parameter if sep else None)

    def readable(self) -> str:
        """The short string form, when it says the same as the mapping form."""
        if self.value is None:
            return self.type if self.parameter is None else f"{self.type}:{self.parameter}"
        return f"{{type: {self.type}, value: {self.value}}}"


def _holder_from_text(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1 and "type" not in value:
        # `- group: jira-administrators` is YAML for a mapping, not the text `group:jira-administrators`.
        ((kind, parameter),) = value.items()
        if kind in catalogue.HOLDER_TYPES:
            raise problem(
                "holder", f"write `{kind}:{parameter}` without a space after the colon, or quote it"
            )
    return _holder_of_text(value) if isinstance(value, str) else value


@functools.lru_cache(maxsize=4096)
def _holder_of_text(text: str) -> Holder | dict[str, str]:
    """`group:NAME` as a Holder, built once: schemes repeat a few holders thousands of times. A text that
    is no valid holder stays a mapping, for the validation of the field to say why, where it is."""
    kind, sep, parameter = text.partition(":")
    data = {"type": kind, "parameter": parameter} if sep else {"type": kind}
    try:
        return Holder.model_validate(data)
    except ValidationError:
        return data


HolderRef = Annotated[
    Holder,
    BeforeValidator(_holder_from_text, json_schema_input_type=str | Holder),
]
