"""Every staging table, created in one place (idempotent): assets downstream may run before any data landed."""
from cc_reporting.ingest.ledger import ensure_ledger
from cc_reporting.staging import agent_report_table, ctr_table
from cc_reporting.staging.channel_sessions import ensure_channel_session_table
from cc_reporting.staging.crm import ensure_crm_table
from cc_reporting.staging.instances import add_instance_column
from cc_reporting.staging.pii import install_pii_macros


def ensure_staging_tables(con, salt: str) -> None:
    ensure_ledger(con)
    for ddl in (ctr_table.STG_CTR_DDL, ctr_table.TOUCHED_DDL,
                agent_report_table.STG_AGENT_REPORT_DDL, agent_report_table.TOUCHED_DDL):
        con.execute(ddl)
    for table in ("stg_ctr", "stg_agent_report"):
        add_instance_column(con, table)
    ensure_channel_session_table(con)
    ensure_crm_table(con)
    install_pii_macros(con, salt)
