"""`car`: the Customer Analytics Record, one row per customer (car-jar.md §8).

Rebuilt whole on every refresh from the staged latest CRM extract (`stg_crm_customer`), `jar` and `as_of`, in
set-based SQL: no state is carried between refreshes, so the same inputs always give the same rows and a sliding
window or a finalised FCR verdict needs no incremental bookkeeping. `as_of` only places the behaviour window
`(as_of − W days, as_of]`; the grain, `last_contact_at` and the follow-up sessions of `repeat_contact_rate` read all
of `jar`, as the spec words them (and the CRM side is the latest extract anyway, not one as of `as_of`).

Only these `jar` columns are read: CUST_ID, ChannelType, device, is_outbound, SessionStartTime, SessionEndTime,
UniversalSessionId, JourneyStep, IsResolved, InteractionStartTime, IsTransferred, CSATScore, IsDigitalOffered,
IsDigitalAccepted, is_abandoned.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cc_reporting.staging.crm import CRM_TYPES, ensure_crm_table, q

_BEHAVIOUR_SEED = {"CommonChannels": "VARCHAR", "Device": "VARCHAR"}
# The 29 seed variables in seed order: CommonChannels and Device sit between OverallRevenue and Product 1.
_SEED_ORDER = (
    "Cust_ID", "Occupation", "Age", "MaritalStatus", "Ethnicity", "GrossAnnualIncome", "EmploymentType",
    "CountryName", "Region", "Tenure", "OverallRevenue", "CommonChannels", "Device", "Product 1", "Product 2",
    "Product 3", "HighRiskCustomer", "CustomerRestriction", "BranchNumber", "CustomerSegmentID",
    "GlobalCustomerID", "CustomerCountryRelationship", "VVIP", "PremierCustomer", "CommercialorPersonal",
    "IsDigitalEligible", "BranchVisits", "FinancialRiskCustomer", "NumberofTotalProducts",
)
SEED_TYPES = {c: _BEHAVIOUR_SEED.get(c) or CRM_TYPES[c] for c in _SEED_ORDER}
EXTRA_TYPES = {
    "in_crm": "BOOLEAN", "contacts_90d": "INTEGER", "sessions_90d": "INTEGER", "last_contact_at": "TIMESTAMP",
    "fcr_rate_90d": "DOUBLE", "avg_csat_90d": "DOUBLE", "digital_offer_accept_rate": "DOUBLE",
    "repeat_contact_rate": "DOUBLE", "abandoned_90d": "INTEGER",
}
CAR_TYPES = {**SEED_TYPES, **EXTRA_TYPES}
CAR_COLUMNS = tuple(CAR_TYPES)
# Left out of the BI export unless CC_CAR_EXPORT_SENSITIVE=true; the warehouse table keeps them.
SENSITIVE_COLUMNS = ("Age", "Ethnicity", "MaritalStatus", "GrossAnnualIncome")

CAR_DDL = (
    "CREATE TABLE IF NOT EXISTS car (\n    "
    + ",\n    ".join(f"{q(c)} {t}" + (" PRIMARY KEY" if c == "Cust_ID" else "") for c, t in CAR_TYPES.items())
    + "\n)"
)


def ensure_car_table(con) -> None:
    con.execute(CAR_DDL)


def car_export_columns(include_sensitive: bool) -> list[str]:
    """The CAR's columns for the BI export, in table order."""
    return [c for c in CAR_COLUMNS if include_sensitive or c not in SENSITIVE_COLUMNS]


# Window rows: SessionStartTime in ($window_start, $as_of]. IVR/VOICE rows are phone calls whatever `device`
# holds (jar already says PHONE there; restated so the Device rule cannot drift from the channel).
_WINDOW = """
win AS (
    SELECT "CUST_ID" AS cust, "ChannelType" AS channel,
           CASE WHEN "ChannelType" IN ('IVR', 'VOICE') THEN 'PHONE' ELSE device END AS dev,
           is_outbound, "SessionStartTime" AS started, "UniversalSessionId" AS usid, "IsResolved" AS resolved,
           ("InteractionStartTime" IS NOT NULL AND is_outbound = 0 AND "IsTransferred" IS NOT TRUE) AS fcr_eligible,
           "CSATScore" AS csat, "IsDigitalOffered" AS offered, "IsDigitalAccepted" AS accepted, is_abandoned
    FROM jar
    WHERE "CUST_ID" IS NOT NULL AND "SessionStartTime" > $window_start AND "SessionStartTime" <= $as_of
)"""

# Ratios divide by nullif(…, 0): an empty denominator gives null, never 0. The digital numerator counts accepted
# offers only (as kpis.md `digital_accepted`), so the rate stays within [0, 1] if an attribute says accepted
# without an offer.
_BEHAVIOUR = """
behaviour AS (
    SELECT cust,
           count(*) AS contacts,
           count(DISTINCT usid) AS sessions,
           count(*) FILTER (WHERE fcr_eligible AND resolved)::DOUBLE
               / nullif(count(*) FILTER (WHERE fcr_eligible AND resolved IS NOT NULL), 0) AS fcr_rate,
           avg(csat)::DOUBLE AS avg_csat,
           count(*) FILTER (WHERE offered AND accepted)::DOUBLE
               / nullif(count(*) FILTER (WHERE offered), 0) AS digital_rate,
           sum(is_abandoned) AS abandoned
    FROM win GROUP BY cust
),
channel_rank AS (  -- most used first, ties alphabetical; outbound rows say nothing about the customer's choice
    SELECT cust, channel,
           row_number() OVER (PARTITION BY cust ORDER BY count(*) DESC, channel) AS pos
    FROM win WHERE is_outbound = 0 AND channel IS NOT NULL
    GROUP BY cust, channel
),
channels AS (
    SELECT cust, string_agg(channel, ',' ORDER BY pos) AS common
    FROM channel_rank WHERE pos <= 3 GROUP BY cust
),
devices AS (  -- most frequent, ties to the most recently used; the name breaks an exact tie so reruns agree
    SELECT cust, dev
    FROM win WHERE is_outbound = 0 AND dev IS NOT NULL
    GROUP BY cust, dev
    QUALIFY row_number() OVER (PARTITION BY cust ORDER BY count(*) DESC, max(started) DESC, dev) = 1
)"""

