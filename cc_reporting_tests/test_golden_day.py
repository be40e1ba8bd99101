"""Results are sacred: the fixed simulated day (seed 1, 200 agents) gives the recorded outputs, file for file.

A change that is meant to change a number regenerates `golden/seed1_200_agents.json`
(`python -m cc_reporting_tests.golden_day --write`) and names the rule in its commit.
"""
import json

import pytest

from . import golden_day


def test_fixed_day_outputs_equal_the_golden_digests(tmp_path):
    with pytest.MonkeyPatch.context() as mp:
        for name, value in golden_day.day_env(tmp_path).items():
            mp.setenv(name, value)
        golden_day.run_day(tmp_path)
        actual = golden_day.digests(tmp_path)
    expected = json.loads(golden_day.GOLDEN.read_text())
    assert len(actual["teleopti_files"]) == 4 * 96 and actual["tables"]["stg_ctr"]["rows"] > 10_000
    assert golden_day.compare(expected, actual) == []


def test_golden_comparison_names_a_changed_file():
    expected = json.loads(golden_day.GOLDEN.read_text())
    changed = json.loads(json.dumps(expected))
    name = sorted(changed["teleopti_files"])[40]
    changed["teleopti_files"][name] = "0" * 64
    del changed["tables"]["stg_ctr"]
    assert golden_day.compare(expected, changed) == [
        f"teleopti_files: {name} differs: {expected['teleopti_files'][name]} != {'0' * 64}",
        "tables: stg_ctr missing"]
