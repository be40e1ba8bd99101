"""The `dg` project layout: `dg check defs` loads the code location from pyproject.toml's [tool.dg] settings, one
module per domain under cc_reporting/defs/ is loaded automatically, and `dagster dev`'s workspace.yaml still works."""
import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = {"ingest", "staging", "realtime", "teleopti", "analytics", "kpi", "connect_metrics", "archive",
           "command_line"}


def test_dg_check_defs_passes():
    dg = shutil.which("dg") or str(Path(sys.executable).with_name("dg"))
    done = subprocess.run([dg, "check", "defs"], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "All definitions loaded successfully" in done.stdout + done.stderr


def test_every_domain_has_a_defs_module_and_nothing_is_listed_by_hand():
    modules = {p.stem for p in (ROOT / "cc_reporting" / "defs").glob("*.py")} - {"__init__"}
    assert modules == DOMAINS
    for name in modules:
        assert hasattr(importlib.import_module(f"cc_reporting.defs.{name}"), "defs"), name
    # The code location is the defs folder plus the resources: no asset, job or sensor named in definitions.py.
    text = (ROOT / "cc_reporting" / "definitions.py").read_text()
    assert "load_defs(" in text and "assets=" not in text and "sensors=" not in text


def test_workspace_yaml_loads_the_same_code_location():
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    modules = [entry["python_module"] for entry in workspace["load_from"]]
    target = modules[0] if isinstance(modules[0], str) else modules[0]["module_name"]
    assert target == "cc_reporting.definitions"
