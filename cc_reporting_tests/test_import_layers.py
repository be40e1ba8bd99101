"""Imports run one way: a module imports only from its own layer's package or from layers below it.

The layers, lowest first. A layer may import any lower layer; two packages of one layer do not import each other
(staging and archive both sit on ingest, neither knows the other). Read from the source with `ast`: nothing is run.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cc_reporting"

LAYERS = [
    {"settings", "metadata", "run_signals"},
    {"partitions", "run_summary", "delivery"},
    {"resources"},
    {"ingest"},
    {"realtime"},
    {"staging", "archive"},
    {"models"},
    {"pipeline", "defs", "run_launcher"},
    {"definitions"},
    {"simulate"},
    {"cli"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _unit(module_path: Path, package: Path = PACKAGE) -> str:
    """The layer unit of a file: its top-level package under cc_reporting, or the module's own name."""
    return module_path.relative_to(package).parts[0].removesuffix(".py")


def _imported_units(source: str):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cc_reporting."):
            yield node.module.split(".")[1], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module == "cc_reporting":
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("cc_reporting."):
                    yield alias.name.split(".")[1], node.lineno


def upward_imports(package: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        unit = _unit(path, package)
        if unit == "__init__":
            continue
        for imported, line in _imported_units(path.read_text()):
            if imported == unit:
                continue
            if imported not in RANK or unit not in RANK:
                found.append(f"{path.relative_to(package)}:{line} imports {imported}: a package of no layer")
            elif RANK[imported] >= RANK[unit]:
                found.append(f"{path.relative_to(package)}:{line} ({unit}) imports {imported}: not below it")
    return found


def test_every_package_has_a_layer():
    units = {_unit(p) for p in PACKAGE.rglob("*.py")} - {"__init__"}
    assert units <= set(RANK), f"add to LAYERS: {sorted(units - set(RANK))}"


def test_imports_run_down_the_layers_only():
    assert upward_imports() == []


def test_an_upward_import_is_found(tmp_path):
    """The check itself: a sensor module in ingest that imports staging (as ingest/sensors.py once did) is caught."""
    (tmp_path / "ingest").mkdir()
    (tmp_path / "ingest" / "sensors.py").write_text("from cc_reporting.staging.assets import stg_ctr\n")
    (tmp_path / "staging").mkdir()
    (tmp_path / "staging" / "assets.py").write_text("from cc_reporting.ingest.batch import ingest_objects\n")
    assert upward_imports(tmp_path) == ["ingest/sensors.py:1 (ingest) imports staging: not below it"]


@pytest.mark.parametrize("domain", ["realtime"])
def test_realtime_is_a_domain_of_its_own(domain):
    """The RTA state, publish, push, sensor, wallboard and the agent-state models live in one folder."""
    names = {p.name for p in (PACKAGE / domain).iterdir()}
    assert {"rta_state.py", "rta_publish.py", "rta_push.py", "rta_sensor.py", "wallboard.html",
            "state_log.py", "intervals.py", "assets.py"} <= names
    assert not (PACKAGE / "models" / "agent_state").exists()
    assert not list((PACKAGE / "ingest").glob("rta_*.py"))
