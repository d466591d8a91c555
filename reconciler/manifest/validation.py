"""From pydantic's validation errors to positioned diagnostics: the path of the offending node in the data,
a message a person reads (with did-you-mean for unknown keys and values), the object's address."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from reconciler.errors import Diagnostic, error, shortened
from reconciler.kinds.kind import ResourceKind
from reconciler.spec import Spec, did_you_mean
from reconciler.yamlsource import DataPath, PathSegment, SourceMap

_TYPE_NAMES = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def diagnostics_from(
    exc: ValidationError,
    data: dict[str, Any],
    source_map: SourceMap,
    document: type[Spec],
    kinds: Sequence[ResourceKind],
) -> Iterator[Diagnostic]:
    for details in exc.errors():
        path, on_key = _data_path(data, details["loc"])
        kind = details["type"]
        ctx: dict[str, Any] = details.get("ctx") or {}
        inside = path[:1] == ("settings",)
        if kind == "extra_forbidden":
            key = str(path[-1])
            allowed = _allowed_keys(document, path[:-1])
            hint = did_you_mean(key, allowed) or (
                f" (expected one of: {', '.join(allowed)})" if allowed else ""
            )
            code, message, on_key = "unknown_key", f"unknown key {shortened(key)!r}{hint}", True
        elif kind == "missing":
            missing = str(details["loc"][-1])
            if not path and missing == "version":
                code, message = "version", "missing `version: 1` (required in every manifest file)"
            else:
                code, message = "invalid", f"missing required key {missing!r}"
        elif kind == "literal_error":
            code, message = "invalid", _literal_message(details["input"], str(ctx.get("expected", "")))
            if path == ("version",):
                found = details["input"]
                # "1" looks right in the file; only the type is wrong, so say so rather than "unsupported".
                message = (
                    f"the manifest version {found!r} is text (quoted); write the number: `version: 1`"
                    if found == "1"
                    else f"unsupported manifest version {_quoted(found)}; write `version: 1`"
                )
                code = "version"
        elif kind in _TYPE_NAMES:
            expected = _TYPE_NAMES[kind]
            if kind.startswith("model") and ("grants" in path or "holder" in path or "holders" in path):
                expected = "a holder: text like group:NAME, or a mapping {type, parameter, value}"
            code, message = (
                "invalid",
                f"{_label(path)}: expected {expected}, got {describe(details['input'])}",
            )
        elif "message" in ctx:  # our own errors (reconciler.spec.problem)
            code, message = kind, str(ctx["message"])
            path = (*path, *ctx.get("at", ()))
        else:
            text = str(details["msg"]).removeprefix("Value error, ")
            text = re.sub(r"^(Input|String|List|Value) should", "should", text)
            code, message = "invalid", f"{_label(path)}: {text}"
        if inside and code == "invalid":
            code = "settings"
        yield error(
            f"manifest.{code}",
            message,
            source=source_map.locate(path, key=on_key),
            address=_address_at(data, path, kinds),
        )


def _data_path(data: Any, loc: tuple[int | str, ...]) -> tuple[DataPath, bool]:
    """The part of a pydantic `loc` that names data, skipping pydantic's own segments (union members, tags).

    The flag says the error is about the last mapping key itself (`[key]`), not its value.
    """
    node: Any = data
    path: DataPath = ()
    for segment in loc:
        if segment == "[key]" and path:
            return path, True
        child = _child(node, segment)
        if child is not _ABSENT:
            node, path = child, (*path, segment)
    return path, False


_ABSENT = object()


def _child(node: Any, segment: PathSegment) -> Any:
    if isinstance(node, dict) and isinstance(segment, str) and segment in node:
        return node[segment]
    if isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
        return node[segment]
    return _ABSENT


def _allowed_keys(document: type[Spec], path: DataPath) -> list[str]:
    """The keys the model at `path` accepts, found by walking the model types along the path."""
    annotation: Any = document
    for segment in path:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {info.alias or name: info for name, info in annotation.model_fields.items()}
            if segment not in fields:
                return []
            annotation = fields[str(segment)].annotation
        elif get_origin(annotation) in (list, dict) and get_args(annotation):
            annotation = get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [info.alias or name for name, info in annotation.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _literal_message(value: Any, expected: str) -> str:
    choices = re.findall(r"'([^']*)'", expected)
    hint = did_you_mean(value, choices) if isinstance(value, str) else ""
    return f"{_quoted(value)} is not allowed here{hint}; expected {expected}"


def _label(path: DataPath) -> str:
    """`grantedRights[1]` for (..., "grantedRights", 1): the nearest key and the indices below it."""
    label = ""
    for segment in reversed(path):
        if isinstance(segment, int):
            label = f"[{segment}]{label}"
        else:
            return f"{segment}{label}"
    return label or "the document"


def _quoted(value: Any) -> str:
    """A value quoted short (see `describe`)."""
    return repr(shortened(value)) if isinstance(value, str) else repr(value)


def describe(value: Any) -> str:
    """A value for a message, its text quoted short: a file given as a manifest may be a credential file."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int | float):
        return f"the number {value} (quote it to make it text)"
    if isinstance(value, str):
        return f"the text {shortened(value)!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{value} ({type(value).__name__}; quote it to make it text)"


def _address_at(data: dict[str, Any], path: DataPath, kinds: Sequence[ResourceKind]) -> str | None:
    """The address of the object a data path points into, when the object has a usable name."""
    if not path or not isinstance(path[0], str) or path[0] not in data:
        return None
    kind = next((kind for kind in kinds if kind.name == path[0]), None)
    if kind is None:
        return None
    address = kind.address_at(data[path[0]], path[1:])
    return str(address) if address else None
