"""What a manifest's scalars mean. Plain scalars follow the YAML 1.2 core schema as ruamel.yaml's round-trip
loader (the reference) reads it: `yes`, `on` and `0755` are text, text and 755. Text values may use `${NAME}`
for the environment variable NAME (`$${` is a literal `${`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

# tried in this order
_FLOAT = re.compile(
    r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
    r"|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$")
_NUMBER_START = frozenset("-+0123456789.")
_CONSTANTS: dict[str, Any] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("~", "null", "Null", "NULL"), None),
}
_TIMESTAMPS = yaml.constructor.SafeConstructor()

_VARIABLE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{")
_MALFORMED = "malformed ${...}: write ${NAME} for an environment variable, $${ for a literal ${"


def scalar_value(node: yaml.ScalarNode) -> Any:
    """A scalar's value: quoted and block scalars are text, plain ones follow the YAML 1.2 core schema."""
    value: str = node.value
    if node.style:
        return value
    if value[:1] not in _NUMBER_START:
        return _CONSTANTS.get(value, value) if value else None
    if _FLOAT.match(value):
        return float(value.replace("_", "").lower().replace(".inf", "inf").replace(".nan", "nan"))
    if _INT.match(value):
        digits = value.replace("_", "")
        return int(digits, 0) if digits.lstrip("+-")[:2] in ("0b", "0o", "0x") else int(digits)
    if _TIMESTAMPS.timestamp_regexp.match(value):
        return _TIMESTAMPS.construct_yaml_timestamp(node)
    return value


def interpolate(text: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """`text` with each `${NAME}` replaced by the variable's value, and the problems met (a variable that is
    not set, a malformed `${`), which stay as written."""
    problems: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if match.group(0) == "$${":
            return "${"
        if name and name in environ:
            return environ[name]
        problems.append(
            f"environment variable {name} is not set (used as ${{{name}}})" if name else _MALFORMED
        )
        return match.group(0)

    return _VARIABLE.sub(replace, text), problems
