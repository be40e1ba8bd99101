"""teleopti-feed.md "Files" and "Contact-level file"."""
from datetime import timedelta

from cc_reporting.models.teleopti import files as teleopti_files
from cc_reporting.models.teleopti import interval_stats
from cc_reporting.models.teleopti.files import write_files

from .teleopti_legs import DAY, at, leg, stage


def test_number_format_integers_and_at_most_two_decimals_without_trailing_zeros():
    assert [teleopti_files.format_number(v) for v in (0, 0.0, 2.5, 3.25, 3.256, 7, 12.0, None)] == [
        "0", "0", "2.5", "3.25", "3.26", "7", "12", "0"]


def test_queue_file_has_no_header_semicolons_lf_all_21_fields_sorted(con, tmp_path):
    """Two queues in 09:00; rows sorted by queue id: 'a-queue' before 'b-queue'."""
    stage(con, leg("1", queue="b-queue", queue_name="B"), leg("2", queue="a-queue", queue_name="A", answered=False,
                                                               queue_duration=3))
    interval_stats.build_queue_stats(con, at("09:00:00"), at("09:15:00"), 20, 5, "UTC")
    written = write_files(con, teleopti_files.QUEUE_STATS, at("09:00:00"), at("09:15:00"), str(tmp_path))
    body = written[0].path.read_bytes()
    assert written[0].path == tmp_path / "queue_stats" / "queue_stats_20260105_0900.csv"
    assert b"\r" not in body and body.endswith(b"\n")
    lines = body.decode().splitlines()
    assert lines == [
        "15;20260105;09:00;a-queue;A;1;0;1;0;0;0;3;0;0;0;3;0;0;0;1;0",
        "15;20260105;09:00;b-queue;B;1;0;0;0;1;10;0;100;20;10;0;0;1;0;0;0",
    ]


def test_quiet_interval_still_gets_its_empty_file(con, tmp_path):
    stage(con)
    interval_stats.build_queue_stats(con, at("09:00:00"), at("10:00:00"), 20, 5, "UTC")
    written = write_files(con, teleopti_files.QUEUE_STATS, at("09:00:00"), at("10:00:00"), str(tmp_path))
    assert [w.path.name for w in written] == [f"queue_stats_20260105_{t}.csv" for t in ("0900", "0915", "0930", "0945")]
    assert all(w.path.read_bytes() == b"" for w in written)


def test_unchanged_content_is_not_rewritten_and_changed_content_is(con, tmp_path):
    stage(con, leg("1"))
    interval_stats.build_queue_stats(con, at("09:00:00"), at("09:15:00"), 20, 5, "UTC")
    assert write_files(con, teleopti_files.QUEUE_STATS, at("09:00:00"), at("09:15:00"), str(tmp_path))[0].changed
    assert not write_files(con, teleopti_files.QUEUE_STATS, at("09:00:00"), at("09:15:00"), str(tmp_path))[0].changed
    stage(con, leg("2"))
    interval_stats.build_queue_stats(con, at("09:00:00"), at("09:15:00"), 20, 5, "UTC")
    assert write_files(con, teleopti_files.QUEUE_STATS, at("09:00:00"), at("09:15:00"), str(tmp_path))[0].changed


def test_contact_file_has_the_16_columns_rfc4180_quoting_and_empty_nulls(con, tmp_path):
    """An abandoned leg (no agent: empty agent fields) whose queue name holds a comma and a quote."""
    stage(con, leg("c-1", answered=False, queue_name='Billing, "VIP"', queue_duration=12))
    interval_stats.build_contacts(con, at("09:00:00"), at("09:15:00"))
    body = write_files(con, teleopti_files.CONTACTS, at("09:00:00"), at("09:15:00"), str(tmp_path))[0].path.read_text()
    header, row = body.splitlines()
    assert header == ("Agent_ARN,Agent_AfterContactWorkDuration,Agent_AgentInteractionDuration,"
                      "Agent_CustomerHoldDuration,Agent_Username,Channel,ContactID,InitiationMethod,"
                      "InitiationTimestamp,Queue_ARN,Queue_Duration,Queue_EnqueueTimestamp,Queue_Name,"
                      "SystemEndpoint_Address,TransferCompletedTimestamp,TransferredToEndpoint")
    assert row == (',,,,,VOICE,c-1,INBOUND,2026-01-05T09:04:30Z,q-billing,12,2026-01-05T09:05:00Z,'
                   '"Billing, ""VIP""",+12065550100,,')
    assert "null" not in body and "undefined" not in body and "[object Object]" not in body


