"""The house rules that code review would otherwise have to remember: imports point down, never hide in
functions, and the engine runs without the UI."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: what the pretrained encoders may build on: shared infrastructure only, never a capability package
BACKBONE_MAY_IMPORT = ("core.audio", "core.registry", "core.threads", "core.training", "core.backbones")


def _imports(path: Path):
    """(module imported, inside a function?) for every import of a project module in ``path``."""
    tree = ast.parse(path.read_text())
    out = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                out.extend((f"{child.module}.{a.name}", in_function) for a in child.names)
            elif isinstance(child, ast.Import):
                out.extend((a.name, in_function) for a in child.names)
            elif isinstance(child, ast.If) and getattr(child.test, "id", "") == "TYPE_CHECKING":
                continue  # annotations only
            visit(child, inside)

    visit(tree, False)
    return [(m, f) for m, f in out if m.split(".")[0] in ("core", "server", "tabs", "app")]


def test_backbones_import_nothing_from_the_capability_packages():
    for path in sorted((ROOT / "core" / "backbones").glob("*.py")):
        for module, _ in _imports(path):
            assert module.startswith(BACKBONE_MAY_IMPORT), f"{path.name} imports {module}"


def test_core_never_imports_the_server_or_the_tabs():
    for path in sorted((ROOT / "core").rglob("*.py")):
        for module, _ in _imports(path):
            assert not module.startswith(("server", "tabs", "app")), f"{path.relative_to(ROOT)} imports {module}"


def _module_of(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    return ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)


def _resolve(name: str, modules: set[str]) -> str | None:
    """The project module an imported name lives in (``core.backbones.embed.embed`` → ``core.backbones.embed``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def test_no_function_level_import_hides_a_cycle():
    """A function may import lazily (a heavy optional dependency), but never a module that, at import time,
    already reaches back to its own: that would be a cycle hidden from the reader."""
    paths = sorted((ROOT / "core").rglob("*.py"))
    modules = {_module_of(p) for p in paths}
    top, lazy = {}, []
    for p in paths:
        me = _module_of(p)
        top[me] = set()
        for name, in_function in _imports(p):
            target = _resolve(name, modules)
            if target and target != me:
                (lazy.append((me, target)) if in_function else top[me].add(target))

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            m = todo.pop()
            if m == goal:
                return True
            if m not in seen:
                seen.add(m)
                todo += list(top.get(m, ()))
        return False

    hidden = [f"{a} imports {b} inside a function, and {b} imports {a}" for a, b in lazy if reaches(b, a)]
    assert hidden == []


def test_the_engine_imports_without_gradio():
    code = ("import sys; import core.genre.api, core.instruments.api, core.classify.prior, core.search.api, "
            "core.effects.api, core.generation.api, core.analysis, core.library; print('gradio' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    # the last line: a dependency may print on import (pyfluidsynth names its library when CI is set)
    assert out.stdout.strip().splitlines()[-1] == "False"
