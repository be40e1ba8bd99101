"""Amazon Connect's historical metrics under Connect's names, and their reconciliation with GetMetricDataV2."""
