"""No clear customer phone number and no secret leaves the landing zone.

A small simulated day runs end to end (module scope) with a persistent Dagster instance (so every event and its
metadata can be read back), with fake secrets planted in the environment and every byte the process writes to
stdout/stderr captured at the file-descriptor level. Then EVERY output is scanned: the warehouse (every VARCHAR,
JSON and list column of every table, plus an `EXPORT DATABASE` dump), Parquet exports (decoded), Teleopti files,
RTA outputs, the dashboard HTML, every other file written outside `landing/`, the Dagster event log (messages,
metadata values, run configs and tags) and the captured console output.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from cc_reporting.delivery.sftp import TeleoptiSftp
from cc_reporting.ingest.firehose import decode_ctr_object
from cc_reporting.pipeline import run_window
from cc_reporting.resources.landing import LandingZone
from cc_reporting.resources.warehouse import Warehouse
from cc_reporting.simulate import simulate

START = datetime(2026, 1, 5, 8, tzinfo=timezone.utc)
HOURS = 4
END = START + timedelta(hours=HOURS)

SECRETS = {
    "CC_TELEOPTI_SFTP_PASSWORD": "FAKE-sftp-pw-Zq8!x7Kd2",
    "CC_PII_SALT": "FAKE-pii-salt-Hw3Rt9Lm",
    "CC_RTA_PUSH_KEY": "FAKE-rta-key-Pp4Vb6Nc1",
}


def _env(base: Path) -> dict:
    return {"CC_DATA_DIR": str(base / "data"), "CC_LANDING_URI": str(base / "landing"),
            "CC_WAREHOUSE_PATH": str(base / "warehouse" / "cc.duckdb"), "CC_EXPORT_DIR": str(base / "exports"),
            "CC_TELEOPTI_OUTBOX": str(base / "outbox"), "CC_AGENT_EVENTS": str(base / "landing" / "agent-events"),
            "CC_RTA_DIR": str(base / "rta"), "DAGSTER_HOME": str(base / "dagster_home"), **SECRETS}


class _FdCapture:
    """Everything written to fds 1 and 2 (print, logging handlers, subprocesses, C code)."""

    def __enter__(self):
        self.file = tempfile.TemporaryFile()
        self.saved = [os.dup(1), os.dup(2)]
        for fd in (1, 2):
            os.dup2(self.file.fileno(), fd)
        return self

    def __exit__(self, *exc):
        for fd, saved in zip((1, 2), self.saved):
            os.dup2(saved, fd)
            os.close(saved)
        self.file.seek(0)
        self.text = self.file.read().decode("utf-8", "replace")
        self.file.close()


def _phones(landing: Path) -> set[str]:
    """Every clear customer number of the landing data: CTR CustomerEndpoint.Address and CRM PhoneNumber."""
    phones = set()
    for path in (landing / "ctr").rglob("*"):
        if path.is_file():
            for raw in decode_ctr_object(path.read_bytes()).records:
                address = ((json.loads(raw).get("CustomerEndpoint") or {}).get("Address"))
                if address:
                    phones.add(address)
    for path in (landing / "crm").rglob("*.csv"):
        for row in csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))):
            if row.get("PhoneNumber"):
                phones.add(row["PhoneNumber"])
    return phones


def _needles(phones: set[str]) -> set[str]:
    """The clear numbers as written, and as bare digits (a normalised copy is as clear as the original)."""
    out = set()
    for phone in phones:
        out.add(phone)
        digits = re.sub(r"[^0-9]", "", phone)
        if len(digits) >= 7:
            out.add(digits)
    return out


def _warehouse_texts(database: Path, dump_dir: Path) -> list[tuple[str, str]]:
    """(where, text) of every text-like cell of every table, and the files of an EXPORT DATABASE dump."""
    out = []
    con = duckdb.connect(str(database), read_only=True)
    try:
        columns = con.execute(
            """SELECT table_name, column_name FROM information_schema.columns
               WHERE table_schema = 'main' AND (data_type IN ('VARCHAR', 'JSON') OR data_type LIKE '%[]'
                                                OR data_type LIKE 'STRUCT%' OR data_type LIKE 'MAP%')""").fetchall()
        assert columns
        for table, column in columns:
            for (value,) in con.execute(f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{table}"').fetchall():
                if value is not None:
                    out.append((f"warehouse {table}.{column}", value))
        con.execute(f"EXPORT DATABASE '{dump_dir}' (FORMAT CSV)")
    finally:
        con.close()
    for path in dump_dir.rglob("*"):
        if path.is_file():
            out.append((f"warehouse dump {path.name}", path.read_text("utf-8", "replace")))
    return out


def _file_texts(base: Path) -> list[tuple[str, str]]:
    """Every file written outside landing/ (Parquet decoded to text; raw bytes of everything, too)."""
    out = []
    con = duckdb.connect()
    for path in sorted(base.rglob("*")):
        if not path.is_file() or (base / "landing") in path.parents or "warehouse_dump" in path.parts:
            continue
        raw = path.read_bytes()
        out.append((str(path.relative_to(base)), raw.decode("utf-8", "replace")))
        if path.suffix == ".parquet":
            rel = con.execute(f"SELECT * FROM read_parquet('{path}')")
            names = [d[0] for d in rel.description]
            text = "\n".join(" ".join(str(v) for v in row) for row in rel.fetchall())
            out.append((f"{path.relative_to(base)} (decoded)", " ".join(names) + "\n" + text))
    con.close()
    return out


def _dagster_texts(instance: dg.DagsterInstance) -> list[tuple[str, str]]:
    """Every run's config and tags and every event of every run (message, metadata values, check results)."""
    out = []
    runs = instance.get_runs()
    assert runs
    for run in runs:
        out.append((f"run {run.run_id} config/tags", json.dumps([run.run_config, run.tags], default=str)))
        for record in instance.all_logs(run.run_id):
            out.append((f"run {run.run_id} event", repr(record)))
            if record.message:
                out.append((f"run {run.run_id} message", record.message))
    return out


