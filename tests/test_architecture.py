"""The package's shape: no import cycles, no oversized modules, no condition named outside its registry.

(Suite names are not checked the same way: "format", "pressure" or "attack" are also field names and
kinds, so a literal of one says nothing.)"""

from __future__ import annotations

import ast
from pathlib import Path

import rearing

PACKAGE = Path(rearing.__file__).parent
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def typing_only(tree: ast.Module) -> set[ast.AST]:
    """Nodes under ``if TYPE_CHECKING:``: read by type checkers for annotations, never run."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.body:
                skipped |= set(ast.walk(child))
    return skipped


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every rearing module ``path`` imports, at the top or inside a function (an import for
    annotations only, under ``if TYPE_CHECKING:``, never runs and is not counted)."""
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = typing_only(tree)
    for node in ast.walk(tree):
        if node in skipped:
            continue
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found |= {n for n in names if n in known}
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(paths)
    return {name: imports_of(path, known) - {name} for name, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle_even_through_imports_inside_functions():
    graph = import_graph()
    assert "rearing.pipeline" in graph and graph["rearing.pipeline"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = import_graph()
    graph["rearing.layout"] = graph["rearing.layout"] | {"rearing.pipeline"}
    assert find_cycle(graph) is not None


def test_no_module_over_the_size_limit():
    sizes = {module_name(p): len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_no_module_names_a_condition_outside_the_registry():
    """Conditions live in ``corpus/data/conditions.yaml``; code that spells one (``if name == "bmn_shuffled"``)
    would make adding or renaming a condition more than one entry. The pre-registered primary contrast
    (``analysis.primary_contrast``'s default) is the one place that must name two."""
    from rearing.corpus.conditions import all_conditions

    names = set(all_conditions())
    spelled = {
        (module_name(path), node.value)
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value in names
    }
    assert spelled - {("rearing.config", "bmn_developmental"), ("rearing.config", "principle_flat")} == set()
