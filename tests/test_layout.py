"""The shape of the house, checked on the source: imports run one way, no cycles, fronts only.

Every module of ``cb_core/`` and ``ui/`` is parsed (not imported) and each of its imports, at module
level or inside a function, becomes an edge of the import graph.
"""
from __future__ import annotations

import ast
from pathlib import Path

from tests.support.app import ROOT

#: Engine layers, lowest first. A module may import its own package and lower layers only; two
#: packages of one layer do not import each other (base modules may use each other).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "config", "i18n", "diskio", "access", "lazy", "allocator", "native"),   # base
    ("data",),
    ("synth", "features"),
    ("model",),
    ("explain", "strategy"),
    ("offers",),
    ("loans",),
    ("reports",),
    ("store", "workspace"),
    ("batch",),
    ("cli",),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
#: Entry points run by ``python -m``: they start the top layer and are never imported.
ENTRY_POINTS = {"cb_core.__main__", "cb_core.batch.__main__"}
#: Public submodules reachable beside a front (a module used as a namespace, ``metrics.auc``).
PUBLIC_SUBMODULES = {"cb_core.model.metrics"}
MAX_ENGINE_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(*folders: str) -> dict[str, Path]:
    return {_module_name(p): p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))
            if "migrations" not in p.parts}


MODULES = _sources("cb_core", "ui")
#: Pages and the entry point: scripts, not modules, but held to the same fronts-only rule.
SCRIPTS = {**_sources("views"), "app": ROOT / "app.py"}


def _imports(name: str, path: Path) -> list[tuple[str, tuple[str, ...], int]]:
    """(imported module, names taken from it, line) for every import statement of a module."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "lazy_exports"
                and isinstance(node.args[1], ast.Dict)):
            # a lazy front imports the modules of its table on first use: edges like any import
            found += [(f"{name}.{key.value}", (), node.lineno) for key in node.args[1].keys]
        elif isinstance(node, ast.Import):
            found += [(alias.name, (), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = tuple(alias.name for alias in node.names)
            # ``from package import module`` imports the module itself
            modules = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            found += [(m, (), node.lineno) for m in modules]
            rest = tuple(n for n in names if f"{target}.{n}" not in MODULES)
            if rest or not modules:
                found.append((target, rest, node.lineno))
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}
SCRIPT_GRAPH = {name: _imports(name, path) for name, path in SCRIPTS.items()}


def _package(module: str) -> str:
    """``cb_core.model.scale`` -> ``model``; ``cb_core.errors`` -> ``errors``; ``ui.x`` -> ``ui``."""
    parts = module.split(".")
    return parts[1] if parts[0] == "cb_core" and len(parts) > 1 else parts[0]


def _own(target: str) -> bool:
    return target.split(".")[0] in ("cb_core", "ui")


def test_the_graph_covers_the_whole_engine():
    """The walk sees every package of the engine (a test that parsed nothing would pass)."""
    packages = {_package(m) for m in MODULES if m.startswith("cb_core.")}
    assert packages >= set(RANK)
    assert set(RANK) >= packages - {"__main__"}, f"a package without a layer: {packages - set(RANK)}"
    assert sum(len(edges) for edges in GRAPH.values()) > 300


def test_engine_imports_run_one_way():
    wrong = []
    for module, edges in GRAPH.items():
        if not module.startswith("cb_core.") or module in ENTRY_POINTS:
            continue
        source = _package(module)
        for target, _, line in edges:
            if target.split(".")[0] in ("ui", "bench", "streamlit", "tests"):
                wrong.append(f"{module}:{line} imports {target}")
            elif target.startswith("cb_core.") and _package(target) != source:
                dest = _package(target)
                if RANK[dest] > RANK[source] or (RANK[dest] == RANK[source] > 0 and dest != source):
                    wrong.append(f"{module}:{line} ({source}, layer {RANK[source]}) imports {target} "
                                 f"({dest}, layer {RANK[dest]})")
    assert wrong == []


def test_other_packages_are_used_through_their_fronts_and_no_private_name_crosses():
    wrong = []
    for module, edges in {**GRAPH, **SCRIPT_GRAPH}.items():
        source = _package(module)
        for target, names, line in edges:
            if not target.startswith("cb_core") or _package(target) == source or target == "cb_core":
                continue
            parts = target.split(".")
            private = [p for p in parts if p.startswith("_")] + [n for n in names if n.startswith("_")]
            if private:
                wrong.append(f"{module}:{line} takes private {', '.join(private)} from {target}")
            elif len(parts) > 2 and target not in PUBLIC_SUBMODULES:
                wrong.append(f"{module}:{line} imports {target} instead of cb_core.{parts[1]}")
    assert wrong == []


def test_no_import_cycle_in_the_engine_or_the_ui():
    edges = {m: {t for t, _, _ in GRAPH[m] if t in MODULES and t != m} for m in MODULES}
    # A package front is also reached through each of its modules' imports of it.
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for start in sorted(MODULES):
        if start not in state:
            visit(start, [start])
    # A package importing its own front from a submodule is the usual ``from . import x``
    # pattern only when the front imports nothing back; every other loop is a cycle.
    assert cycles == []


def test_every_front_declares_its_public_api_and_exports_what_it_names():
    import importlib

    for package in sorted({_package(m) for m in MODULES if m.startswith("cb_core.")} - set(LAYERS[0]) - {"__main__",
                                                                                                         "workspace"}):
        front = importlib.import_module(f"cb_core.{package}")
        assert front.__doc__ and len(front.__doc__.strip()) > 80, f"cb_core.{package} needs a docstring"
        assert "import" in front.__doc__ or package == "cli", f"cb_core.{package}: say what it may import"
        assert front.__all__, f"cb_core.{package} has no __all__"
        for name in front.__all__:
            assert getattr(front, name) is not None, f"cb_core.{package}.{name}"


def test_base_modules_import_nothing_else_of_the_engine():
    base = set(LAYERS[0])
    wrong = [f"{m}:{line} imports {t}" for m, edges in GRAPH.items() if _package(m) in base and m.startswith("cb_core.")
             for t, _, line in edges if t.startswith("cb_core") and _package(t) not in base and t != "cb_core"]
    assert wrong == []


def test_engine_modules_stay_small():
    sizes = {module: len(path.read_text(encoding="utf-8").splitlines()) for module, path in MODULES.items()
             if module.startswith("cb_core")}
    assert len(sizes) > 60
    assert {m: n for m, n in sizes.items() if n > MAX_ENGINE_LINES} == {}
