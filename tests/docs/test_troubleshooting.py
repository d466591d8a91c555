"""docs/troubleshooting.md explains every diagnostic code the tool can print and every kind of error.

The codes are found in the source, not listed by hand, so a code that later work adds fails this test until
it is documented: `error("plan.x", ...)`, `warning(...)`, `Diagnostic(severity, "x", ...)`,
`problem("x", ...)` (a manifest model's `manifest.x`), a code composed as f"prefix.{name}" from the
constants assigned to `name` in the function or the module, and a helper's code parameter (its default and
the constants its callers pass).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from reconciler import errors

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "reconciler"
TROUBLESHOOTING = ROOT / "docs" / "troubleshooting.md"
CODE = re.compile(r"[a-z]+\.[a-z][a-z_]*\Z")
# Diagnostic(...) calls that pass on a code read from elsewhere (a saved plan, the CLI's JSON): not new codes.
FORWARDING = {"errors.py", "plan.py", "comment.py"}


def _name(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else ""


def _text(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _assigned(function: ast.AST, variable: str) -> Iterator[str]:
    """Every text constant assigned to `variable` in `function`, also as the first of a tuple."""
    for node in ast.walk(function):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id == variable:
                if (text := _text(node.value)) is not None:
                    yield text
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                for element, value in zip(target.elts, node.value.elts, strict=False):
                    text = _text(value)
                    if isinstance(element, ast.Name) and element.id == variable and text is not None:
                        yield text


def _passed(tree: ast.AST, functions: list[ast.FunctionDef], call: ast.Call, parameter: str) -> Iterator[str]:
    """The text constants a helper's code parameter takes: its default and what its callers pass."""
    helpers = [
        f
        for f in functions
        if parameter in [a.arg for a in f.args.args] and any(n is call for n in ast.walk(f))
    ]
    if not helpers:
        return
    function = helpers[-1]
    names = [a.arg for a in function.args.args]
    position = names.index(parameter)
    defaults = function.args.defaults
    offset = len(names) - len(defaults)
    if position >= offset and (text := _text(defaults[position - offset])) is not None:
        yield text
    skip = 1 if names[:1] == ["self"] else 0
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        called = call.func.attr if isinstance(call.func, ast.Attribute) else _name(call)
        if called != function.name:
            continue
        if len(call.args) > position - skip and (text := _text(call.args[position - skip])) is not None:
            yield text
        for keyword in call.keywords:
            if keyword.arg == parameter and (text := _text(keyword.value)) is not None:
                yield text


def _codes_in(path: Path) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    for function in functions:
        for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
            name, args = _name(call), call.args
            if name in ("error", "warning") and args:
                first = args[0]
                if (text := _text(first)) is not None:
                    yield text, call.lineno
                elif isinstance(first, ast.JoinedStr) and len(first.values) == 2:
                    prefix_node, variable = first.values
                    prefix = _text(prefix_node)
                    assert prefix is not None and isinstance(variable, ast.FormattedValue)
                    assert isinstance(variable.value, ast.Name)
                    # The function's own variable, else a constant of the module.
                    found = list(_assigned(function, variable.value.id)) or list(
                        _assigned(tree, variable.value.id)
                    )
                    assert found, f"{path}:{call.lineno}: no constant is assigned to {variable.value.id}"
                    yield from ((f"{prefix}{text}", call.lineno) for text in found)
                elif isinstance(first, ast.Name) and (
                    passed := list(_passed(tree, functions, call, first.id))
                ):
                    yield from ((text, call.lineno) for text in passed)
                else:
                    raise AssertionError(
                        f"{path}:{call.lineno}: a code this test cannot read; pass it literally"
                    )
            elif name == "problem" and args:
                text = _text(args[0])
                assert text is not None, f"{path}:{call.lineno}: problem() with a code that is not literal"
                yield f"manifest.{text}", call.lineno
            elif name == "Diagnostic" and len(args) >= 2:
                text = _text(args[1])
                assert text is not None or path.name in FORWARDING, f"{path}:{call.lineno}"
                if text is not None:
                    yield text, call.lineno


def emitted_codes() -> dict[str, str]:
    """Every code the tool can print -> one place that prints it."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "sandbox" in path.relative_to(PACKAGE).parts:
            continue  # the simulated site's own error codes, not the tool's
        for code, line in _codes_in(path):
            assert CODE.match(code), f"{path}:{line}: {code!r} is not of the form area.name"
            found.setdefault(code, f"{path.relative_to(ROOT)}:{line}")
    return found


def _documented() -> set[str]:
    text = TROUBLESHOOTING.read_text(encoding="utf-8")
    return set(re.findall(r"^### ([a-z]+\.[a-z_]+)$", text, re.MULTILINE))


def test_the_scan_finds_the_codes_of_every_stage() -> None:
    codes = emitted_codes()
    assert {"manifest.yaml", "manifest.unknown_key", "manifest.control_character", "manifest.holder"} <= set(
        codes
    )
    assert {"plan.rename_conflict", "plan.unknown_holder", "apply.failed"} <= set(codes)


def test_every_code_the_tool_can_print_is_explained() -> None:
    missing = {code: where for code, where in emitted_codes().items() if code not in _documented()}
    assert not missing, f"add a `### code` section to docs/troubleshooting.md for: {missing}"


def test_every_kind_of_error_is_explained() -> None:
    def subclasses(cls: type) -> Iterator[type]:
        sub: type
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    text = TROUBLESHOOTING.read_text(encoding="utf-8")
    kinds = {cls.__name__ for cls in subclasses(errors.ReconcilerError) if cls.__module__ == errors.__name__}
    assert kinds >= {"ConfigError", "SiteError", "UnsafePlanError", "PlanMismatchError"}
    assert not {kind for kind in kinds if f"`{kind}`" not in text}
