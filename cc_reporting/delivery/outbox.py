"""Deliver the Teleopti files a materialization wrote: SFTP when configured, else the outbox is the destination.

`files_undelivered` in the metadata is what the delivery retry sensor reads: 0 once every file reached its target."""
from __future__ import annotations

import dagster as dg

from cc_reporting.delivery.delivery_ledger import DeliveryFile, deliver
from cc_reporting.delivery.sftp import TeleoptiSftp
from cc_reporting.metadata import markdown_table


def deliver_written_files(con, written, sftp: TeleoptiSftp) -> dict:
    """Send what changed (the ledger skips identical content) and return Dagster metadata about it."""
    files = [DeliveryFile(w.interval_start, w.kind, w.path, w.remote_name) for w in written]
    report = deliver(con, sftp, files)
    sent = [[f.remote_name, f"{f.interval_start:%Y-%m-%d %H:%M}"] for f in report.sent]
    return {
        "delivery_destination": report.destination,
        "files_delivered": len(report.sent),
        "files_skipped_identical": len(report.skipped_identical),
        "files_undelivered": 0,
        "delivered": dg.MetadataValue.md(markdown_table(["file", "interval (UTC)"], sent[:50])),
    }


HELD = "held in the outbox (a check failed)"


def held_metadata(written) -> dict:
    """Metadata of a materialization whose files were written but not delivered: a gating check failed."""
    return {"delivery_destination": HELD, "files_delivered": 0, "files_skipped_identical": 0,
            "files_undelivered": len(written)}
