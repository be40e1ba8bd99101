-- One row per queue and local day (the queue rows of kpi_daily only: its channel rows count the same contacts again).
SELECT
    day AS report_date,
    queue_id,
    queue_name,
    {queue_measures},
    on_contact_s, idle_s, occupancy
FROM main.kpi_daily
WHERE grain = 'queue'
