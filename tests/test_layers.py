"""The layers of docs/ARCHITECTURE.md, held by walking the import graph.

Every module of `ganlib/` belongs to a layer (its first folder); it may import its own layer
and the layers below, never one above, and never a sibling plugin (data, models and losses do
not know each other). Module-level imports form no circle (a package's `__init__` importing its
own plugins at the bottom, to register them, is the one pattern allowed). Streamlit is imported
only by `ganlib/ui/`, `app.py` and `app_pages/`; torch never by `app.py` or a page. The pages are
found by listing the folder, so a new page is checked without editing this file.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PKG = REPO / "ganlib"

# layer -> rank; a module may import ranks <= its own (plugins of one rank only themselves).
RANKS = {"core": 0, "data": 1, "models": 1, "losses": 1, "metrics": 2, "store": 3, "interchange": 4,
         "engine": 5, "explore": 6, "cli": 7, "ui": 8}
TOP = {"ganlib": 0, "ganlib.__main__": 7}  # the package docstring/version; `python -m ganlib`


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def layer(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANKS else mod


def rank(mod: str) -> int:
    return TOP[mod] if mod in TOP else RANKS[layer(mod)]


def resolve(base: str, name: str | None) -> str:
    """`from base import name`: the module `base.name` when it is one, else `base`."""
    if name and f"{base}.{name}" in MODULES:
        return f"{base}.{name}"
    return base


def imports(path: Path, top_level_only: bool = False) -> list[tuple[str, int]]:
    """(imported module, line) for every import of the file (or only those at module level)."""
    tree = ast.parse(path.read_text(), str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(resolve(node.module, a.name), node.lineno) for a in node.names]
    return found


def test_every_module_has_a_layer():
    unknown = [m for m in MODULES if m not in TOP and layer(m) not in RANKS]
    assert not unknown, f"modules outside every layer folder: {unknown}; put them in one (docs/ARCHITECTURE.md)"


def test_every_layer_says_what_belongs_there():
    for name in RANKS:
        init = PKG / name / "__init__.py"
        assert init.is_file(), f"layer folder ganlib/{name}/ is missing"
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert len(doc.split()) >= 25 and "import" in doc, f"ganlib/{name}/__init__.py needs its layer paragraph"


def test_no_import_goes_up_a_layer():
    bad = []
    for mod, path in MODULES.items():
        for target, line in imports(path):
            if not target.startswith("ganlib"):
                continue
            if target not in MODULES:
                target = next(m for m in sorted(MODULES, key=len, reverse=True)
                              if target.startswith(m + ".") or m == "ganlib")
            same_plugin_rank = rank(target) == rank(mod) and layer(target) != layer(mod) and mod not in TOP
            if rank(target) > rank(mod) or same_plugin_rank:
                bad.append(f"{path.relative_to(REPO)}:{line} ({layer(mod)}) imports {target} ({layer(target)})")
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_no_import_circle():
    graph: dict[str, set[str]] = {}
    for mod, path in MODULES.items():
        is_init = path.name == "__init__.py"
        graph[mod] = {t for t, _ in imports(path, top_level_only=True)
                      if t in MODULES and t != mod and not (is_init and t.startswith(mod + "."))}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                pytest.fail("import circle: " + " -> ".join(stack[stack.index(t):] + [t]))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_imports_inside_functions_say_why():
    """An import inside a function hides a dependency; it needs a comment that says why."""
    bad = []
    for path in MODULES.values():
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    here, before = lines[sub.lineno - 1], lines[sub.lineno - 2] if sub.lineno > 1 else ""
                    if "#" not in here and not before.strip().startswith("#"):
                        bad.append(f"{path.relative_to(REPO)}:{sub.lineno}: {here.strip()}")
    assert not bad, "imports inside functions without a comment saying why:\n" + "\n".join(sorted(set(bad)))


def _front_end_files() -> list[Path]:
    return [REPO / "app.py"] + sorted((REPO / "app_pages").glob("*.py"))


def test_pages_and_app_never_import_torch():
    assert len(_front_end_files()) > 1
    for path in _front_end_files():
        bad = [t for t, _ in imports(path) if t == "torch" or t.startswith("torch.")]
        assert not bad, f"{path.relative_to(REPO)} imports {bad}: pages call ganlib"


def test_only_the_ui_imports_streamlit():
    for mod, path in MODULES.items():
        if layer(mod) == "ui":
            continue
        bad = [t for t, _ in imports(path) if t.split(".")[0] == "streamlit"]
        assert not bad, f"{path.relative_to(REPO)} imports streamlit: keep it in ganlib/ui/ and the pages"


def test_the_layer_test_catches_a_violation(tmp_path):
    """The walker finds imports in functions and `from ganlib.x import y` forms."""
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from ganlib.engine.trainer import train\n\nimport ganlib.store.config\n")
    assert {t for t, _ in imports(f)} == {"ganlib.engine.trainer", "ganlib.store.config"}
    assert rank("ganlib.engine.trainer") > rank("ganlib.store.config")
