"""The shape of ui/ and views/: no import cycle, every cache in ui/cache.py, roles only through
cb_core.access, thin pages."""
from __future__ import annotations

import ast
from pathlib import Path

from cb_core.access import ROLES
from tests.support.app import ROOT

UI = sorted((ROOT / "ui").glob("*.py"))
PAGES = sorted((ROOT / "views").glob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _ui_imports(path: Path) -> set[str]:
    """The ui modules ``path`` imports anywhere in it (inside functions too: a lazy import is still a dependency)."""
    found: set[str] = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module == "ui":
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ui."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("ui.")}
    return found


def test_ui_modules_import_each_other_without_a_cycle():
    graph = {p.stem: _ui_imports(p) for p in UI if p.stem != "__init__"}
    assert set().union(*graph.values()) <= set(graph), "imports of ui modules that do not exist"
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join(path + (module,))}"
        if module in done:
            return
        for dep in sorted(graph[module]):
            visit(dep, path + (module,))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())
    assert {"session", "labels", "errors", "cache", "tables"} <= set(graph)
    assert graph["session"] == set() and graph["cache"] == set()  # the bottom of ui/


def test_every_streamlit_cache_lives_in_ui_cache():
    offenders = []
    for path in [ROOT / "app.py", *UI, *PAGES]:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Attribute) and node.attr in ("cache_data", "cache_resource") \
                    and path not in [ROOT / "ui" / n for n in ("cache.py", "cache_report.py", "cache_figures.py")]:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_no_role_is_named_next_to_an_action_outside_cb_core_access():
    """Role checks ask cb_core.access (can / roles_with): no comparison with a role name, no tuple of roles."""
    roles = set(ROLES)
    offenders = []
    for path in [ROOT / "app.py", *UI, *PAGES, ROOT / "cb_core" / "reports" / "masking.py"]:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                if any(isinstance(o, ast.Constant) and o.value in roles for o in operands):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts and all(
                    isinstance(e, ast.Constant) and e.value in roles for e in node.elts):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_pages_are_thin():
    long = {p.name: n for p in PAGES if (n := len(p.read_text(encoding="utf-8").splitlines())) > 150}
    assert long == {}


def test_nothing_renders_raw_html_or_markdown_tables():
    """Untrusted text goes through ui/text.py; these calls would render it as markup whatever it is:
    st.table (cells are Markdown), st.html, unsafe_allow_html=True, and st.write (Markdown for text)."""
    offenders = []
    for path in [ROOT / "app.py", *UI, *PAGES]:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in ("table", "html", "write") and isinstance(node.func.value, ast.Name) \
                        and node.func.value.id == "st":
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} st.{node.func.attr}")
                offenders += [f"{path.relative_to(ROOT)}:{node.lineno} unsafe_allow_html" for k in node.keywords
                              if k.arg == "unsafe_allow_html"]
    assert offenders == []
