"""House rules of the package, read from its source: one place for each concept.

Each test reads ``src/jamsos_cli`` with ``ast`` (nothing is run), so a rule broken anywhere
fails here with the file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

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


def test_the_ledger_rules_use_the_store_interface_only() -> None:
    """book.py (record, recover, void, decisions, people, stats, export) speaks to storage
    through ``LedgerStore`` alone: no driver, no SQL, no store method outside the
    interface, so a PostgreSQL store can take SQLite's place."""
    path = SRC / "ledger" / "book.py"
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
    assert used, "book.py no longer reaches its store as self.store"
    assert used <= _store_methods(), used - _store_methods()


def test_sql_lives_in_the_ledger_stores_only() -> None:
    """Only ledger/store.py (the shared SQL) and ledger/sqlite.py (the dialect) hold SQL."""
    homes = {SRC / "ledger" / "store.py", SRC / "ledger" / "sqlite.py"}
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
