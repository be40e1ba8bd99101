"""Lint runs with the tests: ruff over the Python (line length 120, pyflakes, import order) and sqlfluff (DuckDB
dialect) over the SQL kept in .sql files, both configured in pyproject.toml; and no one-letter import alias."""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    return shutil.which(name) or str(Path(sys.executable).with_name(name))


def test_ruff_finds_nothing():
    done = subprocess.run([_tool("ruff"), "check", "--output-format", "concise", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_sqlfluff_finds_nothing_in_the_sql_files():
    sql_files = [p for p in (ROOT / "cc_reporting").rglob("*.sql")]
    assert sql_files, "the models keep their longer statements in .sql files"
    done = subprocess.run([_tool("sqlfluff"), "lint", "cc_reporting", "--format", "human"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_no_one_letter_import_alias():
    found = []
    for path in sorted([*(ROOT / "cc_reporting").rglob("*.py"), *(ROOT / "cc_reporting_tests").rglob("*.py"),
                        *(ROOT / "benchmarks").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found += [f"{path.relative_to(ROOT)}:{node.lineno} as {a.asname}" for a in node.names
                          if a.asname and len(a.asname) == 1]
    assert found == []
