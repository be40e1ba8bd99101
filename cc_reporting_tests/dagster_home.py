"""A throwaway DAGSTER_HOME holding the project's own dagster.yaml, for tests that need a real instance.

The copy keeps every setting of the project's file (pools, run monitoring, run retries, launcher) and only moves
its storage paths into the temporary directory, so a test proves the configuration users actually run.
"""
from __future__ import annotations

from pathlib import Path

import dagster as dg
import yaml

PROJECT_DAGSTER_YAML = Path(__file__).resolve().parents[1] / "dagster.yaml"


def make_dagster_home(tmp_path: Path, source: Path = PROJECT_DAGSTER_YAML) -> Path:
    """A directory under `tmp_path` with a copy of `source` whose storage lives in that directory."""
    home = Path(tmp_path) / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load(source.read_text())
    storage_dir = str(home / "storage")
    config["storage"] = {"sqlite": {"base_dir": storage_dir}}
    if "local_artifact_storage" in config:
        config["local_artifact_storage"]["config"]["base_dir"] = storage_dir
    (home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return home


def instance_for(home: Path) -> dg.DagsterInstance:
    """The instance a daemon or `dagster` command would build with DAGSTER_HOME=`home` (not ephemeral)."""
    from dagster._core.instance import DagsterInstance

    return DagsterInstance.from_config(str(home))
