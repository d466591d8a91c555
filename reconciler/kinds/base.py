"""What every resource kind shares: the manifest model base and the holder of a permission grant."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

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


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest choice, compared without case, or an empty string."""
    by_folded = {choice.casefold(): choice for choice in choices}
    matches = difflib.get_close_matches(word.casefold(), list(by_folded), n=1, cutoff=0.6)
    return f" (did you mean {by_folded[matches[0]]!r}?)" if matches else ""


def problem(code: str, message: str, *at: str | int) -> PydanticCustomError:
    """A validation error whose type becomes the diagnostic code `manifest.<code>`.

    `at` is a path below the validated object (camelCase keys, list indices) that points the diagnostic at
    the exact offending node, since a model validator's error otherwise sits on the whole object.
    """
    # The message goes through the context so that braces in user input are never read as a template.
    return PydanticCustomError(code, "{message}", {"message": message, "at": at})


def single_line(text: str) -> str:
    """A name the tool writes to the site is one line of text, without control characters.

    The APIs give names no character rules beyond the detail fields' punctuation, but every Atlassian UI
    edits them in a single-line input, and Jira refuses line breaks in its other single-line fields. A line
    break or control character in a name is a typo or an attempt to forge the plan a reviewer reads.
    """
    found = _LINE_BREAK_OR_CONTROL.search(text)
    if found:
        raise problem(
            "control_character",
            f"{text!r} contains U+{ord(found.group()):04X}, a line break or control character; "
            "a name is one line of text",
        )
    return text


# Unicode's control characters (category Cc) and the line and paragraph separators
_LINE_BREAK_OR_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


NonEmptyName = Annotated[str, Field(min_length=1)]
# Names the tool writes. Earlier names (renamedFrom) and references (teams, holders) only have to match
# what the site has, so they are not held to this: a live name with a line break can be renamed away.
SingleLineName = Annotated[str, Field(min_length=1), AfterValidator(single_line)]
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
            hint = did_you_mean(self.type, catalogue.HOLDER_TYPES) or (
                f" (expected one of {', '.join(sorted(catalogue.HOLDER_TYPES))})"
            )
            raise problem("holder", f"unknown holder type {self.type!r}{hint}")
        if self.parameter == "" or self.value == "":
            raise problem("holder", f"holder {self.type!r} has an empty parameter")
        if self.type in catalogue.HOLDER_TYPES_WITHOUT_PARAMETER and has_parameter:
            raise problem("holder", f"holder type {self.type!r} takes no parameter")
        if self.type in catalogue.HOLDER_TYPES_WITH_PARAMETER and not has_parameter:
            raise problem("holder", f"holder type {self.type!r} needs a parameter, e.g. {self.type}:NAME")
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
