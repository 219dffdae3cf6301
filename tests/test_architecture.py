"""The shape of the code, checked: no two packages import each other (directly or round a loop), and modules
reach the store only through its public interface (after DESIGN.md: each module imports the core's public
interfaces, never the store's internals)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import zhulian

PACKAGE = Path(zhulian.__file__).parent
# The store and the service layer built directly on it may use its internals; everyone else uses ``zhulian.store``.
STORE_INSIDERS = {"store", "records", "access", "jobs"}


def _imports() -> dict[str, dict[str, list[str]]]:
    """For each top-level package (or module), the zhulian modules it imports, anywhere in its files (lazy
    imports inside functions count: they are cycles all the same, only later)."""
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        owner = parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.startswith("zhulian."):
                    found[owner][name].append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def _package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for owner, names in _imports().items():
        for name in names:
            target = name.split(".")[1]
            if target != owner:
                graph[owner].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_package_imports_itself_round_a_loop():
    graph = _package_graph()
    cycles = _cycles(graph)
    where = {f"{a} -> {b}" for cycle in cycles for a in cycle for b in cycle if b in graph[a]}
    assert not cycles, f"package cycles {cycles} through {sorted(where)}"


def test_modules_use_only_the_stores_public_interface():
    offending = sorted(f"{place} imports {name}"
                       for owner, names in _imports().items() if owner not in STORE_INSIDERS
                       for name, places in names.items() if name.startswith("zhulian.store.")
                       for place in places)
    assert not offending, "\n".join(offending)
