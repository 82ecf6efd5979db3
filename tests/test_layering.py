"""Architecture rules: pure packages import no I/O frameworks; SQL takes bound values."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def python_files(*parts: str) -> list[Path]:
    return sorted((ROOT.joinpath(*parts)).rglob("*.py"))


def full_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_fusion_and_metrics_are_pure() -> None:
    for path in python_files("fusion") + python_files("auditor", "metrics"):
        assert not imports(path) & {"duckdb", "apscheduler", "streamlit", "dashboard"}, path
        outside = {
            name
            for name in full_imports(path)
            if name.startswith("auditor") and not name.startswith("auditor.metrics")
        }
        assert not outside, (path, outside)


def test_budget_computation_is_pure() -> None:
    """auditor/budget: arrays and Decimals in, frozen dataclasses out; reads metrics' types."""
    for path in python_files("auditor", "budget"):
        assert not imports(path) & {"duckdb", "apscheduler", "streamlit", "dashboard"}, path
        outside = {
            name
            for name in full_imports(path)
            if name.startswith("auditor")
            and not name.startswith(("auditor.budget", "auditor.metrics"))
        }
        assert not outside, (path, outside)


def test_only_the_store_imports_duckdb() -> None:
    for path in python_files("auditor") + python_files("dashboard"):
        if "store" not in path.relative_to(ROOT).parts:
            assert "duckdb" not in imports(path), path


def test_dependencies_flow_dashboard_to_auditor_to_fusion() -> None:
    for path in python_files("auditor"):
        assert "dashboard" not in imports(path), path


def test_no_sql_is_built_with_f_strings_at_execute() -> None:
    pattern = re.compile(r"\.(execute|executemany|sql)\(\s*f[\"']")
    for path in python_files("auditor") + python_files("dashboard") + python_files("fusion"):
        assert not pattern.search(path.read_text("utf-8")), path


def test_modules_stay_short() -> None:
    for path in python_files("auditor") + python_files("dashboard") + python_files("fusion"):
        assert len(path.read_text("utf-8").splitlines()) < 400, path


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "make test" in readme and "make demo" in readme
    assert re.search(r"^make test$", ci, re.MULTILINE)
