"""Check that dependencies point one way: identity (`everfresh.auth`) below every feature."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The features identity sits below; it may reach none of them, not even through another module.
FEATURES = (
    "accounts",
    "board",
    "bookings",
    "catalog",
    "companies",
    "eventlog",
    "openapi",
    "ops",
    "sse",
    "tenancy",
)


def module_file(module: str) -> Path | None:
    """Return the source file of an `everfresh` module, or None if it is not one."""
    path = ROOT.joinpath(*module.split("."))
    if path.is_dir():
        path = path / "__init__.py"
    else:
        path = path.with_suffix(".py")
    return path if path.is_file() else None


def imported_modules(module: str) -> set[str]:
    """Return the `everfresh` modules that `module` imports directly."""
    path = module_file(module)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1]])
                base = f"{base}.{node.module}" if node.module else base
            # `from a import b` imports a, and a.b too when b is a module.
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(name for name in names if name.startswith("everfresh") and module_file(name))
    return found


def reachable_from(package: str) -> set[str]:
    """Return every `everfresh` module that importing any module of `package` imports."""
    start = {
        f"{package}.{path.stem}" if path.stem != "__init__" else package
        for path in module_file(package).parent.glob("*.py")
    }
    seen, todo = set(), list(start)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(imported_modules(module) - seen)
    return seen


def test_the_scan_follows_imports_through_other_modules():
    assert "everfresh.catalog.models" in reachable_from("everfresh.bookings")
    assert "everfresh.auth.models" in reachable_from("everfresh.accounts")


def test_identity_imports_no_feature():
    reached = reachable_from("everfresh.auth")
    offenders = sorted(
        module
        for module in reached
        if any(module.startswith(f"everfresh.{feature}") for feature in FEATURES)
    )
    assert offenders == []
