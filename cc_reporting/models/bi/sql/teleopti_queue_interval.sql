-- One row per queue and 15-minute interval of the Teleopti queue statistics, its fields named as in the KPI views
-- so the two join on (interval_start_utc, queue_id) and compare column by column.
SELECT
    interval_start AS interval_start_utc,
    CAST(strptime(date, '%Y%m%d') AS DATE) AS report_date,
    CAST(time AS TIME) AS report_time,
    queue AS queue_id,
    queue_name,
    offd_direct_call_cnt AS offered,
    overflow_in_call_cnt AS overflow_in,
    answ_call_cnt AS answered,
    aband_call_cnt AS abandoned,
    aband_short_call_cnt AS short_abandons,
    left_unanswered_cnt AS unanswered_transferred,
    overflow_out_call_cnt AS overflow_out,
    ans_servicelevel_cnt AS answered_within_sla,
    aband_within_sl_cnt AS abandoned_within_sla,
    queued_and_answ_call_dur AS queue_answered_s,
    queued_and_aband_call_dur AS queue_abandoned_s,
    queued_answ_longest_que_dur AS longest_queue_answered_s,
    queued_aband_longest_que_dur AS longest_queue_abandoned_s,
    talking_call_dur AS talk_hold_s,
    wrap_up_dur AS acw_s,
    avg_avail_member_cnt AS avg_agents_available,
    wait_dur AS idle_s,
    null_queue_duration_cnt AS queued_without_queue_time
FROM main.teleopti_queue_stats
