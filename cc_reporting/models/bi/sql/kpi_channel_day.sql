-- One row per ChannelType and local day (the channel rows of kpi_daily only).
SELECT
    day AS report_date,
    channel AS channel_type,
    {queue_measures},
    ivr_entered, ivr_rows, ivr_contained, digital_offered, digital_accepted,
    ivr_containment_rate, digital_offer_rate, digital_acceptance_rate
FROM main.kpi_daily
WHERE grain = 'channel'