@pytest.fixture(scope="module")
def simulated_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("pii_day")
    (base / "dagster_home").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in _env(base).items():
            mp.setenv(name, value)
        landing = LandingZone(uri=str(base / "landing"))
        with _FdCapture() as captured:
            summary = simulate(START, HOURS, 4, 11, landing, str(base / "landing" / "agent-events"))
            resources = {"landing": landing, "warehouse": Warehouse(database=str(base / "warehouse" / "cc.duckdb")),
                         "teleopti_sftp": TeleoptiSftp.from_env()}
            result = run_window(START, END, resources=resources)
            print(result.summary_text())
        assert result.success, (result.failures, captured.text[-3000:])
        with dg.DagsterInstance.get() as instance:
            dagster_texts = _dagster_texts(instance)
    texts = [("console", captured.text), *dagster_texts]
    texts += _warehouse_texts(base / "warehouse" / "cc.duckdb", base / "warehouse_dump")
    texts += _file_texts(base)
    return summary, base, texts


def test_the_day_produced_every_kind_of_output(simulated_run):
    summary, base, texts = simulated_run
    assert summary.contacts > 0 and summary.crm_customers > 0
    for folder in ("outbox/queue_stats", "outbox/contacts", "exports/dashboard", "rta"):
        assert any((base / folder).rglob("*")), folder
    assert list((base / "exports").rglob("*.parquet"))
    assert any(where.startswith("warehouse stg_ctr.") for where, _ in texts)
    assert any(" event" in where for where, _ in texts)


def test_no_clear_customer_phone_number_outside_landing(simulated_run):
    _, base, texts = simulated_run
    phones = _phones(base / "landing")
    assert len(phones) > 50, "the simulated landing data must hold customer numbers to look for"
    needles = _needles(phones)
    pattern = re.compile("|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)))
    leaks = {}
    for where, text in texts:
        match = pattern.search(text)
        if match:
            leaks.setdefault(where, match.group(0))
    print(f"\nscanned {len(texts)} outputs ({sum(len(t) for _, t in texts):,} chars) for {len(phones)} numbers")
    assert not leaks, f"clear phone numbers outside landing/: {dict(list(leaks.items())[:20])}"


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_no_secret_in_any_output_log_or_metadata(simulated_run, name):
    _, _, texts = simulated_run
    secret = SECRETS[name]
    leaks = [where for where, text in texts if secret in text]
    assert not leaks, f"{name} appears in: {leaks[:20]}"


def test_the_salt_really_was_used(simulated_run):
    """Guard against a vacuous pass: staging hashed with the planted salt (so it was read, and still not leaked)."""
    import hashlib

    _, base, _ = simulated_run
    con = duckdb.connect(str(base / "warehouse" / "cc.duckdb"), read_only=True)
    try:
        hashes = {r[0] for r in con.execute(
            "SELECT customer_phone_hash FROM stg_ctr WHERE customer_phone_hash IS NOT NULL").fetchall()}
    finally:
        con.close()
    phones = _phones(base / "landing")

    def normalise(p):
        return ("+" if p.strip().startswith("+") else "") + re.sub(r"[^0-9]", "", p)
    expected = {hashlib.sha256((SECRETS["CC_PII_SALT"] + normalise(p)).encode()).hexdigest() for p in phones}
    assert hashes and hashes <= expected
