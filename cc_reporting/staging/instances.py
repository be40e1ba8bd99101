"""Which Amazon Connect instance a landing object belongs to: the one whose prefix (CC_CONNECT_INSTANCES) the
object's key starts with. Agent reports, chat and CRM files carry no instance of their own, so the landing prefix is
the one rule for every source; a CTR's own InstanceARN stays in `stg_ctr.instance_id`."""
from __future__ import annotations

from cc_reporting.settings import ConnectInstance, load_settings


def configured_instances() -> tuple[ConnectInstance, ...]:
    return load_settings().connect_instances


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def instance_sql(key_column: str, instances: tuple[ConnectInstance, ...] | None = None) -> str:
    """SQL naming the instance of the landing key in `key_column`: the instance with the longest prefix the key
    starts with (a root instance takes what no folder instance claims)."""
    instances = instances or configured_instances()
    if len(instances) == 1:
        return _literal(instances[0].name)
    folders = sorted((i for i in instances if i.prefix), key=lambda i: len(i.prefix), reverse=True)
    root = next((_literal(i.name) for i in instances if not i.prefix), "NULL")
    cases = " ".join(f"WHEN starts_with({key_column}, {_literal(i.prefix)}) THEN {_literal(i.name)}" for i in folders)
    return f"(CASE {cases} ELSE {root} END)"


def root_instance_name(instances: tuple[ConnectInstance, ...] | None = None) -> str:
    """The instance of rows staged before instances were configured: the root one's (they landed at the root)."""
    instances = instances or configured_instances()
    return next((i.name for i in instances if not i.prefix), instances[0].name)


def instance_listings(source_prefix: str, instances: tuple[ConnectInstance, ...] | None = None):
    """(instance, landing prefix to list) per instance for a source folder such as `ctr/`."""
    return [(i, i.prefix + source_prefix) for i in (instances or configured_instances())]


def have_instance_column(con, tables) -> bool:
    """Every one of `tables` (which exist) has `connect_instance`. Read from an empty result's columns, not the
    catalog views (~20 ms for information_schema.columns on every run of every asset that asks), and without an
    error that would abort the caller's transaction."""
    return all("connect_instance" in [d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description]
               for table in tables)


def add_instance_column(con, table: str) -> None:
    """A warehouse made before instances existed gets the column, its rows the root instance's name."""
    if not have_instance_column(con, [table]):
        con.execute(f"ALTER TABLE {table} ADD COLUMN connect_instance VARCHAR "
                    f"DEFAULT {_literal(root_instance_name())}")
