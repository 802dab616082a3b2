"""The layout's rules: no import cycles between the project's modules, no module over 500 lines.

The import graph is read from the source with ``ast`` (nothing is imported),
so a cycle through a function-level import fails here as well as one at
module level: a lazy import only hides a cycle until the day both modules
are loaded in the other order.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GRAPH_PACKAGES = ("pipeline", "flows")
SIZE_FOLDERS = ("pipeline", "flows", "bench", "scripts")
MAX_LINES = 500


def module_name(path: Path) -> str:
    """``pipeline/speech/asr.py`` -> ``pipeline.speech.asr``; a package's ``__init__.py`` is the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(packages=GRAPH_PACKAGES) -> dict[str, Path]:
    return {module_name(path): path for package in packages for path in sorted((ROOT / package).rglob("*.py"))}


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module a ``from ... import`` names, with relative levels resolved against the importing module."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """Project modules that ``module`` imports anywhere in its source (top level, functions, lazy exports; TYPE_CHECKING excepted)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    type_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node.test) for n in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif _is_lazy_exports(node):
            # pipeline.lazy.lazy_exports(__name__, {"name": "module"}): each module is imported on first use
            names = [v.value for arg in node.args if isinstance(arg, ast.Dict) for v in arg.values if isinstance(v, ast.Constant)]
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(node, module, path.name == "__init__.py")
            # ``from pkg import mod`` imports the module pkg.mod; ``from mod import name`` imports mod.
            names = [f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]  # ``import pipeline.speech.asr as x`` names a module; an attribute path falls back
            if name and name != module:
                found.add(name)
    return found


def _is_lazy_exports(node: ast.AST) -> bool:
    func = node.func if isinstance(node, ast.Call) else None
    return (isinstance(func, ast.Name) and func.id == "lazy_exports") or (isinstance(func, ast.Attribute) and func.attr == "lazy_exports")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_graph_sees_relative_and_function_level_imports(tmp_path):
    """The reader resolves relative imports, imports inside functions and lazy exports, and finds the cycle they make."""
    source = "from .b import thing\n"
    other = "def late():\n    from pkg import a\n    return a\n"
    package = "from pipeline.lazy import lazy_exports\n__getattr__ = lazy_exports(__name__, {'run': 'pkg.b'})\n"
    (tmp_path / "a.py").write_text(source, encoding="utf-8")
    (tmp_path / "b.py").write_text(other, encoding="utf-8")
    (tmp_path / "__init__.py").write_text(package, encoding="utf-8")
    known = {"pkg", "pkg.a", "pkg.b"}
    graph = {
        "pkg.a": imports_of("pkg.a", tmp_path / "a.py", known),
        "pkg.b": imports_of("pkg.b", tmp_path / "b.py", known),
    }
    assert graph == {"pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}}
    assert imports_of("pkg", tmp_path / "__init__.py", known) == {"pkg.b"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.a"]


def test_importing_pipeline_packages_loads_no_model_library():
    """The stage packages export their entry points lazily: importing them loads neither Whisper nor scikit-learn."""
    import subprocess
    import sys

    code = (
        "import sys, pipeline, pipeline.speech, pipeline.text, pipeline.facts, pipeline.judgement, pipeline.outputs\n"
        "print(sorted(m for m in ('faster_whisper', 'ctranslate2', 'sklearn') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.parametrize("path", sorted(p for folder in SIZE_FOLDERS for p in (ROOT / folder).rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_under_500_lines(path: Path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES}): split it by what its parts do"
