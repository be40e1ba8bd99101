"""Deliver the Teleopti files a materialization wrote: SFTP when configured, else the outbox is the destination."""
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
        "delivered": dg.MetadataValue.md(markdown_table(["file", "interval (UTC)"], sent[:50])),
    }
