"""`cc-reporting run`: materialize the asset graph for a UTC window through Dagster, step by step."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime

import dagster as dg
from tqdm import tqdm

from cc_reporting.resources import build_resources
from cc_reporting.settings import load_settings
from cc_reporting.staging.assets import stg_agent_report, stg_ctr


@dataclass
class RunResult:
    success: bool = True
    steps: list[tuple[str, bool]] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def summary_text(self) -> str:
        settings = load_settings()
        lines = ["", "cc_reporting run " + ("succeeded" if self.success else "FAILED")]
        lines += [f"  ! {failure}" for failure in self.failures]
        lines.append(f"  warehouse   {settings.warehouse_path}")
        for table, rows in self.tables.items():
            lines.append(f"    {table:<28}{rows:>10,} rows")
        lines.append(f"  landing     {settings.landing_uri} (quarantine/ holds unreadable input)")
        lines.append("  Dagster UI  `dagster dev` in the repository root")
        return "\n".join(lines)


def _instance() -> dg.DagsterInstance:
    # With DAGSTER_HOME set the runs show up in `dagster dev`; otherwise they run in a throwaway instance.
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def _steps(start: datetime | None, end: datetime | None):
    """(label, assets, extra materialize kwargs) in dependency order."""
    yield "stage contact records", [stg_ctr], {}
    yield "stage agent reports", [stg_agent_report], {}


def table_counts(resources) -> dict[str, int]:
    with resources["warehouse"].connect() as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name"
        ).fetchall()]
        return {name: con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def run_window(start: datetime | None = None, end: datetime | None = None, progress: bool = False,
               resources: dict | None = None) -> RunResult:
    resources = resources or build_resources()
    result = RunResult()
    steps = list(_steps(start, end))
    with _instance() as instance:
        for label, assets, kwargs in tqdm(steps, desc="cc-reporting run", unit="step", disable=not progress):
            outcome = dg.materialize(assets, resources=resources, instance=instance, raise_on_error=False, **kwargs)
            result.steps.append((label, outcome.success))
            if not outcome.success:
                result.success = False
                result.failures.append(f"{label}: run {outcome.run_id} failed")
                break
    result.tables = table_counts(resources)
    return result
