-- One row per queue and 15-minute interval.
SELECT
    timezone('UTC', interval_start) AS interval_start_utc,
    CAST(interval_start_local AS DATE) AS report_date,
    CAST(interval_start_local AS TIME) AS report_time,
    queue_id,
    queue_name,
    {queue_measures},
    on_contact_s, idle_s, occupancy,
    erlang_c_required_agents
FROM main.kpi_interval
