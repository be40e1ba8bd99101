"""`car`: the Customer Analytics Record, one row per customer (docs/analytics.md §6).

A refresh is a function of the staged latest CRM extract (`stg_crm_customer`), `jar` and `as_of`, in set-based
SQL. The first refresh, a new CRM extract, changed settings, a full JAR rebuild or an `as_of` that moves back rebuild
the table; otherwise only the customers whose row can differ are recomputed (the same SQL, scoped), which gives the
same table as a rebuild: customers of the JAR rows the JAR refresh replaced (it lists them in `car_pending`), and
customers of universal sessions with a row that entered or left the window since the last `as_of`. The cost then
follows what changed, not the history. `as_of` only places the behaviour window
`(as_of − W days, as_of]`; the grain, `last_contact_at` and the follow-up sessions of `repeat_contact_rate` read all
of `jar`, as the spec words them (and the CRM side is the latest extract anyway, not one as of `as_of`).

Only these `jar` columns are read: CUST_ID, ChannelType, device, is_outbound, SessionStartTime, SessionEndTime,
UniversalSessionId, JourneyStep, IsResolved, InteractionStartTime, IsTransferred, CSATScore, IsDigitalOffered,
IsDigitalAccepted, is_abandoned.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cc_reporting.models.analytics.follow_up import followed_sql
from cc_reporting.resources.warehouse import ids_in
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

# Customers the JAR refresh changed rows of, since the CAR last read them; `all_customers` after a full rebuild.
PENDING_DDL = "CREATE TABLE IF NOT EXISTS car_pending (cust VARCHAR, all_customers BOOLEAN NOT NULL)"
# What the table was last computed from: anything but jar rows and a later as_of changing forces a rebuild.
STATE_DDL = """
CREATE TABLE IF NOT EXISTS car_refresh_state (
    as_of TIMESTAMP NOT NULL, window_days INTEGER NOT NULL, fcr_days INTEGER NOT NULL, crm_version VARCHAR NOT NULL,
    refreshed_at TIMESTAMPTZ NOT NULL
)
"""


def ensure_car_table(con) -> None:
    for ddl in (CAR_DDL, PENDING_DDL, STATE_DDL):
        con.execute(ddl)


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
    FROM {rows}
    WHERE "CUST_ID" IS NOT NULL AND "SessionStartTime" > $window_start AND "SessionStartTime" <= $as_of
      AND {scope}
)"""

