"""A warehouse writer that hangs while holding the `duckdb_writer` pool slot, for the run-monitoring test.

It stands in for any writer whose process is about to die (kill -9, OOM): the test kills its run worker.
"""
import time

import dagster as dg

from cc_reporting.resources.warehouse import WAREHOUSE_POOL


@dg.op(pool=WAREHOUSE_POOL)
def hang_holding_the_writer_slot():
    deadline = time.monotonic() + 300  # never outlive a test that forgot to kill it
    while time.monotonic() < deadline:
        time.sleep(0.2)


@dg.job(executor_def=dg.in_process_executor)
def stuck_writer_job():
    hang_holding_the_writer_slot()
