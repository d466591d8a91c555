"""The model of one manifest file, built from the kinds' sections: validation and the JSON Schema use it."""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, create_model

from reconciler.kinds.kind import ResourceKind
from reconciler.spec import Spec, problem
from reconciler.state import Settings


def _reject_bool(value: Any) -> Any:
    # `version: true` would pass Literal[1], since True == 1 in Python.
    if isinstance(value, bool):
        raise problem("version", f"unsupported manifest version {value!r}; write `version: 1`")
    return value


@functools.cache
def manifest_document(kinds: tuple[ResourceKind, ...]) -> type[Spec]:
    """The model of one manifest file with these kinds' sections. The JSON Schema is generated from it."""
    fields: dict[str, Any] = {
        "version": (
            Annotated[Literal[1], BeforeValidator(_reject_bool)],
            Field(description="The manifest format version; required in every file."),
        ),
        "settings": (Settings | None, Field(default=None, description="In at most one file of the set.")),
        **{kind.name: (kind.section, None) for kind in kinds},
    }
    return create_model(
        "ManifestDocument",
        __base__=Spec,
        __doc__="One manifest file. The JSON Schema of the format is generated from this model.",
        **fields,
    )