# Universal sessions over all of jar (§4): a session belongs to every CUST_ID on its rows, spans its earliest start
# to its latest end, and is customer-started unless its JourneyStep 1 row is outbound. A window session repeats
# when another customer-started session of the customer starts in (its end, its end + N days], the FCR interval.
_REPEATS = """
universal AS (
    SELECT "UniversalSessionId" AS usid, min("SessionStartTime") AS started, max("SessionEndTime") AS ended
    FROM jar WHERE "UniversalSessionId" IS NOT NULL
    GROUP BY 1
    HAVING NOT coalesce(bool_or("JourneyStep" = 1 AND is_outbound = 1), false)
),
customer_sessions AS (
    SELECT DISTINCT j."CUST_ID" AS cust, u.usid, u.started, u.ended
    FROM jar j JOIN universal u ON u.usid = j."UniversalSessionId"
    WHERE j."CUST_ID" IS NOT NULL
),
window_sessions AS (
    SELECT s.cust, s.usid, count(n.usid) > 0 AS repeated
    FROM customer_sessions s
    LEFT JOIN customer_sessions n
           ON n.cust = s.cust AND n.usid <> s.usid
          AND n.started > s.ended AND n.started <= s.ended + to_days($fcr_days)
    WHERE s.started > $window_start AND s.started <= $as_of
    GROUP BY s.cust, s.usid
),
repeats AS (
    SELECT cust, count(*) FILTER (WHERE repeated)::DOUBLE / count(*) AS rate
    FROM window_sessions GROUP BY cust
)"""

_CUSTOMERS = """
history AS (
    SELECT "CUST_ID" AS cust, max("SessionStartTime") AS last_contact_at
    FROM jar WHERE "CUST_ID" IS NOT NULL GROUP BY 1
),
customers AS (
    SELECT "Cust_ID" AS cust FROM stg_crm_customer
    UNION
    SELECT cust FROM history
)"""


def _select_list() -> str:
    crm = lambda c: f"m.{q(c)}"  # noqa: E731
    seed = {c: crm(c) for c in _SEED_ORDER}
    seed.update({"Cust_ID": "k.cust", "CommonChannels": "ch.common", "Device": "dv.dev"})
    extra = {
        "in_crm": 'm."Cust_ID" IS NOT NULL',
        "contacts_90d": "coalesce(b.contacts, 0)",
        "sessions_90d": "coalesce(b.sessions, 0)",
        "last_contact_at": "h.last_contact_at",
        "fcr_rate_90d": "b.fcr_rate",
        "avg_csat_90d": "b.avg_csat",
        "digital_offer_accept_rate": "b.digital_rate",
        "repeat_contact_rate": "r.rate",
        "abandoned_90d": "coalesce(b.abandoned, 0)",
    }
    return ",\n       ".join(f"{expr} AS {q(c)}" for c, expr in {**seed, **extra}.items())


REFRESH_SQL = f"""
INSERT INTO car ({', '.join(q(c) for c in CAR_COLUMNS)})
WITH {_WINDOW.strip()},
{_BEHAVIOUR.strip()},
{_REPEATS.strip()},
{_CUSTOMERS.strip()}
SELECT {_select_list()}
FROM customers k
LEFT JOIN stg_crm_customer m ON m."Cust_ID" = k.cust
LEFT JOIN history h ON h.cust = k.cust
LEFT JOIN behaviour b ON b.cust = k.cust
LEFT JOIN channels ch ON ch.cust = k.cust
LEFT JOIN devices dv ON dv.cust = k.cust
LEFT JOIN repeats r ON r.cust = k.cust
ORDER BY k.cust
"""


def _utc_naive(moment: datetime) -> datetime:
    """jar timestamps are naive UTC (car-jar.md conventions); an aware as_of is converted, a naive one is UTC."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def refresh_car(con, settings, as_of: datetime) -> dict:
    """Replace `car` as of `as_of` (delete all, insert) in the caller's transaction; returns Dagster metadata."""
    ensure_crm_table(con)  # no extract landed yet: every jar customer is simply missing from the CRM
    ensure_car_table(con)
    window_days, fcr_days = int(settings.car_window_days), int(settings.fcr_days)
    as_of = _utc_naive(as_of)
    con.execute("DELETE FROM car")
    con.execute(REFRESH_SQL, {"as_of": as_of, "window_start": as_of - timedelta(days=window_days),
                              "fcr_days": fcr_days})
    customers, in_crm, active = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE in_crm), count(*) FILTER (WHERE contacts_90d > 0) FROM car"
    ).fetchone()
    return {"customers": customers, "in_crm": in_crm, "missing_from_crm": customers - in_crm,
            "customers_with_contacts_in_window": active, "as_of": as_of.isoformat(sep=" "),
            "window_days": window_days, "fcr_days": fcr_days}
