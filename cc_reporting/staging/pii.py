"""Phone-number hashing (docs/analytics.md §2), installed as a DuckDB macro so staging hashes in SQL.

Normalise (keep a leading `+` and the digits), then lower-case hex SHA-256 of salt + normalised number.
"""


def install_pii_macros(con, salt: str) -> None:
    quoted = salt.replace("'", "''")  # the salt is inlined (macros take no bound parameters); never logged
    con.execute(
        """CREATE OR REPLACE TEMP MACRO normalize_phone(a) AS
           CASE WHEN a IS NULL OR trim(a) = '' THEN NULL
                ELSE (CASE WHEN starts_with(trim(a), '+') THEN '+' ELSE '' END)
                     || regexp_replace(a, '[^0-9]', '', 'g') END"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP MACRO hash_phone(a) AS
            CASE WHEN normalize_phone(a) IS NULL THEN NULL ELSE sha256('{quoted}' || normalize_phone(a)) END"""
    )
