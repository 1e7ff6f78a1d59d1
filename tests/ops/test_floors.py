"""The house's floors, checked on the source itself (import-linter checks the imports in
`make lint`; these catch what it cannot: imports hidden inside functions, and the stock
ledger naming the intake app in code or templates)."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["config", "org", "outbox", "inventory", "events", "ssp", "referrals", "reports"]


def _sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _imports_inside_functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    yield node.name, inner.lineno


def _is_ready_hook(path: Path, function: str) -> bool:
    # Django's own idiom: AppConfig.ready() imports the app's signal receivers once the
    # registry is ready. Nothing else may import inside a function.
    return path.name == "apps.py" and function == "ready"


def test_no_module_imports_inside_a_function():
    found = [
        f"{path.relative_to(ROOT)}:{line} in {function}()"
        for path in _sources()
        for function, line in _imports_inside_functions(ast.parse(path.read_text()))
        if not _is_ready_hook(path, function)
    ]
    assert not found, "imports inside functions (a floor dodged?):\n" + "\n".join(found)


def test_the_check_catches_an_import_inside_a_function():
    tree = ast.parse("def f():\n    from ssp.models import Visit\n    return Visit\n")
    assert list(_imports_inside_functions(tree)) == [("f", 2)]


def _code_lines(path: Path):
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        stripped = line.strip()
        if path.suffix == ".py" and stripped.startswith("#"):
            continue
        yield number, line


@pytest.mark.parametrize("upper", ["ssp", "referrals", "reports"])
def test_the_stock_ledger_names_no_upper_floor(upper):
    """inventory knows nothing of visits, referrals or reports: not in code, templates,
    static files or migrations (comments may explain a reference's format)."""
    pattern = re.compile(rf"\b{upper}[.:/]")
    found = []
    for path in sorted((ROOT / "inventory").rglob("*")):
        if path.suffix not in {".py", ".html", ".js", ".css", ".txt"}:
            continue
        for number, line in _code_lines(path):
            if pattern.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)
