"""The house's floors (docs/architecture.md, "Floors"): each module imports only modules on its own floor or
below, nothing imports in a circle, and a package's face hands on nothing.

Every import counts, read with `ast` from the source: at module level, under `if TYPE_CHECKING:`, and
deferred into a function, since each is the same dependency. `from package import name` counts as importing
the submodule `package.name` when there is one, else the package. The floors are read from the fenced block
after the `floors` marker in docs/architecture.md, so the page and this guard cannot disagree.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "reconciler"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
FLOORS_MARKER = "<!-- floors: read by tests/unit/test_layering.py -->"
# A floor's line: its number, its name, then its parts (two spaces or more between the columns).
FLOOR_LINE = re.compile(r"^\s*(\d+)\s{2,}(\S.*?)\s{2,}(\S.*)$")
# The one face that hands names on: the console script `reconciler.cli:main` (pyproject.toml).
FACES_THAT_HAND_ON = {"reconciler.cli": {"reconciler.cli.commands"}}
LONG_MODULE = 500  # lines; a longer module says why at its top, with these words
LONG_MODULE_WORDS = "500 lines"


@dataclass(frozen=True)
class Floor:
    number: int
    name: str
    parts: tuple[str, ...]  # `errors`, `kinds/` (a package and all below it), `__init__`, `__main__`


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> Mapping[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str, source: str, *, face: bool = False) -> Iterator[tuple[str, int]]:
    """(module imported, line) for every import of a reconciler module in module `name`'s source, wherever
    it stands; `face`: the source is a package's __init__.py."""
    package = name if face else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else base
                for alias in node.names
            ]
        else:
            continue
        yield from ((target, node.lineno) for target in targets if target.split(".")[0] == "reconciler")


@cache
def edges() -> Mapping[str, frozenset[tuple[str, int]]]:
    return {
        name: frozenset(imported(name, path.read_text(encoding="utf-8"), face=path.name == "__init__.py"))
        for name, path in modules().items()
    }


def floors() -> list[Floor]:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    assert FLOORS_MARKER in text, f"docs/architecture.md has lost its floors block ({FLOORS_MARKER})"
    block = text.split(FLOORS_MARKER, 1)[1].split("```", 2)[1]
    found = []
    for line in block.splitlines()[1:]:  # the fence's language tag, then the floors
        matched = FLOOR_LINE.match(line)
        if matched:
            number, name, parts = matched.groups()
            found.append(Floor(int(number), name, tuple(parts.split())))
    return found


def covers(part: str, module: str) -> bool:
    if part == "__init__":
        return module == "reconciler"
    dotted = "reconciler." + part.rstrip("/").replace("/", ".")
    return module == dotted or (part.endswith("/") and module.startswith(dotted + "."))


def floor_of(module: str, table: list[Floor]) -> Floor:
    [floor] = [floor for floor in table if any(covers(part, module) for part in floor.parts)]
    return floor


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module, or a module importing itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_floors_are_numbered_bottom_up_and_name_what_exists() -> None:
    table = floors()
    assert [floor.number for floor in table] == list(range(len(table), 0, -1)), "floors run from the top down"
    for floor in table:
        for part in floor.parts:
            assert any(covers(part, module) for module in modules()), f"floor {floor.number}: no {part!r}"


def test_every_module_stands_on_one_floor() -> None:
    table = floors()
    for module in modules():
        on = [floor.number for floor in table if any(covers(part, module) for part in floor.parts)]
        assert len(on) == 1, f"{module} is on floors {on}: place it on one in docs/architecture.md"


def test_no_import_runs_up_a_floor() -> None:
    table = floors()
    upward = [
        f"{modules()[module].relative_to(ROOT)}:{line}: {module} (floor {floor_of(module, table).number}) "
        f"imports {target} (floor {floor_of(target, table).number})"
        for module, found in edges().items()
        for target, line in sorted(found)
        if target in modules() and floor_of(target, table).number > floor_of(module, table).number
    ]
    assert upward == []


def test_nothing_imports_in_a_circle() -> None:
    graph = {
        module: {target for target, _ in found if target in modules()} for module, found in edges().items()
    }
    assert circles(graph) == []


def test_the_guard_sees_every_kind_of_import() -> None:
    """A circle hidden in a TYPE_CHECKING block or a function is found as one at module level would be."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from reconciler.plan import model\n"
    source += "def f():\n    from reconciler.kinds.kind import Change\n    import reconciler.site.http\n"
    found = {target for target, _ in imported("reconciler.plan.targets", source)}
    assert found == {"reconciler.plan.model", "reconciler.kinds.kind", "reconciler.site.http"}


def test_package_faces_hand_on_nothing() -> None:
    """A package's __init__.py imports nothing of the package (so `from pkg import module` cannot close a
    circle through it), except the command line's, which hands `main` to the console script."""
    for module, path in modules().items():
        if path.name == "__init__.py":
            targets = {target for target, _ in edges()[module]}
            assert targets <= FACES_THAT_HAND_ON.get(module, set()), f"{path.relative_to(ROOT)}: {targets}"


def test_a_long_module_says_why_at_its_top() -> None:
    for module, path in modules().items():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > LONG_MODULE:
            docstring = ast.get_docstring(ast.parse(text)) or ""
            assert LONG_MODULE_WORDS in docstring, (
                f"{module} has over {LONG_MODULE} lines: say why at its top"
            )