# Ratios divide by nullif(…, 0): an empty denominator gives null, never 0. The digital numerator counts accepted
# offers only (as docs/kpis.md §3 `digital_accepted`), so the rate stays within [0, 1] if an attribute says accepted
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
    FROM {session_rows} WHERE "UniversalSessionId" IS NOT NULL AND {session_scope}
    GROUP BY 1
    HAVING NOT coalesce(bool_or("JourneyStep" = 1 AND is_outbound = 1), false)
),
customer_sessions AS (
    SELECT DISTINCT j."CUST_ID" AS cust, u.usid, u.started, u.ended
    FROM {rows} j JOIN universal u ON u.usid = j."UniversalSessionId"
    WHERE j."CUST_ID" IS NOT NULL AND {scope}
),
window_sessions AS (
    SELECT cust, usid, ended FROM customer_sessions WHERE started > $window_start AND started <= $as_of
),
repeats AS (
    SELECT cust, count(*) FILTER (WHERE followed)::DOUBLE / count(*) AS rate
    FROM ({followed}) GROUP BY cust
)"""

_FOLLOWED = followed_sql("SELECT * FROM window_sessions",
                         "SELECT cust, usid, started AS start FROM customer_sessions", "to_days($fcr_days)")

_REPEATS_SQL = _REPEATS.strip().replace("{followed}", _FOLLOWED)

_CUSTOMERS = """
history AS (
    SELECT "CUST_ID" AS cust, max("SessionStartTime") AS last_contact_at
    FROM {rows} WHERE "CUST_ID" IS NOT NULL AND {scope} GROUP BY 1
),
customers AS (
    SELECT "Cust_ID" AS cust FROM stg_crm_customer WHERE {crm_scope}
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


_REFRESH_SQL = f"""
INSERT INTO car ({', '.join(q(c) for c in CAR_COLUMNS)})
WITH {_WINDOW.strip()},
{_BEHAVIOUR.strip()},
{_REPEATS_SQL},
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


_ALL = {"scope": "true", "session_scope": "true", "crm_scope": "true", "rows": "jar", "session_rows": "jar"}
# Scoped: the customers' rows and the rows of their universal sessions are read from jar once each (see
# _CANDIDATE_ROWS_SQL) into `_car_rows` and `_car_session_rows`.
_SCOPED = {"scope": "true", "session_scope": "true", "crm_scope": '"Cust_ID" IN (SELECT cust FROM _car_scope)',
           "rows": "_car_rows", "session_rows": "_car_session_rows"}
REFRESH_SQL = _REFRESH_SQL.format(**_ALL)  # every customer
SCOPED_REFRESH_SQL = _REFRESH_SQL.format(**_SCOPED)  # the customers in `_car_scope(cust)`
_ROW_COLUMNS = ('"CUST_ID", "ChannelType", device, is_outbound, "SessionStartTime", "UniversalSessionId", '
                '"IsResolved", "InteractionStartTime", "IsTransferred", "CSATScore", "IsDigitalOffered", '
                '"IsDigitalAccepted", is_abandoned')
# One scan of jar gives both the rows of the customers already known to change (pending or with a row that crossed
# a window edge) and the customers of the sessions that crossed; only customers found on those sessions alone
# (rare: someone else's row crossed) need a second scan for their rows.
_CANDIDATE_ROWS_SQL = f"""
CREATE OR REPLACE TEMP TABLE _car_candidates AS
SELECT {_ROW_COLUMNS}, "CUST_ID" IN (SELECT cust FROM _car_known) AS known FROM jar
WHERE "CUST_ID" IN (SELECT cust FROM _car_known) OR "UniversalSessionId" IN (SELECT usid FROM _car_moved)"""
_SCOPE_SQL = """
CREATE OR REPLACE TEMP TABLE _car_scope AS
SELECT cust FROM _car_known
UNION SELECT "CUST_ID" FROM _car_candidates
      WHERE "UniversalSessionId" IN (SELECT usid FROM _car_moved) AND "CUST_ID" IS NOT NULL"""
_ROWS_SQL = f"""
CREATE OR REPLACE TEMP TABLE _car_rows AS
SELECT * EXCLUDE (known) FROM _car_candidates WHERE known
UNION ALL
SELECT {_ROW_COLUMNS} FROM jar WHERE {{others}}"""
_SESSION_ROWS_SQL = (
    'CREATE OR REPLACE TEMP TABLE _car_session_rows AS '
    'SELECT "UniversalSessionId", "SessionStartTime", "SessionEndTime", "JourneyStep", is_outbound FROM jar '
    'WHERE "UniversalSessionId" IN (SELECT DISTINCT "UniversalSessionId" FROM _car_rows)')

# Customers on universal sessions with a row whose start crossed a window edge between the two as_of values.
_WINDOW_MOVED_SQL = """
CREATE OR REPLACE TEMP TABLE _car_moved AS
SELECT DISTINCT "UniversalSessionId" AS usid, "CUST_ID" AS cust FROM jar
WHERE ("SessionStartTime" > $old_start AND "SessionStartTime" <= $new_start)
   OR ("SessionStartTime" > $old_as_of AND "SessionStartTime" <= $as_of)
"""


def mark_car_pending(con, customers_sql: str | None) -> None:
    """Called by the JAR refresh in its transaction: the customers (a query of `cust`) whose rows it replaced, or
    None after a full rebuild."""
    con.execute(PENDING_DDL)
    if customers_sql is None:
        con.execute("INSERT INTO car_pending VALUES (NULL, true)")
    else:
        con.execute(f"INSERT INTO car_pending SELECT DISTINCT cust, false FROM ({customers_sql}) "
                    "WHERE cust IS NOT NULL")


def _crm_version(con) -> str:
    count, key, at = con.execute(
        "SELECT count(*), max(source_key), max(ingested_at)::VARCHAR FROM stg_crm_customer").fetchall()[0]
    return f"{count}|{key}|{at}"


def _rebuild_reason(con, state, as_of: datetime, window_days: int, fcr_days: int, crm_version: str) -> str | None:
    if state is None:
        return "first refresh"
    old_as_of, old_window, old_fcr, old_crm = state
    if (old_window, old_fcr) != (window_days, fcr_days):
        return "window or FCR days changed"
    if old_crm != crm_version:
        return "new CRM extract"
    if as_of < old_as_of:
        return "as_of moved back"
    if con.execute("SELECT count(*) FROM car_pending WHERE all_customers").fetchall()[0][0]:
        return "jar rebuilt"
    return None


def _utc_naive(moment: datetime) -> datetime:
    """jar timestamps are naive UTC (docs/analytics.md); an aware as_of is converted, a naive one is UTC."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def refresh_car(con, settings, as_of: datetime, *, full: bool = False) -> dict:
    """Bring `car` up to `as_of` in the caller's transaction (rebuild or scoped, see above); returns metadata."""
    ensure_crm_table(con)  # no extract landed yet: every jar customer is simply missing from the CRM
    ensure_car_table(con)
    window_days, fcr_days = int(settings.car_window_days), int(settings.fcr_days)
    as_of = _utc_naive(as_of)
    params = {"as_of": as_of, "window_start": as_of - timedelta(days=window_days), "fcr_days": fcr_days}
    crm_version = _crm_version(con)
    state = con.execute("SELECT as_of, window_days, fcr_days, crm_version FROM car_refresh_state").fetchall()
    reason = "requested" if full else _rebuild_reason(con, state[0] if state else None, as_of, window_days,
                                                      fcr_days, crm_version)
    if reason:
        con.execute("DELETE FROM car")
        con.execute(REFRESH_SQL, params)
        recomputed = None
    else:
        old_as_of = state[0][0]
        con.execute(_WINDOW_MOVED_SQL, {"old_as_of": old_as_of, "as_of": as_of,
                                        "old_start": old_as_of - timedelta(days=window_days),
                                        "new_start": params["window_start"]})
        con.execute("""CREATE OR REPLACE TEMP TABLE _car_known AS
                        SELECT cust FROM car_pending WHERE cust IS NOT NULL
                        UNION SELECT cust FROM _car_moved WHERE cust IS NOT NULL""")
        con.execute(_CANDIDATE_ROWS_SQL)
        con.execute(_SCOPE_SQL)
        others_sql = "SELECT cust FROM _car_scope EXCEPT SELECT cust FROM _car_known"
        others = [r[0] for r in con.execute(others_sql).fetchall()]
        con.execute(_ROWS_SQL.format(others=ids_in('"CUST_ID"', others, others_sql)))
        con.execute(_SESSION_ROWS_SQL)
        recomputed = con.execute("SELECT count(*) FROM _car_scope").fetchall()[0][0]
        scoped = [r[0] for r in con.execute("SELECT cust FROM _car_scope").fetchall()]
        con.execute(f'DELETE FROM car WHERE {ids_in(q("Cust_ID"), scoped, "SELECT cust FROM _car_scope")}')
        con.execute(SCOPED_REFRESH_SQL, params)
        for name in ("_car_scope", "_car_moved", "_car_known", "_car_candidates", "_car_rows", "_car_session_rows"):
            con.execute(f"DROP TABLE IF EXISTS temp.{name}")
    con.execute("DELETE FROM car_pending")
    con.execute("DELETE FROM car_refresh_state")
    con.execute("INSERT INTO car_refresh_state VALUES (?, ?, ?, ?, now())", [as_of, window_days, fcr_days, crm_version])
    customers, in_crm, active = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE in_crm), count(*) FILTER (WHERE contacts_90d > 0) FROM car"
    ).fetchone()
    return {"mode": "rebuild" if reason else "scoped", "rebuild_reason": reason,
            "customers_recomputed": customers if reason else recomputed,
            "customers": customers, "in_crm": in_crm, "missing_from_crm": customers - in_crm,
            "customers_with_contacts_in_window": active, "as_of": as_of.isoformat(sep=" "),
            "window_days": window_days, "fcr_days": fcr_days}
