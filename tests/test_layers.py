"""The package's layers: imports only go down the pipeline (ingest ← store ←
answer ← serve ← cli, evaluation, bench), and no modules import each other
in a circle. Read from the source, every import statement (lazy ones in
functions too)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"
#: imported by every stage, importing none of ours
BASE = {"assistant", "assistant.settings", "assistant.errors"}
STAGES = ["ingest", "store", "answer", "serve"]
TOP = {
    "assistant.cli",
    "assistant.cli_common",
    "assistant.cli_articles",
    "assistant.evaluation",
    "assistant.calibration",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def level(module: str) -> int:
    """0-3 for the pipeline stages, 4 for the top (cli, evaluation, bench), -1 for the base."""
    if module in BASE:
        return -1
    if module in TOP or module.startswith("assistant.bench"):
        return 4
    return STAGES.index(module.split(".")[1])


def imports(path: Path) -> set[str]:
    """The modules of this package that ``path`` imports."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names]
            found |= {n for n in names if _is_module(n)} or {target}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m == "assistant" or m.startswith("assistant.")}


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (PACKAGE.parent / rel).with_suffix(".py").exists() or (
        PACKAGE.parent / rel / "__init__.py"
    ).exists()


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) - {module_name(p)} for p in PACKAGE.rglob("*.py")}


def test_every_module_belongs_to_a_stage():
    for module in graph():
        level(module)  # raises for a module outside the layout


def test_imports_only_go_down_the_pipeline():
    upward = [
        f"{module} → {target}"
        for module, targets in graph().items()
        for target in targets
        if level(target) > level(module)
    ]
    assert not upward


def test_no_import_cycles():
    edges = graph()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt in edges and state.get(nxt) is None:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles
