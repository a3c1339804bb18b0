"""House rules of the package, read from its source: one place for each concept.

Each test reads ``src/jamsos_cli`` with ``ast`` (nothing is run), so a rule broken anywhere
fails here with the file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "jamsos_cli"


def modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(SRC.parent)}:{node.lineno}"


def call_name(node: ast.Call) -> str:
    """``typer.Exit`` for ``typer.Exit(...)``, ``print`` for ``print(...)``."""
    f = node.func
    parts = []
    while isinstance(f, ast.Attribute):
        parts.append(f.attr)
        f = f.value
    if isinstance(f, ast.Name):
        parts.append(f.id)
    return ".".join(reversed(parts))


# ------------------------------------------------------------------------- exit codes


def test_exit_codes_are_defined_once() -> None:
    """Every exit status is an ``exitcodes.ExitCode``: no bare number given to typer.Exit,
    sys.exit or an ``exit_code`` anywhere else."""
    bad = []
    for path, tree in modules():
        if path.name == "exitcodes.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and call_name(node).endswith(("Exit", "sys.exit")):
                args = [*node.args, *(k.value for k in node.keywords)]
                if any(isinstance(a, ast.Constant) for a in args):
                    bad.append(where(path, node))
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                named = any(isinstance(t, ast.Name) and t.id == "exit_code" for t in targets)
                if named and isinstance(node.value, ast.Constant):
                    bad.append(where(path, node))
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant):
                fn = next(
                    (
                        f
                        for f in ast.walk(tree)
                        if isinstance(f, ast.FunctionDef)
                        and f.name == "exit_code"
                        and node in list(ast.walk(f))
                    ),
                    None,
                )
                if fn is not None:
                    bad.append(where(path, node))
    assert not bad, "exit status not from exitcodes.ExitCode: " + ", ".join(bad)


# ------------------------------------------------------------------------- the ledger store


def _store_methods() -> set[str]:
    from jamsos_cli.ledger.store import LedgerStore

    attributes = set(LedgerStore.__annotations__)  # location, exists
    return {n for n in dir(LedgerStore) if not n.startswith("_")} | attributes


@pytest.mark.parametrize("name", ["book.py", "copying.py"])
def test_the_ledger_rules_use_the_store_interface_only(name: str) -> None:
    """book.py (record, recover, void, decisions, people, stats, export) and copying.py
    (ledger copy) speak to storage through ``LedgerStore`` alone: no driver, no SQL, no
    store method outside the interface, so SQLite and PostgreSQL share them."""
    path = SRC / "ledger" / name
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {"sqlite3", "psycopg"} & imported
    sql = [
        where(path, node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and any(w in node.value for w in ("SELECT ", "INSERT ", "UPDATE ", "DELETE "))
    ]
    assert not sql, sql
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "store"
    }
    assert used, f"{name} no longer reaches its store as <ledger>.store"
    assert used <= _store_methods(), used - _store_methods()


def test_sql_lives_in_the_ledger_stores_only() -> None:
    """Only ledger/store.py (the shared SQL), ledger/schema.py (the tables) and the dialects
    (ledger/sqlite.py, ledger/postgresql.py) hold SQL."""
    homes = {SRC / "ledger" / f"{name}.py" for name in ("store", "schema", "sqlite", "postgresql")}
    found = [
        where(path, node)
        for path, tree in modules()
        if path not in homes
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and any(w in node.value for w in ("SELECT ", "INSERT INTO", "UPDATE batches"))
    ]
    assert not found, found


# ------------------------------------------------------------------------- import cycles


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module → the package modules it imports, anywhere in it (inside functions and under
    ``TYPE_CHECKING`` too: a dependency is a dependency)."""
    names = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in names}
    for name, path in names.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                    base = f"{base}.{node.module}" if node.module else base
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in names else base
                           for a in node.names]  # fmt: skip
            for target in targets:
                if target in names and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "jamsos_cli.pipeline" in graph and graph["jamsos_cli.pipeline"]
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# ------------------------------------------------------------------------- presentation


def test_only_the_presentation_and_the_command_line_render() -> None:
    """Rich (the screen) is imported by render/ and cli/ only: no domain module renders."""
    bad = []
    for path, tree in modules():
        if path.parent.name in ("render", "cli"):
            continue
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n == "rich" or n.startswith("rich.") for n in names):
                bad.append(where(path, node))
    assert not bad, bad


# ------------------------------------------------------------------------- finding codes

STEPS = (
    "read", "layout", "limits", "pipeline", "checks", "eligibility", "duplicates", "neardup",
    "build", "ledgerchecks", "replies",
    "build", "renewal",
)  # fmt: skip


def _code_literals(path: Path, codes: set[str]) -> set[str]:
    """The codes a module names outside its ``EMITS`` declaration: the ones it emits."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    declaration = {
        id(n)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "EMITS" for t in node.targets)
        for n in ast.walk(node)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in codes and id(node) not in declaration
    }


def test_each_step_declares_the_codes_it_emits_and_together_they_are_codes_toml() -> None:
    import importlib

    from jamsos_cli.codes import registry

    codes = set(registry())
    union: set[str] = set()
    for step in STEPS:
        declared = set(importlib.import_module(f"jamsos_cli.{step}").EMITS)
        named = _code_literals(SRC / f"{step}.py", codes)
        assert named == declared, (step, named ^ declared)
        assert not union & declared, (step, union & declared)  # one step per code
        union |= declared
    assert union == codes, union ^ codes
