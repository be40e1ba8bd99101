-- One row per agent and 15-minute interval of the Teleopti agent performance (state time and direct contacts).
SELECT
    interval_start AS interval_start_utc,
    CAST(strptime(date, '%Y%m%d') AS DATE) AS report_date,
    CAST(time AS TIME) AS report_time,
    agent_id AS agent_username,
    agent_name,
    tot_work_dur AS online_s,
    pause_dur AS non_productive_s,
    avail_dur AS available_s,
    wait_dur AS idle_s,
    direct_out_call_cnt AS outbound_contacts,
    direct_out_call_dur AS outbound_talk_hold_s,
    direct_in_call_cnt AS direct_in_contacts,
    direct_in_call_dur AS direct_in_talk_hold_s,
    source AS time_source
FROM main.teleopti_agent_performance