def test_contact_file_transferred_to_endpoint_holds_the_address(con, tmp_path):
    stage(con, leg("c-2", transfer_completed=True))
    interval_stats.build_contacts(con, at("09:00:00"), at("09:15:00"))
    row = write_files(con, teleopti_files.CONTACTS, at("09:00:00"), at("09:15:00"), str(tmp_path))[0].path.read_text()
    assert row.splitlines()[1].endswith(",2026-01-05T09:06:50Z,+18002430000")
    assert row.splitlines()[1].startswith("jane.doe-id,20,100,0,jane.doe,")


def test_dst_fall_back_day_has_100_intervals_and_no_file_is_lost_or_doubled(con, tmp_path):
    """Europe/Stockholm 2026-10-25: 25 local hours = 100 quarter-hours (UTC 2026-10-24 22:00 → 10-25 23:00).
    Local 02:00-03:00 occurs twice; file names are UTC so all 100 are distinct."""
    import datetime as dt
    start = dt.datetime(2026, 10, 24, 22, 0, tzinfo=dt.timezone.utc)
    end = dt.datetime(2026, 10, 25, 23, 0, tzinfo=dt.timezone.utc)
    stage(con)
    interval_stats.build_queue_stats(con, start, end, 20, 5, "Europe/Stockholm")
    written = write_files(con, teleopti_files.QUEUE_STATS, start, end, str(tmp_path))
    assert len(written) == 100 and len({w.path.name for w in written}) == 100
    local_times = con.execute(
        """SELECT strftime(timezone('Europe/Stockholm', t), '%H:%M') FROM
           generate_series(?::TIMESTAMPTZ, ?::TIMESTAMPTZ - INTERVAL 15 MINUTE, INTERVAL 15 MINUTE) g(t)""",
        [start, end]).fetchall()
    assert len(local_times) == 100 and local_times.count(("02:15",)) == 2


def test_file_date_time_fields_are_local_in_the_report_time_zone(con, tmp_path):
    stage(con, leg("1", enqueue="23:40:00"))
    interval_stats.build_queue_stats(con, at("23:30:00"), at("23:45:00"), 20, 5, "Europe/Stockholm")
    written = write_files(con, teleopti_files.QUEUE_STATS, at("23:30:00"), at("23:45:00"), str(tmp_path))
    assert written[0].path.name == "queue_stats_20260105_2330.csv"
    assert written[0].path.read_text().startswith("15;20260106;00:30;")
    assert DAY + timedelta(hours=23, minutes=30) == written[0].interval_start


def test_contact_row_lands_in_its_enqueue_interval_when_queued_else_its_initiation_interval(con):
    """Both legs start at 09:14:40 (30 s before their enqueue time, 09:15:10): the queued one belongs to 09:15,
    the one never queued to 09:00 — whichever window is built, and each in exactly one."""
    stage(con, leg("queued", enqueue="09:15:10"), leg("not-queued", enqueue="09:15:10", queued=False))
    rows = lambda: con.execute("SELECT ContactID, strftime(interval_start, '%H:%M') "  # noqa: E731
                               "FROM teleopti_contacts ORDER BY ALL").fetchall()
    interval_stats.build_contacts(con, at("09:00:00"), at("09:15:00"))
    assert rows() == [("not-queued", "09:00")]
    interval_stats.build_contacts(con, at("09:15:00"), at("09:30:00"))
    assert rows() == [("not-queued", "09:00"), ("queued", "09:15")]
