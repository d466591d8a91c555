"""What every manifest model shares: strict frozen camelCase models, positioned problems, one-line names."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from reconciler.errors import shortened


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
            f"{shortened(text)!r} contains U+{ord(found.group()):04X}, a line break or control character; "
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
