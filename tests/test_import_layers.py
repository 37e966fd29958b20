"""The layers of ``src/nnlab``, read from the source: imports go down the layers only, and no
import cycle exists.

From the bottom: the helpers (``BASE``); the textbook engine (``ENGINE``: the course's formulas
and the one epoch loop); the fast stepper (``nnlab.fast``); the front door (``nnlab.engine``:
``train`` and the stepper choice); ``model`` and ``callbacks``; then the ways in above them
(estimators, runs, files, datasets, experiments, playground, sweeps) and, at the top, the
command line. docs/architecture.md draws the same picture.

Every import counts — at module level, inside functions and under ``TYPE_CHECKING`` — because a
cycle hidden in a function is still two modules that each need the other (move the shared piece
down instead). The graph is read from the source with ``ast``, nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "nnlab"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the nnlab modules it imports (a package's import of ``.x`` names ``pkg.x`` when
    that is a module, else the package itself)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                stem = (f"{base}.{node.module}" if node.module else base) if node.level \
                    else node.module or ""
                targets = [f"{stem}.{a.name}" for a in node.names] + [stem]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and target.startswith("nnlab"):
                    graph[name].add(target)
                    break
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


BASE = {"nnlab._random", "nnlab._version", "nnlab._extras", "nnlab._threads", "nnlab._scipy_blas"}
ENGINE = {f"nnlab.{m}" for m in ("activations", "losses", "weights", "initializers", "layers",
                                 "network", "optimizers", "gradcheck", "data", "training")}
FRONT = {"nnlab.engine", "nnlab.model", "nnlab.callbacks", "nnlab.metrics"}


def _fast(module: str) -> bool:
    return module == "nnlab.fast" or module.startswith("nnlab.fast.")


def _cli(module: str) -> bool:
    return module == "nnlab.cli" or module.startswith("nnlab.cli.")


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import that goes up a layer, as "module -> imported"."""
    found = []
    for module, imported in sorted(graph.items()):
        if module in ENGINE:
            allowed = ENGINE | BASE
        elif _fast(module):
            allowed = ENGINE | BASE | {m for m in graph if _fast(m)}
        elif module in FRONT:
            allowed = ENGINE | BASE | FRONT | {m for m in graph if _fast(m)}
        elif module in ("nnlab", "nnlab.__main__") or _cli(module):
            continue  # the top: the package's lazy names and the command line
        else:  # the ways in may use anything but the command line
            allowed = {m for m in graph if not _cli(m) and m not in ("nnlab", "nnlab.__main__")}
        found += [f"{module} -> {m}" for m in sorted(imported - allowed)]
    return found


def test_the_graph_sees_imports_inside_functions_and_type_checking():
    graph = {"a": {"b"}, "b": {"a"}, "c": set()}
    assert cycles(graph) == [["a", "b"]]
    g = import_graph()
    assert "nnlab.fast.stepper" in g["nnlab.engine"]  # the front door builds fast steppers
    assert "nnlab.training" in g["nnlab.fast.stepper"]  # the stepper protocol's records


def test_no_import_cycle_in_nnlab():
    assert cycles(import_graph()) == []


def test_the_layer_rules_catch_an_upward_import():
    g = {m: set(deps) for m, deps in import_graph().items()}
    g["nnlab.training"].add("nnlab.fast.stepper")  # the engine reaching up to the fast path
    g["nnlab.fast.stepper"].add("nnlab.model")  # the fast path knowing Model
    g["nnlab.network"].add("nnlab.cli")
    assert layer_violations(g) == ["nnlab.fast.stepper -> nnlab.model",
                                   "nnlab.network -> nnlab.cli",
                                   "nnlab.training -> nnlab.fast.stepper"]


def test_imports_go_down_the_layers():
    """The engine imports only the engine; the fast path only the engine and itself (never
    ``Model``, the estimators or the command line); ``model``/``callbacks``/``engine`` nothing
    of the ways in above them; nothing but the command line imports the command line."""
    assert layer_violations(import_graph()) == []
