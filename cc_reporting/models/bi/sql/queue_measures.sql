    queued, offered, overflow_in, answered, abandoned, short_abandons, unanswered_transferred,
    answered_within_sla, abandoned_within_sla, left_queue_within_sla, transferred_out, callback_requests,
    queue_answered_s, talk_s, hold_s, acw_s, fcr_eligible, fcr_resolved, fcr_provisional,
    csat_responses, csat_top2, csat_sum,
    service_level, service_level_connect, asa_s, aht_s, avg_talk_s, avg_hold_s, avg_acw_s,
    abandonment_rate, abandonment_rate_excl_short, transfer_rate, fcr_rate, csat_top2_rate, csat_mean,
    callback_rate
