"""A snapshot of the code location's definitions, so a change to the graph is a reviewed diff.

Asset keys with their group, partitions, dependencies, checks and description; jobs with their selection;
schedules and sensors with their target, default status and description. Compared by
`test_definitions_snapshot.py`; after a change to the graph that is meant, rewrite it and review the diff:

    python -m cc_reporting_tests.definitions_snapshot --write
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

SNAPSHOT = Path(__file__).with_name("golden") / "definitions.json"


def _partitions(partitions_def) -> str | None:
    if partitions_def is None:
        return None
    cron = getattr(partitions_def, "cron_schedule", None)
    zone = getattr(partitions_def, "timezone", None)
    return f"{type(partitions_def).__name__}({cron}, {zone})" if cron else type(partitions_def).__name__


def _job_assets(repository, job_name: str) -> list[str]:
    job = repository.get_job(job_name)
    return sorted(key.to_user_string() for key in job.asset_layer.executable_asset_keys)


def snapshot(defs=None) -> dict:
    if defs is None:
        from cc_reporting.definitions import defs
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kind": "external" if not node.is_materializable else "materializable",
            "partitions": _partitions(node.partitions_def),
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "checks": sorted(check.name for check in graph.get_check_keys_for_assets({key})),
            "description": node.description,
        }
    jobs = {job.name: {"description": job.description, "assets": _job_assets(repository, job.name)}
            for job in sorted(repository.get_all_jobs(), key=lambda j: j.name)
            if not job.name.startswith("__")}
    schedules = {s.name: {"cron": s.cron_schedule, "timezone": s.execution_timezone, "job": s.job_name,
                          "default_status": s.default_status.value, "description": s.description}
                 for s in sorted(repository.schedule_defs, key=lambda s: s.name)}
    sensors = {s.name: {"jobs": sorted(t.job_name for t in s.targets) if s.has_jobs else [],
                        "minimum_interval_seconds": s.minimum_interval_seconds,
                        "default_status": s.default_status.value, "description": s.description}
               for s in sorted(repository.sensor_defs, key=lambda s: s.name)}
    return {"assets": assets, "jobs": jobs, "schedules": schedules, "sensors": sensors}


def render(data: dict) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {SNAPSHOT.name}")
    args = parser.parse_args(argv)
    text = render(snapshot())
    if args.write:
        SNAPSHOT.write_text(text)
        print(f"wrote {SNAPSHOT}")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
